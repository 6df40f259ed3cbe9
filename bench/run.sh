#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Skiff datastore benchmark, side by side with Debian's etcd (docs/benchmarks.md).
#
#   bench/run.sh [RESULTS_DIR]
#
# Builds etcd_bench, kv_history_bench and skiff in BUILD_DIR (default <repo>/build-bench, -j2),
# then for each target (Debian's `etcd`, `skiff server --etcd-listen`), each on a fresh data dir in
# a temp folder and free 127.0.0.1 ports:
#   1. idle RSS ~5 s after start, and the data dir size;
#   2. etcd_bench (all phases) with the server's PID and data dir;
#   3. `etcdctl check perf --load=L --auto-compact [--auto-defrag]` for each load, each on a fresh
#      server (--auto-defrag only if the endpoint answers Defragment), then probe Puts until the
#      server settled (background compaction);
# then kv_history_bench, and writes RESULTS_DIR/{etcd,skiff,...}/..., kv_history.json and
# summary.md (the side-by-side table, also printed). Everything it starts is stopped by PID on exit.
#
# Environment:
#   BUILD_DIR    meson build dir; created if missing with MESON_SETUP_ARGS (default
#                --buildtype=release -Dstatic_binary=true -Dtests=false: the shipped binary)
#   TARGETS      "etcd skiff skiff_normal" (skiff_normal: --datastore-sync normal, etcd_bench only;
#                also possible: skiff_etcd_only, bench/etcd_server = store + endpoint, no API server)
#   IDLE_TARGETS targets measured idle only (fresh start, RSS after 5 s): "skiff_etcd_only"
#   PERF_TARGETS targets that also get check perf: "etcd skiff"
#   LOADS        check perf loads: "s m l xl"; "" skips them
#   QUICK        1: small counts and load "s" only (a smoke run)
#   SKIP_KV      1 skips kv_history_bench
#   ETCD_BENCH_ARGS, KV_BENCH_ARGS   extra flags for the two programs
#   IDLE_ONLY    "NAME=/path/to/skiff ...": also the idle RSS of these binaries (other builds)
#   JOBS         ninja -j (default 2);  NO_BUILD=1 uses the binaries as they are
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build-bench}
OUT=${1:-$BUILD/bench-results/$(date +%Y%m%d-%H%M%S)}
TARGETS=${TARGETS:-etcd skiff skiff_normal}
PERF_TARGETS=${PERF_TARGETS:-etcd skiff}  # targets that also get `etcdctl check perf`
QUICK=${QUICK:-0}
JOBS=${JOBS:-2}
if [[ $QUICK == 1 ]]; then
  LOADS=${LOADS-s}
  ETCD_BENCH_ARGS="--n 2000 --txn-n 500 --watch-puts 300 --fanout-rounds 5 ${ETCD_BENCH_ARGS:-}"
  KV_BENCH_ARGS="--revisions 20000 --updates 10000 --seq-puts 300 --thread-puts 2000 ${KV_BENCH_ARGS:-}"
else
  LOADS=${LOADS-s m l xl}
fi
ETCD_BENCH_ARGS=${ETCD_BENCH_ARGS:-}
KV_BENCH_ARGS=${KV_BENCH_ARGS:-}
PYTHON=/usr/bin/python3  # Debian's, for free ports and the report (no third-party modules)
export ETCDCTL_API=3
# CPU time of etcdctl during check perf, if GNU time is installed (Debian package `time`).
TIMER=()
if [[ -x /usr/bin/time ]]; then
  TIMER=(/usr/bin/time -f "etcdctl cpu: user %U s, system %S s, wall %e s")
fi

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

TMP=$(mktemp -d /tmp/skiff-bench.XXXXXX)
STARTED=()  # PIDs this script started and has not stopped yet

stop_pid() {
  local pid=$1 i
  kill "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do  # up to 10 s, then SIGKILL
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local left=()
  for p in "${STARTED[@]}"; do [[ $p == "$pid" ]] || left+=("$p"); done
  STARTED=("${left[@]+"${left[@]}"}")
}

cleanup() {
  local rc=$?
  for pid in "${STARTED[@]+"${STARTED[@]}"}"; do stop_pid "$pid"; done
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1]); s.close()'
}

# ---- build

if [[ ! -f $BUILD/build.ninja ]]; then
  # The release binary as shipped (scripts/dev.sh server): optimised, static.
  # shellcheck disable=SC2086
  log "meson setup $BUILD ${MESON_SETUP_ARGS:=--buildtype=release -Dstatic_binary=true -Dtests=false}"
  # shellcheck disable=SC2086
  meson setup "$BUILD" "$ROOT" $MESON_SETUP_ARGS >/dev/null
fi
BUILD_TARGETS=(bench/etcd_bench)
[[ ${SKIP_KV:-0} == 1 ]] || BUILD_TARGETS+=(bench/kv_history_bench)
[[ " $TARGETS " != *" skiff"* ]] || BUILD_TARGETS+=(skiff bench/etcd_server)
if [[ ${NO_BUILD:-0} != 1 ]]; then
  log "building ${BUILD_TARGETS[*]} (-j$JOBS)"
  ninja -C "$BUILD" -j"$JOBS" "${BUILD_TARGETS[@]}" >/dev/null
fi
ETCD_BENCH=$BUILD/bench/etcd_bench
KV_BENCH=$BUILD/bench/kv_history_bench
SKIFF=$BUILD/skiff
ETCD_ONLY=$BUILD/bench/etcd_server

# ---- servers: start_<target> DATADIR LOGFILE sets SERVER_PID and SERVER_EP

start_etcd() {
  local data=$1 logf=$2 cport pport mport
  cport=$(free_port); pport=$(free_port); mport=$(free_port)
  etcd --name bench --data-dir "$data" \
    --listen-client-urls "http://127.0.0.1:$cport" --advertise-client-urls "http://127.0.0.1:$cport" \
    --listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
    --initial-cluster "bench=http://127.0.0.1:$pport" --initial-cluster-state new \
    --listen-metrics-urls "http://127.0.0.1:$mport" >"$logf" 2>&1 &
  SERVER_PID=$!
  STARTED+=("$SERVER_PID")
  SERVER_EP=127.0.0.1:$cport
}

# skiff server always runs its Kubernetes API server as well (there is no flag to turn it off): give
# it a free port on loopback and a kubeconfig path inside the data dir, and no local agent.
skiff_api_flags() {
  SKIFF_API_FLAGS=(--bind-address 127.0.0.1 --https-listen-port "$(free_port)"
    --write-kubeconfig "$1/kubeconfig.yaml" --disable-agent)
}

start_skiff() {
  local data=$1 logf=$2 port
  port=$(free_port)
  skiff_api_flags "$data"
  "$SKIFF" server --data-dir "$data" --etcd-listen "127.0.0.1:$port" --log-level warn \
    "${SKIFF_API_FLAGS[@]}" >"$logf" 2>&1 &
  SERVER_PID=$!
  STARTED+=("$SERVER_PID")
  SERVER_EP=127.0.0.1:$port
}

start_skiff_normal() {
  local data=$1 logf=$2 port
  port=$(free_port)
  skiff_api_flags "$data"
  "$SKIFF" server --data-dir "$data" --etcd-listen "127.0.0.1:$port" --log-level warn \
    --datastore-sync normal "${SKIFF_API_FLAGS[@]}" >"$logf" 2>&1 &
  SERVER_PID=$!
  STARTED+=("$SERVER_PID")
  SERVER_EP=127.0.0.1:$port
}

# The store and the etcd endpoint alone (bench/etcd_server.cpp: what skiff server sets up for them,
# without the API server).
start_skiff_etcd_only() {
  local data=$1 logf=$2 port
  port=$(free_port)
  "$ETCD_ONLY" "$data" "127.0.0.1:$port" >"$logf" 2>&1 &
  SERVER_PID=$!
  STARTED+=("$SERVER_PID")
  SERVER_EP=127.0.0.1:$port
}

# start TARGET NAME: fresh data dir TMP/TARGET-NAME; waits (<= 20 s) until the endpoint answers.
start() {
  local target=$1 name=$2 i
  SERVER_DATA=$TMP/$target-$name
  mkdir -p "$SERVER_DATA"
  "start_$target" "$SERVER_DATA/data" "$OUT/$target/$name.server.log"
  for ((i = 0; i < 200; i++)); do
    if etcdctl --endpoints="$SERVER_EP" --command-timeout=1s endpoint health >/dev/null 2>&1; then
      log "$target ($name) ready on $SERVER_EP, pid $SERVER_PID"
      return 0
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      log "$target exited; see $OUT/$target/$name.server.log"
      return 1
    fi
    sleep 0.1
  done
  log "$target did not become ready within 20 s"
  return 1
}

# rss_json PID DATADIR -> {"rss_kib", "hwm_kib", "data_dir_allocated_bytes", "data_dir_apparent_bytes"}
rss_json() {
  local pid=$1 data=$2 rss hwm alloc app
  rss=$(awk '/^VmRSS:/{print $2}' "/proc/$pid/status" 2>/dev/null || echo null)
  hwm=$(awk '/^VmHWM:/{print $2}' "/proc/$pid/status" 2>/dev/null || echo null)
  alloc=$(du -s -B1 "$data" 2>/dev/null | cut -f1 || echo null)
  app=$(du -s -b "$data" 2>/dev/null | cut -f1 || echo null)
  printf '{"rss_kib": %s, "hwm_kib": %s, ' "${rss:-null}" "${hwm:-null}"
  printf '"data_dir_allocated_bytes": %s, "data_dir_apparent_bytes": %s}\n' "${alloc:-null}" "${app:-null}"
}

cpu_seconds() {  # user + system CPU seconds of PID so far
  awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); print ($12 + $13) / hz}' "/proc/$1/stat" \
    2>/dev/null || echo 0
}

# ---- per target

run_target() {
  local target=$1
  mkdir -p "$OUT/$target"
  [[ $target == etcd ]] && etcd --version | head -1 >"$OUT/$target/version.txt"
  [[ $target == skiff* ]] && { "$SKIFF" --version 2>/dev/null || true; } >"$OUT/$target/version.txt"

  start "$target" bench || return 1
  sleep 5
  rss_json "$SERVER_PID" "$SERVER_DATA/data" >"$OUT/$target/idle.json"
  log "$target idle: $(cat "$OUT/$target/idle.json")"
  log "$target: etcd_bench"
  # shellcheck disable=SC2086
  timeout 1800 "$ETCD_BENCH" --endpoint "$SERVER_EP" --pid "$SERVER_PID" \
    --data-dir "$SERVER_DATA/data" --label "$target" --out "$OUT/$target/bench.json" \
    $ETCD_BENCH_ARGS >/dev/null 2>"$OUT/$target/bench.log" ||
    log "$target: etcd_bench failed (exit $?), see $OUT/$target/bench.log"
  rss_json "$SERVER_PID" "$SERVER_DATA/data" >"$OUT/$target/after_bench.json"
  stop_pid "$SERVER_PID"

  [[ " $PERF_TARGETS " == *" $target "* ]] || return 0
  for load in $LOADS; do
    start "$target" "perf-$load" || return 1
    local flags=(--auto-compact)
    if etcdctl --endpoints="$SERVER_EP" --command-timeout=30s defrag >/dev/null 2>&1; then
      flags+=(--auto-defrag)
    fi
    log "$target: etcdctl check perf --load=$load ${flags[*]}"
    local cpu0 cpu1
    cpu0=$(cpu_seconds "$SERVER_PID")
    {
      echo "# etcdctl check perf --load=$load ${flags[*]}"
      timeout 400 "${TIMER[@]}" etcdctl --endpoints="$SERVER_EP" check perf --load="$load" \
        "${flags[@]}" 2>&1 || echo "exit status $?"
      cpu1=$(cpu_seconds "$SERVER_PID")
      echo "server cpu: $(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN{printf "%.1f", b - a}') s"
    } >"$OUT/$target/checkperf-$load.txt"
    rss_json "$SERVER_PID" "$SERVER_DATA/data" >"$OUT/$target/checkperf-$load.json"
    # Compaction may finish in the background (skiff removes old rows in slices after Compact returns,
    # then vacuums). Every ~2 s: one probe Put (its latency shows whether writes are stalled), the
    # data dir size and the endpoint's dbSizeInUse (it falls while compaction deletes rows, when the
    # files do not shrink yet); settled once the probe is fast and both held for 3 samples
    # (<= 150 probes).
    local prev="" same=0 i size t0 t1 probe_ms worst_ms=0
    for ((i = 0; i < 150 && same < 3; i++)); do
      sleep 2
      t0=$(date +%s%N)
      etcdctl --endpoints="$SERVER_EP" --command-timeout=120s put /bench-settle/probe x \
        >/dev/null 2>&1 || true
      t1=$(date +%s%N)
      probe_ms=$(((t1 - t0) / 1000000))
      ((probe_ms > worst_ms)) && worst_ms=$probe_ms
      size=$(du -s -B1 "$SERVER_DATA/data" | cut -f1)
      size+=/$(etcdctl --endpoints="$SERVER_EP" --command-timeout=30s endpoint status -w json \
        2>/dev/null | grep -o '"dbSizeInUse":[0-9]*' || true)
      if [[ $size == "$prev" && $probe_ms -lt 500 ]]; then same=$((same + 1)); else same=0; fi
      prev=$size
    done
    echo "slowest probe put after check perf (etcdctl process included): $worst_ms ms" \
      >>"$OUT/$target/checkperf-$load.txt"
    rss_json "$SERVER_PID" "$SERVER_DATA/data" >"$OUT/$target/checkperf-$load-settled.json"
    grep -E '^(PASS|FAIL)' "$OUT/$target/checkperf-$load.txt" | tail -1 |
      sed "s/^/[bench] $target $load: /" >&2 || true
    stop_pid "$SERVER_PID"
    rm -rf "$SERVER_DATA"
  done
}

mkdir -p "$OUT"
{
  echo "date: $(date -Is)"
  echo "nproc: $(nproc)"
  echo "memory: $(awk '/^MemTotal:/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "cpu: $(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)"
  echo "kernel: $(uname -r)"
  echo "disk: $(df -h --output=source,fstype,size "$TMP" | tail -1)"
  echo "etcd: $(etcd --version | head -1)"
  echo "etcdctl: $(etcdctl version | head -1)"
  echo "skiff commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    "(worktree may be dirty)"
  echo "skiff build: $("$PYTHON" - "$BUILD" <<'PY'
import json, subprocess, sys
out = subprocess.run(["meson", "introspect", "--buildoptions", sys.argv[1]],
                     capture_output=True, text=True).stdout or "[]"
opts = {o["name"]: o["value"] for o in json.loads(out)}
print(f"buildtype={opts.get('buildtype')} static_binary={opts.get('static_binary')} "
      f"({sys.argv[1]})")
PY
)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  # The disk's floor for a durable write: 500 x 4 KiB O_DSYNC writes that grow a file, then the same
  # writes over the now allocated blocks (what a preallocated, rewound WAL gets).
  fsync_ms() {  # dd ARGS... -> milliseconds per write
    dd if=/dev/zero of="$TMP/fsync-probe" bs=4k count=500 oflag=dsync "$@" 2>&1 |
      awk '/copied/{for (i = 1; i <= NF; i++) if ($(i + 1) ~ /^s,?$/) printf "%.3f", $i * 1000 / 500}'
  }
  rm -f "$TMP/fsync-probe"
  echo "4 KiB O_DSYNC write: appending $(fsync_ms) ms, overwriting $(fsync_ms conv=notrunc) ms (dd)"
  rm -f "$TMP/fsync-probe"
} >"$OUT/machine.txt"

# Idle RSS only, for other builds of skiff (e.g. a dynamically linked debug build):
# IDLE_ONLY="NAME=/path/to/skiff ..." -> OUT/idle-NAME.json
for spec in ${IDLE_ONLY:-}; do
  name=${spec%%=*}
  bin=${spec#*=}
  mkdir -p "$TMP/idle-$name"
  port=$(free_port)
  skiff_api_flags "$TMP/idle-$name/data"
  "$bin" server --data-dir "$TMP/idle-$name/data" --etcd-listen "127.0.0.1:$port" --log-level warn \
    "${SKIFF_API_FLAGS[@]}" >"$OUT/idle-$name.log" 2>&1 &
  pid=$!
  STARTED+=("$pid")
  sleep 5
  rss_json "$pid" "$TMP/idle-$name/data" >"$OUT/idle-$name.json"
  log "idle $name ($bin): $(cat "$OUT/idle-$name.json")"
  stop_pid "$pid"
done

for target in ${IDLE_TARGETS-skiff_etcd_only}; do
  mkdir -p "$OUT/$target"
  if start "$target" idle; then
    sleep 5
    rss_json "$SERVER_PID" "$SERVER_DATA/data" >"$OUT/idle-$target.json"
    log "idle $target: $(cat "$OUT/idle-$target.json")"
    stop_pid "$SERVER_PID"
  fi
done

for target in $TARGETS; do
  run_target "$target" || log "$target: stopped early (see the logs in $OUT/$target)"
  for pid in "${STARTED[@]+"${STARTED[@]}"}"; do stop_pid "$pid"; done
done

if [[ ${SKIP_KV:-0} != 1 ]]; then
  log "kv_history_bench"
  # shellcheck disable=SC2086
  timeout 3600 "$KV_BENCH" --dir "$TMP/kv" --out "$OUT/kv_history.json" $KV_BENCH_ARGS >/dev/null \
    2>"$OUT/kv_history.log" || log "kv_history_bench failed (exit $?), see $OUT/kv_history.log"
fi

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"
"$PYTHON" "$ROOT/bench/report.py" "$OUT" >"$OUT/summary.md"
cat "$OUT/summary.md"
log "results in $OUT"
