#!/usr/bin/env bash
# The README's two commands:
#   scripts/dev.sh server [skiff server flags]   install deps, build, run `skiff server`
#   scripts/dev.sh test                          install deps, build, run the whole test suite
# The last line of `test` is "N passed, N failed" (from meson's testlog.json).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD_DIR:-build}

# setup_and_build DIR [meson options...]: configure once, then build (only the targets in $TARGETS if set).
setup_and_build() {
  local dir=$1
  shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@"
  fi
  ninja -C "$dir" -j "$(nproc)" ${TARGETS:-}
}

case "${1:-}" in
  server)
    shift
    scripts/install-deps.sh
    # The release binary: static, optimised, only the `skiff` target.
    TARGETS=skiff setup_and_build "${RELEASE_DIR:-build-release}" --buildtype=release \
      -Dstatic_binary=true -Dtests=false
    exec "${RELEASE_DIR:-build-release}/skiff" server "$@"
    ;;
  test)
    shift
    scripts/install-deps.sh --with-tests
    setup_and_build "$BUILD" --buildtype=debugoptimized
    status=0
    meson test -C "$BUILD" --print-errorlogs --num-processes 2 "$@" || status=$?
    python3 - "$BUILD/meson-logs/testlog.json" <<'PY'
import json, sys
import re
counts = {"passed": 0, "failed": 0, "skipped": 0}
failures = []
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    test = json.loads(line)
    r = test.get("result")
    if r in ("OK", "EXPECTEDFAIL"):
        counts["passed"] += 1
    elif r == "SKIP":
        counts["skipped"] += 1
    else:
        counts["failed"] += 1
        failures.append(test)
# The error logs above can be long (component logs); repeat each failed test's own report (its
# output without log lines) here, where a truncated CI excerpt still shows it.
log_line = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z (DEBUG|INFO|WARN|ERROR) ")
for test in failures:
    text = (test.get("stdout") or "") + (test.get("stderr") or "")
    report = [l for l in text.splitlines() if l.strip() and not log_line.match(l)]
    print(f"--- {test.get('name')}: {test.get('result')}, its report (last 60 lines):")
    print("\n".join(report[-60:]))
print(f"{counts['skipped']} skipped")
print(f"{counts['passed']} passed, {counts['failed']} failed")
PY
    exit $status
    ;;
  *)
    echo "usage: scripts/dev.sh server [flags] | test [meson test args]" >&2
    exit 2
    ;;
esac
