#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Skiff Kubernetes API benchmark (docs/benchmarks.md, "Kubernetes API").
#
#   bench/api_run.sh [RESULTS_DIR]
#
# Builds api_bench and skiff in BUILD_DIR (default <repo>/build-bench, -j2), then REPEAT times
# (default 3), each on a fresh data dir in a temp folder and a free 127.0.0.1 port:
#   1. starts `skiff server --disable-agent`, waits for /readyz, and records the idle RSS after
#      IDLE_WAIT seconds (VmRSS, VmHWM and the anonymous/file split of /proc/PID/smaps_rollup);
#   2. runs api_bench (PHASES, default create,get,get_gzip,list,steady,fanout) with the server's PID;
#   3. restarts the server on the same data dir (10,000 ConfigMaps and the rest) and records its idle
#      RSS, then the RSS after one full list;
#   4. on the first repeat only: real clients against that server, each KUBECTL_RUNS times
#      (default 5): kubectl get cm -A (Table, pages of 500), kubectl get cm -n bench -o json,
#      kubectl get --raw of the whole list, python3-kubernetes list_namespaced_config_map (with and
#      without model decoding); wall time, client CPU and server CPU per call.
# Meanwhile the load average is logged every 2 s (load.log). Then PROFILE (default callgrind when
# `perf stat -e instructions` does not work, else perf): one more server under the profiler, short
# phases, one profile per phase (profile/). Last comes bench/api_report.py: summary.md (medians over
# the repeats, the targets table). Everything this script starts is stopped by PID on exit.
#
# Environment:
#   BUILD_DIR    meson build dir; created if missing with MESON_SETUP_ARGS (default
#                --buildtype=release -Dstatic_binary=true -Dtests=false: the shipped binary)
#   REPEAT       fresh-server runs of api_bench (3)
#   PHASES       api_bench phases (create,get,get_gzip,list,steady,fanout)
#   API_BENCH_ARGS  extra api_bench flags (e.g. "--threads 2")
#   QUICK        1: small counts, REPEAT=1, KUBECTL_RUNS=1, no profile (a smoke run)
#   IDLE_WAIT    seconds between readiness and the idle RSS sample (5)
#   KUBECTL_RUNS repetitions of each real-client check (5); SKIP_CLIENTS=1 skips them
#   PROFILE      callgrind | perf | none (default: see above)
#   JOBS         ninja -j (default 2);  NO_BUILD=1 uses the binaries as they are
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build-bench}
OUT=${1:-$BUILD/api-results/$(date +%Y%m%d-%H%M%S)}
QUICK=${QUICK:-0}
JOBS=${JOBS:-2}
PHASES=${PHASES:-create,get,get_gzip,list,steady,fanout}
IDLE_WAIT=${IDLE_WAIT:-5}
API_BENCH_ARGS=${API_BENCH_ARGS:-}
if [[ $QUICK == 1 ]]; then
  REPEAT=${REPEAT:-1}
  KUBECTL_RUNS=${KUBECTL_RUNS:-1}
  PROFILE=${PROFILE:-none}
  API_BENCH_ARGS="--objects 2000 --get-n 5000 --list-runs 2 --steady-seconds 5 --watchers 100 \
--fanout-rounds 10 $API_BENCH_ARGS"
fi
REPEAT=${REPEAT:-3}
KUBECTL_RUNS=${KUBECTL_RUNS:-5}
if [[ -z ${PROFILE:-} ]]; then
  if perf stat -e instructions true 2>&1 | grep -q 'not supported'; then
    PROFILE=callgrind
  else
    PROFILE=perf
  fi
fi
PYTHON=/usr/bin/python3  # Debian's: free ports, the report, python3-kubernetes

log() { printf '[api-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

TMP=$(mktemp -d /tmp/skiff-api-bench.XXXXXX)
STARTED=()  # PIDs this script started and has not stopped yet

forget_pid() {
  local left=() p
  for p in "${STARTED[@]+"${STARTED[@]}"}"; do [[ $p == "$1" ]] || left+=("$p"); done
  STARTED=("${left[@]+"${left[@]}"}")
}

# stop_pid PID [GRACE_TENTHS]: SIGTERM, wait up to GRACE (default 10 s), then SIGKILL.
stop_pid() {
  local pid=$1 grace=${2:-100} i
  if kill "$pid" 2>/dev/null; then
    for ((i = 0; i < grace; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  forget_pid "$pid"
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
  # shellcheck disable=SC2086
  log "meson setup $BUILD ${MESON_SETUP_ARGS:=--buildtype=release -Dstatic_binary=true -Dtests=false}"
  # shellcheck disable=SC2086
  meson setup "$BUILD" "$ROOT" $MESON_SETUP_ARGS >/dev/null
fi
if [[ ${NO_BUILD:-0} != 1 ]]; then
  log "building bench/api_bench skiff (-j$JOBS)"
  ninja -C "$BUILD" -j"$JOBS" bench/api_bench skiff >/dev/null
fi
API_BENCH=$BUILD/bench/api_bench
SKIFF=$BUILD/skiff

# ---- server: start_server DATADIR LOGFILE [WRAPPER...] sets SERVER_PID, SERVER_PORT

start_server() {
  local data=$1 logf=$2
  shift 2
  SERVER_PORT=$(free_port)
  mkdir -p "$data"
  "$@" "$SKIFF" server --disable-agent --data-dir "$data" --bind-address 127.0.0.1 \
    --https-listen-port "$SERVER_PORT" --write-kubeconfig "$data/kubeconfig.yaml" \
    --log-level warn >"$logf" 2>&1 &
  SERVER_PID=$!
  STARTED+=("$SERVER_PID")
}

# wait_ready TENTHS: until /readyz answers ok (bounded).
wait_ready() {
  local tenths=$1 i
  for ((i = 0; i < tenths; i++)); do
    if curl -sk --max-time 2 "https://127.0.0.1:$SERVER_PORT/readyz" 2>/dev/null | grep -q ok; then
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { log "server exited"; return 1; }
    sleep 0.1
  done
  log "server not ready after $((tenths / 10)) s"
  return 1
}

# rss_json PID DATADIR -> VmRSS/VmHWM, the smaps_rollup split, CPU seconds, data dir bytes
rss_json() {
  local pid=$1 data=$2
  "$PYTHON" - "$pid" "$data" <<'PY'
import json, os, subprocess, sys
pid, data = sys.argv[1], sys.argv[2]
out = {}
def kib(path, keys):
    try:
        for line in open(path):
            k, _, v = line.partition(":")
            if k in keys:
                out[keys[k]] = int(v.split()[0])
    except OSError:
        pass
kib(f"/proc/{pid}/status", {"VmRSS": "rss_kib", "VmHWM": "hwm_kib", "RssAnon": "rss_anon_kib",
                            "RssFile": "rss_file_kib", "Threads": "threads"})
try:
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    out["cpu_s"] = (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
except OSError:
    pass
try:
    du = subprocess.run(["du", "-s", "-B1", data], capture_output=True, text=True).stdout
    out["data_dir_allocated_bytes"] = int(du.split()[0])
except (ValueError, IndexError):
    pass
print(json.dumps(out))
PY
}

cpu_seconds() {  # user + system CPU seconds of PID so far
  awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); print ($12 + $13) / hz}' "/proc/$1/stat" \
    2>/dev/null || echo 0
}

# ---- real clients: client_checks DATADIR OUTFILE (server running with the bench data)

time_client() {  # time_client NAME CMD...: one JSON line {name, wall_s, client_cpu_s, server_cpu_s, rc, lines}
  local name=$1
  shift
  local s0 s1 t0 t1 rc=0 tf="$TMP/time.$$"
  s0=$(cpu_seconds "$SERVER_PID")
  t0=$(date +%s%N)
  /usr/bin/time -f '%U %S' -o "$tf" timeout 300 "$@" >"$TMP/client.out" 2>"$TMP/client.err" || rc=$?
  t1=$(date +%s%N)
  s1=$(cpu_seconds "$SERVER_PID")
  "$PYTHON" - "$name" "$t0" "$t1" "$s0" "$s1" "$rc" "$tf" "$TMP/client.out" <<'PY'
import json, sys
name, t0, t1, s0, s1, rc, tf, outf = sys.argv[1:]
try:
    u, s = open(tf).read().split()[-2:]
    cpu = float(u) + float(s)
except (OSError, ValueError):
    cpu = None
lines = sum(1 for _ in open(outf, errors="replace"))
print(json.dumps({"name": name, "wall_s": (int(t1) - int(t0)) / 1e9, "client_cpu_s": cpu,
                  "server_cpu_s": float(s1) - float(s0), "rc": int(rc), "output_lines": lines}))
PY
}

client_checks() {
  local data=$1 out=$2 kc="$1/kubeconfig.yaml" i
  export KUBECONFIG=$kc
  : >"$out"
  kubectl version -o json >"$OUT/kubectl-version.json" 2>&1 || true
  for ((i = 0; i < KUBECTL_RUNS; i++)); do
    {
      time_client "kubectl get cm -A" kubectl get cm -A
      time_client "kubectl get cm -A --chunk-size=0" kubectl get cm -A --chunk-size=0
      time_client "kubectl get cm -n bench -o json" kubectl get cm -n bench -o json
      time_client "kubectl get --raw list" kubectl get --raw /api/v1/namespaces/bench/configmaps
      time_client "kubectl get cm cm-00000042 -o yaml" kubectl get cm -n bench cm-00000042 -o yaml
      time_client "python3-kubernetes list (models)" "$PYTHON" -c '
import kubernetes, sys
kubernetes.config.load_kube_config()
items = kubernetes.client.CoreV1Api().list_namespaced_config_map("bench").items
print("\n".join(i.metadata.name for i in items))'
      time_client "python3-kubernetes list (raw)" "$PYTHON" -c '
import json, kubernetes
kubernetes.config.load_kube_config()
r = kubernetes.client.CoreV1Api().list_namespaced_config_map("bench", _preload_content=False)
print("\n".join(i["metadata"]["name"] for i in json.loads(r.data)["items"]))'
    } >>"$out"
  done
  unset KUBECONFIG
}

# ---- profile: one server under callgrind or perf, one profile per phase

profile_run() {
  local kind=$1 dir="$OUT/profile" data="$TMP/profile/data" phase args
  mkdir -p "$dir"
  if [[ $kind == callgrind ]]; then
    # Each phase is measured between a zero (-z) and a dump (-d) of the counters.
    start_server "$data" "$dir/server.log" valgrind --tool=callgrind \
      --callgrind-out-file="$dir/callgrind.out.%p" --dump-instr=no --separate-threads=no
    wait_ready 1200 || return 1
  else
    start_server "$data" "$dir/server.log"
    wait_ready 200 || return 1
  fi
  local pid=$SERVER_PID
  log "profile ($kind): server pid $pid"
  # Short phases: callgrind runs the server ~50x slower.
  for phase in create get get_gzip list steady fanout; do
    case $phase in
      create) args=(--objects 1000 --concurrency 16) ;;
      get | get_gzip) args=(--objects 1000 --get-n 2000 --concurrency 16) ;;
      list) args=(--objects 1000 --list-runs 1) ;;
      steady) args=(--steady-rate 20 --steady-seconds 20 --steady-base 100) ;;
      fanout) args=(--watchers 200 --fanout-rounds 10) ;;
    esac
    if [[ $kind == callgrind ]]; then
      callgrind_control -z "$pid" >/dev/null 2>&1 || true
    else
      perf record -F 999 -g -o "$dir/perf-$phase.data" -p "$pid" >"$dir/perf-$phase.log" 2>&1 &
      local perf_pid=$!
      STARTED+=("$perf_pid")
    fi
    timeout 1800 "$API_BENCH" --port "$SERVER_PORT" --tls-dir "$data/server/tls" --pid "$pid" \
      --phases "$phase" --label "profile-$phase" --out "$dir/bench-$phase.json" "${args[@]}" \
      >/dev/null 2>"$dir/bench-$phase.log" || log "profile $phase: api_bench failed (exit $?)"
    if [[ $kind == callgrind ]]; then
      callgrind_control -d "$phase" "$pid" >/dev/null 2>&1 || log "callgrind dump failed"
    else
      kill -INT "$perf_pid" 2>/dev/null || true
      for ((i = 0; i < 100; i++)); do kill -0 "$perf_pid" 2>/dev/null || break; sleep 0.1; done
      stop_pid "$perf_pid"
      perf report -i "$dir/perf-$phase.data" --no-children --sort dso,sym --stdio 2>/dev/null |
        head -150 >"$dir/perf-$phase.txt" || true
    fi
  done
  stop_pid "$pid" 600
  if [[ $kind == callgrind ]]; then
    local f
    for f in "$dir"/callgrind.out.*; do
      [[ -f $f ]] || continue
      callgrind_annotate --inclusive=no "$f" 2>/dev/null | head -80 >"$f.self.txt" || true
      callgrind_annotate --inclusive=yes "$f" 2>/dev/null | head -120 >"$f.incl.txt" || true
    done
  fi
}

# ---- main

mkdir -p "$OUT"
{
  echo "date: $(date -Is)"
  echo "nproc: $(nproc)"
  echo "memory: $(awk '/^MemTotal:/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "cpu: $(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)"
  echo "kernel: $(uname -r)"
  echo "kubectl: $(kubectl version --client 2>/dev/null | head -1)"
  echo "skiff commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    "(worktree may be dirty)"
  echo "skiff build: $(meson introspect --buildoptions "$BUILD" 2>/dev/null | "$PYTHON" -c '
import json, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
print("buildtype=%s static_binary=%s" % (o.get("buildtype"), o.get("static_binary")))' || echo unknown)"
  echo "api_bench args: --phases $PHASES $API_BENCH_ARGS"
  echo "profile: $PROFILE"
  echo "uptime at start: $(uptime)"
} >"$OUT/machine.txt"

# The load on the box during the whole run (other builds share the two cores).
(while true; do echo "$(date +%H:%M:%S) $(cut -d' ' -f1-4 /proc/loadavg)"; sleep 2; done) \
  >"$OUT/load.log" 2>&1 &
LOAD_PID=$!
STARTED+=("$LOAD_PID")

for ((r = 1; r <= REPEAT; r++)); do
  run="$OUT/run$r"
  data="$TMP/run$r/data"
  mkdir -p "$run"
  start_server "$data" "$run/server.log"
  wait_ready 300 || { log "run $r: server did not start (see $run/server.log)"; continue; }
  log "run $r: server pid $SERVER_PID on port $SERVER_PORT"
  sleep "$IDLE_WAIT"
  rss_json "$SERVER_PID" "$data" >"$run/idle.json"
  log "run $r idle: $(cat "$run/idle.json")"
  echo "$(date +%H:%M:%S) run $r start: $(uptime)" >>"$OUT/uptime.log"
  # shellcheck disable=SC2086
  timeout 3600 "$API_BENCH" --port "$SERVER_PORT" --tls-dir "$data/server/tls" --pid "$SERVER_PID" \
    --data-dir "$data" --label "run$r" --phases "$PHASES" --out "$run/bench.json" $API_BENCH_ARGS \
    >/dev/null 2>"$run/bench.log" || log "run $r: api_bench failed (exit $?), see $run/bench.log"
  echo "$(date +%H:%M:%S) run $r end: $(uptime)" >>"$OUT/uptime.log"
  rss_json "$SERVER_PID" "$data" >"$run/after_bench.json"
  stop_pid "$SERVER_PID"

  # The same data, a fresh process: RSS of a server that holds the 10,000 objects.
  start_server "$data" "$run/server-restart.log"
  if wait_ready 300; then
    sleep "$IDLE_WAIT"
    rss_json "$SERVER_PID" "$data" >"$run/restart_idle.json"
    curl -sk --max-time 60 --cert "$data/server/tls/client-admin.crt" \
      --key "$data/server/tls/client-admin.key" \
      "https://127.0.0.1:$SERVER_PORT/api/v1/namespaces/bench/configmaps" -o /dev/null || true
    rss_json "$SERVER_PID" "$data" >"$run/restart_after_list.json"
    log "run $r restarted: idle $(cat "$run/restart_idle.json")"
    if [[ $r == 1 && ${SKIP_CLIENTS:-0} != 1 ]]; then
      log "real clients (x$KUBECTL_RUNS)"
      client_checks "$data" "$OUT/clients.jsonl"
    fi
  fi
  stop_pid "$SERVER_PID"
  rm -rf "$TMP/run$r"
done

if [[ $PROFILE != none ]]; then
  log "profile: $PROFILE"
  profile_run "$PROFILE" || log "profile run failed"
fi

stop_pid "$LOAD_PID"
"$PYTHON" "$ROOT/bench/api_report.py" "$OUT" >"$OUT/summary.md" || log "api_report.py failed"
cat "$OUT/summary.md"
log "results in $OUT"
