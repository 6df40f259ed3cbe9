#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Turns a bench/api_run.sh results folder into a markdown summary (stdout): the Kubernetes API
targets of issue 3 §9 with the median (and range) over the repeats, the per-run figures, the CPU
per request, the real-client checks and the profile totals. Standard library only.

usage: api_report.py RESULTS_DIR
"""
import glob
import json
import os
import re
import statistics
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def get(doc, *path):
    for p in path:
        if not isinstance(doc, dict) or p not in doc:
            return None
        doc = doc[p]
    return doc


def fmt(v, unit=""):
    if v is None:
        return "–"
    if isinstance(v, float):
        if abs(v) >= 100:
            s = f"{v:,.0f}"
        elif abs(v) >= 10:
            s = f"{v:.1f}"
        else:
            s = f"{v:.2f}"
    else:
        s = f"{v:,}" if isinstance(v, int) else str(v)
    return s + unit


def mb(kib):
    return None if kib is None else kib * 1024 / 1e6


def spread(values, unit="", scale=None):
    """'median (min–max)' of the non-missing values."""
    vals = [scale(v) if scale else v for v in values if v is not None]
    if not vals:
        return "–"
    med = statistics.median(vals)
    if len(vals) == 1:
        return fmt(float(med), unit)
    return f"{fmt(float(med), unit)} ({fmt(float(min(vals)))}–{fmt(float(max(vals)))})"


def median(values, scale=None):
    vals = [scale(v) if scale else v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def main(out):
    runs = sorted(glob.glob(os.path.join(out, "run*")), key=lambda p: int(re.sub(r"\D", "", p) or 0))
    benches = [load(os.path.join(r, "bench.json")) or {} for r in runs]
    idles = [load(os.path.join(r, "idle.json")) or {} for r in runs]
    after = [load(os.path.join(r, "after_bench.json")) or {} for r in runs]
    restart = [load(os.path.join(r, "restart_idle.json")) or {} for r in runs]
    restart_list = [load(os.path.join(r, "restart_after_list.json")) or {} for r in runs]

    def col(*path):
        return [get(b, "phases", *path) for b in benches]

    print(f"# Kubernetes API benchmark: {os.path.basename(os.path.normpath(out))}\n")
    try:
        print("```\n" + open(os.path.join(out, "machine.txt")).read().strip() + "\n```\n")
    except OSError:
        pass
    loads = []
    try:
        for line in open(os.path.join(out, "load.log")):
            parts = line.split()
            if len(parts) >= 2:
                loads.append(float(parts[1]))
    except (OSError, ValueError):
        pass
    if loads:
        print(f"Load average (1 min) during the run: median {statistics.median(loads):.1f}, "
              f"min {min(loads):.1f}, max {max(loads):.1f} ({len(loads)} samples, 2 cores).\n")
    print(f"{len(runs)} run(s); figures are the median over runs with (min–max).\n")

    objects = get(benches[0], "options", "objects") if benches else None
    create = col("create", "result", "ops_per_s")
    gets = col("get", "result", "ops_per_s")
    list_p50 = col("list", "full", "p50_ms")
    list_p99 = col("list", "full", "p99_ms")
    steady_p99 = col("steady", "mutating", "p99_ms")
    fan_p99 = col("fanout", "update_start_to_all", "p99_ms")
    idle_rss = [i.get("rss_kib") for i in idles]
    with_objects = col("create", "after", "process", "rss_kib")

    def met(values, ok):
        m = median(values)
        if m is None:
            return "–"
        return "**yes**" if ok(m) else "no"

    print("## Targets\n")
    print("| target | measured | met |")
    print("| --- | --- | --- |")
    print(f"| ConfigMap (2 KiB) creates/s at 64 concurrent ≥ 5,000 | {spread(create)} | "
          f"{met(create, lambda v: v >= 5000)} |")
    print(f"| gets/s ≥ 20,000 | {spread(gets)} (gzip: {spread(col('get_gzip', 'result', 'ops_per_s'))}) | "
          f"{met(gets, lambda v: v >= 20000)} |")
    print(f"| list of {fmt(objects)} ≤ 100 ms (p50 / p99) | {spread(list_p50, ' ms')} / "
          f"{spread(list_p99, ' ms')} | {met(list_p99, lambda v: v <= 100)} |")
    print(f"| mutating p99 at 200/s ≤ 20 ms | {spread(steady_p99, ' ms')} | "
          f"{met(steady_p99, lambda v: v <= 20)} |")
    print(f"| fan-out 1,000 watchers p99 ≤ 50 ms | {spread(fan_p99, ' ms')} | "
          f"{met(fan_p99, lambda v: v <= 50)} |")
    print(f"| idle RSS ≤ 25 MB | {spread(idle_rss, ' MB', mb)} | "
          f"{met(idle_rss, lambda v: mb(v) <= 25)} |")
    print(f"| RSS with {fmt(objects)} objects: after creating / fresh process / after one list | "
          f"{spread(with_objects, ' MB', mb)} / {spread([r.get('rss_kib') for r in restart], ' MB', mb)}"
          f" / {spread([r.get('rss_kib') for r in restart_list], ' MB', mb)} | (no target) |")
    print()

    print("## Details (median over runs)\n")
    print("| measure | value |")
    print("| --- | --- |")
    rows = [
        ("create: ops/s; p50 / p99 ms", [("create", "result", "ops_per_s")],
         [("create", "result", "p50_ms"), ("create", "result", "p99_ms")]),
        ("get: ops/s; p50 / p99 ms", [("get", "result", "ops_per_s")],
         [("get", "result", "p50_ms"), ("get", "result", "p99_ms")]),
        ("get with gzip: ops/s; p50 / p99 ms", [("get_gzip", "result", "ops_per_s")],
         [("get_gzip", "result", "p50_ms"), ("get_gzip", "result", "p99_ms")]),
    ]
    for label, head, rest in rows:
        h = spread(col(*head[0]))
        r = " / ".join(spread(col(*p)) for p in rest)
        print(f"| {label} | {h}; {r} |")
    for variant, label in [("full", "list, JSON"), ("full_gzip", "list, JSON + gzip"),
                           ("paged", "list in pages of 500 (total)"),
                           ("kubectl_all_namespaces_table", "kubectl get cm -A request (Table, pages of 500)"),
                           ("all_namespaces", "list all namespaces, JSON")]:
        print(f"| {label}: p50 / p99 ms; MB; items; server CPU ms per list | "
              f"{spread(col('list', variant, 'p50_ms'))} / {spread(col('list', variant, 'p99_ms'))}; "
              f"{spread(col('list', variant, 'response_bytes'), '', lambda b: b / 1e6)}; "
              f"{spread(col('list', variant, 'items'))}; "
              f"{spread(col('list', variant, 'cpu', 'server_us_per_op'), '', lambda u: u / 1000)} |")
    print(f"| steady 200/s: achieved rate; p50 / p99 / max ms (from schedule) | "
          f"{spread(col('steady', 'mutating', 'ops_per_s'))}; {spread(col('steady', 'mutating', 'p50_ms'))}"
          f" / {spread(steady_p99)} / {spread(col('steady', 'mutating', 'max_ms'))} |")
    print(f"| steady: p99 from send; client send lag p99 | "
          f"{spread(col('steady', 'mutating_from_send', 'p99_ms'))}; {spread(col('steady', 'send_lag', 'p99_ms'))} |")
    for verb in ["create", "update", "patch", "delete"]:
        print(f"| steady {verb}: p50 / p99 ms | {spread(col('steady', 'verbs', verb, 'from_schedule', 'p50_ms'))}"
              f" / {spread(col('steady', 'verbs', verb, 'from_schedule', 'p99_ms'))} |")
    print(f"| fan-out: update → all watchers p50 / p99 / max ms | "
          f"{spread(col('fanout', 'update_start_to_all', 'p50_ms'))} / {spread(fan_p99)} / "
          f"{spread(col('fanout', 'update_start_to_all', 'max_ms'))} |")
    print(f"| fan-out: update → first watcher p50; update ack p50 ms | "
          f"{spread(col('fanout', 'update_start_to_first', 'p50_ms'))}; "
          f"{spread(col('fanout', 'update', 'p50_ms'))} |")
    print(f"| fan-out: opening {fmt(get(benches[0], 'options', 'watchers') if benches else None)} watches (ms); "
          f"failed; incomplete rounds | {spread(col('fanout', 'setup_ms'))}; "
          f"{spread(col('fanout', 'watchers_failed'))}; {spread(col('fanout', 'rounds_incomplete'))} |")
    print(f"| RSS after the whole bench / peak (MB) | {spread([a.get('rss_kib') for a in after], '', mb)} / "
          f"{spread([a.get('hwm_kib') for a in after], '', mb)} |")
    print(f"| idle RSS anonymous / file-backed (MB) | {spread([i.get('rss_anon_kib') for i in idles], '', mb)} / "
          f"{spread([i.get('rss_file_kib') for i in idles], '', mb)} |")
    print(f"| fresh process with the objects: anonymous / file-backed (MB) | "
          f"{spread([r.get('rss_anon_kib') for r in restart], '', mb)} / "
          f"{spread([r.get('rss_file_kib') for r in restart], '', mb)} |")
    print(f"| data dir after the bench (MB) | "
          f"{spread([a.get('data_dir_allocated_bytes') for a in after], '', lambda b: b / 1e6)} |")
    print()

    print("## CPU per request (µs; server / client)\n")
    print("| phase | server | client |")
    print("| --- | --- | --- |")
    for phase, label in [("create", "create"), ("get", "get"), ("get_gzip", "get, gzip"),
                         ("steady", "steady mutating mix"), ("fanout", "fan-out, per update (all watchers)")]:
        print(f"| {label} | {spread(col(phase, 'cpu', 'server_us_per_op'))} | "
              f"{spread(col(phase, 'cpu', 'client_us_per_op'))} |")
    print()
    threads = {}
    for b in benches:
        for t in get(b, "phases", "create", "cpu", "server_threads") or []:
            threads.setdefault(t["tid"], []).append(t)
    if benches and get(benches[0], "phases", "create", "cpu", "server_threads"):
        print("Server threads during create (run 1; CPU s): " + ", ".join(
            f"{t['comm']}[{t['tid']}] {t['cpu_s']:.2f}"
            for t in sorted(get(benches[0], "phases", "create", "cpu", "server_threads"),
                            key=lambda t: -t["cpu_s"])) + "\n")

    clients = []
    try:
        for line in open(os.path.join(out, "clients.jsonl")):
            line = line.strip()
            if line:
                clients.append(json.loads(line))
    except (OSError, ValueError):
        pass
    if clients:
        print("## Real clients (against the server holding the bench data; median of runs)\n")
        print("| command | wall s | client CPU s | server CPU s | output lines | failed runs |")
        print("| --- | --- | --- | --- | --- | --- |")
        names = []
        for c in clients:
            if c["name"] not in names:
                names.append(c["name"])
        for n in names:
            cs = [c for c in clients if c["name"] == n]
            print(f"| `{n}` | {spread([c['wall_s'] for c in cs])} | {spread([c['client_cpu_s'] for c in cs])} | "
                  f"{spread([c['server_cpu_s'] for c in cs])} | {spread([c['output_lines'] for c in cs])} | "
                  f"{sum(1 for c in cs if c['rc'] != 0)} |")
        print()

    prof = os.path.join(out, "profile")
    dumps = sorted(glob.glob(os.path.join(prof, "callgrind.out.*")))
    dumps = [d for d in dumps if not d.endswith(".txt")]
    if dumps:
        print("## Instructions per request (callgrind, short phases)\n")
        print("| phase | requests | instructions (Ir) | Ir per request |")
        print("| --- | --- | --- | --- |")
        for d in dumps:
            trigger, total = None, None
            try:
                for line in open(d, errors="replace"):
                    if line.startswith("desc: Trigger:"):
                        trigger = line.split(":", 2)[2].strip()
                    elif line.startswith("summary:") or line.startswith("totals:"):
                        total = int(line.split()[1])
                        break
            except OSError:
                continue
            phase = (trigger or "").split()[-1] if trigger else "?"
            b = load(os.path.join(prof, f"bench-{phase}.json"))
            ops = None
            if b:
                p = get(b, "phases", phase) or {}
                ops = (get(p, "result", "n") or get(p, "requests") or get(p, "rounds"))
                if phase == "list":
                    ops = sum((get(p, v, "n") or 0) for v in
                              ["full", "full_gzip", "paged", "kubectl_all_namespaces_table",
                               "all_namespaces"]) + 1
            per = total / ops if total and ops else None
            print(f"| {phase} ({os.path.basename(d)}) | {fmt(ops)} | {fmt(total)} | {fmt(per)} |")
        print()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
