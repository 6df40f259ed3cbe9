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
counts = {"passed": 0, "failed": 0, "skipped": 0}
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    r = json.loads(line).get("result")
    if r in ("OK", "EXPECTEDFAIL"):
        counts["passed"] += 1
    elif r == "SKIP":
        counts["skipped"] += 1
    else:
        counts["failed"] += 1
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
