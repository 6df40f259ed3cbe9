#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Turns a bench/run.sh results folder into a markdown summary (stdout): etcd and skiff side by side,
with the targets of docs/benchmarks.md. Standard library only (Debian's /usr/bin/python3).

usage: report.py RESULTS_DIR
"""
import json
import os
import re
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


def kib_to_mb(kib):
    return None if kib is None else kib * 1024 / 1e6


def bytes_to_mb(b):
    return None if b is None else b / 1e6


def check_perf(path):
    """(verdict, writes/s, slowest s, stddev s) from an `etcdctl check perf` transcript."""
    try:
        text = open(path).read()
    except OSError:
        return None
    # PASS lines read "Throughput is N writes/s", FAIL lines "Throughput too low: N writes/s" (likewise
    # "Slowest request took [too long: ]Xs", "Stddev is|too high: Xs").
    thr = re.search(r"Throughput (?:is|too low:) (\d+) writes/s", text)
    slow = re.search(r"Slowest request took (?:too long: )?([\d.]+)s", text)
    std = re.search(r"Stddev (?:is|too high:) ([\d.]+)s", text)
    verdict = None
    for line in text.splitlines():
        if line.strip() in ("PASS", "FAIL"):
            verdict = line.strip()
    if verdict is None:
        last = [l for l in text.splitlines() if l.strip()]
        verdict = "ERROR: " + (last[-1][:80] if last else "no output")
    client = re.search(r"etcdctl cpu: user ([\d.]+) s, system ([\d.]+) s, wall ([\d.]+) s", text)
    server = re.search(r"server cpu: ([\d.]+) s", text)
    probe = re.search(r"slowest probe put after check perf \(etcdctl process included\): (\d+) ms", text)
    cpu = None
    if client and server:
        cpu = (float(client.group(1)) + float(client.group(2)), float(server.group(1)), float(client.group(3)))
    return (verdict, int(thr.group(1)) if thr else None, float(slow.group(1)) if slow else None,
            float(std.group(1)) if std else None, cpu, int(probe.group(1)) if probe else None)


def main():
    out = sys.argv[1]
    targets = ["etcd", "skiff"]
    # Optional: skiff with --datastore-sync normal (etcd_bench only), shown in two extra columns.
    extra = [t for t in ("skiff_normal",) if os.path.isdir(os.path.join(out, t))]
    every = targets + extra
    bench = {t: load(os.path.join(out, t, "bench.json")) for t in every}
    idle = {t: load(os.path.join(out, t, "idle.json")) for t in every}
    after = {t: load(os.path.join(out, t, "after_bench.json")) for t in every}
    kvh = load(os.path.join(out, "kv_history.json"))

    lines = []
    w = lines.append
    w(f"# Skiff datastore benchmark: {os.path.basename(os.path.abspath(out))}")
    w("")
    try:
        w("```")
        w(open(os.path.join(out, "machine.txt")).read().rstrip())
        w("```")
    except OSError:
        pass
    w("")
    w("Same client (etcd_bench), same machine, one server after the other, each on a fresh data dir.")
    w("")
    head = "| measure | etcd | skiff | skiff / etcd | target | met |"
    rule = "| --- | --- | --- | --- | --- | --- |"
    if extra:
        head += " skiff, sync normal | normal / etcd |"
        rule += " --- | --- |"
    w(head)
    w(rule)

    def ratio_text(e, s):
        if isinstance(e, (int, float)) and isinstance(s, (int, float)) and e:
            return f"{s / e:.2f}×"
        return ""

    def row(name, value, unit="", target="", check=None, ratio=True, targets_for_check=("skiff",)):
        """`value(t)` gives target t's figure."""
        e, s = value("etcd"), value("skiff")
        met = ""
        if check is not None and s is not None:
            met = "yes" if check(e, s) else "**no**"
        line = f"| {name} | {fmt(e, unit)} | {fmt(s, unit)} | {ratio_text(e, s) if ratio else ''} | {target} | {met} |"
        for t in extra:
            x = value(t)
            line += f" {fmt(x, unit)} | {ratio_text(e, x) if ratio else ''} |"
        w(line)

    def pair(name, first, second):
        """Two figures per cell, e.g. p50 / p99."""
        cells = {t: (first(t), second(t)) for t in every}
        line = f"| {name} | {fmt(cells['etcd'][0])} / {fmt(cells['etcd'][1])} | "
        line += f"{fmt(cells['skiff'][0])} / {fmt(cells['skiff'][1])} | {ratio_text(cells['etcd'][0], cells['skiff'][0])} | | |"
        for t in extra:
            line += f" {fmt(cells[t][0])} / {fmt(cells[t][1])} | {ratio_text(cells['etcd'][0], cells[t][0])} |"
        w(line)

    def b(*path):
        return lambda t: get(bench[t], *path)

    two_x = lambda e, s: e is not None and s >= 2 * e  # noqa: E731

    def cpu_per_op(t, phase, who, ops_path):
        """CPU µs per operation of `phase`: `who` is "server" or "client"."""
        phases = get(bench[t], "phases") or {}
        names = list(phases)
        if phase not in names:
            return None
        i = names.index(phase)
        before = get(phases, names[i - 1], "after") if i > 0 else get(bench[t], "before")
        now = get(phases, phase, "after")
        key = ("process", "cpu_s") if who == "server" else ("client_cpu_s",)
        a, c = get(before, *key), get(now, *key)
        ops = sum(get(phases, phase, *p) or 0 for p in ops_path)
        if a is None or c is None or not ops:
            return None
        return (c - a) / ops * 1e6

    row("idle RSS, ~5 s after start (MB)", lambda t: kib_to_mb(get(idle[t], "rss_kib")), target="skiff ≤ 10 MB",
        check=lambda e, s: s <= 10)
    for f in sorted(os.listdir(out)):
        m = re.fullmatch(r"idle-(.+)\.json", f)
        if m:
            v = kib_to_mb(get(load(os.path.join(out, f)), "rss_kib"))
            w(f"| idle RSS of skiff build `{m.group(1)}` (MB) | | {fmt(v)} | | skiff ≤ 10 MB | "
              f"{'yes' if v is not None and v <= 10 else '**no**'} |" + (" | |" if extra else ""))
    row("fresh data dir, allocated (MB)", lambda t: bytes_to_mb(get(idle[t], "data_dir_allocated_bytes")))
    row("sequential Put, 1 KiB (ops/s)", b("phases", "seqput", "ops_per_s"), target="≥ 2× etcd", check=two_x)
    pair("… p50 / p99 (ms)", b("phases", "seqput", "p50_ms"), b("phases", "seqput", "p99_ms"))
    pair("… p90 / max (ms)", b("phases", "seqput", "p90_ms"), b("phases", "seqput", "max_ms"))
    row("Put, 64 in flight (ops/s)", b("phases", "pipeput", "ops_per_s"), target="≥ 2× etcd", check=two_x)
    pair("… p50 / p99 (ms)", b("phases", "pipeput", "p50_ms"), b("phases", "pipeput", "p99_ms"))
    for phase, label in (("txncreate", "create Txn"), ("txncas", "CAS update Txn")):
        row(f"{label}, sequential (ops/s)", b("phases", phase, "sequential", "ops_per_s"), target="≥ 2× etcd",
            check=two_x)
        pair("… p50 / p99 (ms)", b("phases", phase, "sequential", "p50_ms"), b("phases", phase, "sequential", "p99_ms"))
        row(f"{label}, 64 in flight (ops/s)", b("phases", phase, "pipelined", "ops_per_s"), target="≥ 2× etcd",
            check=two_x)
        pair("… p50 / p99 (ms)", b("phases", phase, "pipelined", "p50_ms"), b("phases", phase, "pipelined", "p99_ms"))
    for phase, paths, label in (("seqput", [("n",)], "sequential Put"), ("pipeput", [("n",)], "Put, 64 in flight"),
                                ("txncas", [("sequential", "n"), ("pipelined", "n")], "CAS Txn")):
        pair(f"CPU per op, {label}: server / client (µs)",
             lambda t, phase=phase, paths=paths: cpu_per_op(t, phase, "server", paths),
             lambda t, phase=phase, paths=paths: cpu_per_op(t, phase, "client", paths))
    for kind, label in (("full", "Range 10k × 1 KiB"), ("keys_only", "Range keys_only"),
                        ("count_only", "Range count_only"), ("single_key", "single-key Get"),
                        ("paginated", "list in pages of 500 (total)")):
        pair(f"{label}, p50 / p99 (ms)", b("phases", "range", kind, "p50_ms"), b("phases", "range", kind, "p99_ms"))
    for p, tgt in (("p50_ms", ""), ("p99_ms", "skiff ≤ 1 ms"), ("max_ms", "")):
        row(f"Put start → watch event, {p.replace('_ms', '')} (ms)", b("phases", "watch", "put_start_to_event", p),
            target=tgt, check=(lambda e, s: s <= 1.0) if tgt else None)
    row("Put ack → watch event, p50 (ms)", b("phases", "watch", "put_ack_to_event", "p50_ms"), ratio=False)
    n = get(bench["skiff"], "phases", "fanout", "watchers") or get(bench["etcd"], "phases", "fanout", "watchers")
    pair(f"fan-out: Put → all {n} watchers, p50 / p99 (ms)", b("phases", "fanout", "put_start_to_all", "p50_ms"),
         b("phases", "fanout", "put_start_to_all", "p99_ms"))
    row(f"fan-out: creating {n} watchers (ms)", b("phases", "fanout", "setup_ms"))
    for phase in ("seqput", "range", "fanout"):
        row(f"RSS after {phase} (MB)", lambda t, phase=phase: kib_to_mb(get(bench[t], "phases", phase, "after",
                                                                               "process", "rss_kib")))
    row("peak RSS during etcd_bench (MB)", lambda t: kib_to_mb(get(after[t], "hwm_kib")))
    row("data dir after etcd_bench, allocated (MB)", lambda t: bytes_to_mb(get(after[t], "data_dir_allocated_bytes")))
    for t in every:
        phases = get(bench[t], "phases") or {}
        loads = [f"{name} {get(doc, 'after', 'loadavg_1m'):.1f}" for name, doc in phases.items()
                 if isinstance(get(doc, "after", "loadavg_1m"), (int, float))]
        if loads:
            w(f"| load average (1 min) after each phase, {t} | {', '.join(loads)} | | | | |"
              + (" | |" if extra else ""))
    row("revision after etcd_bench", b("phases", "fanout", "after", "revision"), ratio=False)

    for t in every:
        errs = []
        for phase, doc in (get(bench[t], "phases") or {}).items():
            def walk(d, where):
                if isinstance(d, dict):
                    if d.get("errors"):
                        errs.append(f"{where}: {d['errors']} errors, first: {d.get('first_error', '')}")
                    for k, v in d.items():
                        if k != "after":
                            walk(v, f"{where}.{k}")
            walk(doc, phase)
        if bench[t] is None:
            if os.path.isdir(os.path.join(out, t)):
                errs.append("no bench.json (see bench.log)")
        elif bench[t].get("error"):
            errs.append(bench[t]["error"])
        for e in errs:
            w(f"| ⚠ {t} | {e} | | | | |")

    w("")
    w("`etcdctl check perf` (each load on a fresh server; verdict, writes/s, slowest request, stddev; RSS after "
      "and peak; data dir once settled; slowest probe Put (via etcdctl) while compaction finished after the run; "
      "CPU seconds used by etcdctl and by the server):")
    w("")
    w("| load | etcd | skiff | target |")
    w("| --- | --- | --- | --- |")
    for size in ("s", "m", "l", "xl"):
        cells = []
        for t in targets:
            r = check_perf(os.path.join(out, t, f"checkperf-{size}.txt"))
            rss = get(load(os.path.join(out, t, f"checkperf-{size}.json")), "rss_kib")
            peak = get(load(os.path.join(out, t, f"checkperf-{size}.json")), "hwm_kib")
            settled = load(os.path.join(out, t, f"checkperf-{size}-settled.json"))
            if r is None:
                cells.append("–")
            else:
                v, thr, slow, std, cpu, probe = r
                cell = (f"{v}: {fmt(thr)} w/s, slowest {fmt(slow and slow * 1000)} ms, "
                        f"stddev {fmt(std and std * 1000)} ms; RSS {fmt(kib_to_mb(rss))} MB (peak "
                        f"{fmt(kib_to_mb(peak))})")
                if settled:
                    cell += f", data dir {fmt(bytes_to_mb(get(settled, 'data_dir_allocated_bytes')))} MB when settled"
                if probe is not None:
                    cell += f", slowest Put after the run {fmt(probe)} ms"
                if cpu:
                    cell += f"; CPU s etcdctl / server: {cpu[0]:.0f} / {cpu[1]:.0f} in {cpu[2]:.0f} s"
                cells.append(cell)
        w(f"| {size} | {cells[0]} | {cells[1]} | {'skiff passes xl' if size == 'xl' else ''} |")

    if kvh:
        w("")
        w("kv_history_bench (kv::Store in-process, no gRPC):")
        w("")
        w("| measure | value | target | met |")
        w("| --- | --- | --- | --- |")
        h = kvh.get("history") or {}
        if h.get("error"):
            w(f"| history | error: {h['error']} | | |")
        keys = get(kvh, "options", "keys")
        revs = get(kvh, "options", "revisions")
        for what in ("list", "list_at_current_revision", "list_limit_100", "count_only", "get"):
            f1, f2 = get(h, "fresh", what, "p50_ms"), get(h, "fresh", what, "p99_ms")
            h1, h2 = get(h, "history", what, "p50_ms"), get(h, "history", what, "p99_ms")
            o1, o2 = get(h, "history_reopened", what, "p50_ms"), get(h, "history_reopened", what, "p99_ms")
            r1 = get(h, "ratio_history_to_fresh", what, "p50_ratio")
            r2 = get(h, "ratio_history_to_fresh", what, "p99_ratio")
            tgt = "≤ 1.2× (p50)" if what in ("list", "get") else ""
            met = ""
            if tgt and r1 is not None:
                met = "yes" if r1 <= 1.2 else "**no**"
            w(f"| {what}: {keys} keys/{keys} revs → {revs} revs (live) → reopened, p50 / p99 ms | "
              f"{fmt(f1)} / {fmt(f2)} → {fmt(h1)} / {fmt(h2)} → {fmt(o1)} / {fmt(o2)} "
              f"(p50 {fmt(r1)}×, p99 {fmt(r2)}×) | {tgt} | {met} |")
        row_kv = lambda name, v, unit="": w(f"| {name} | {fmt(v, unit)} | | |")  # noqa: E731
        row_kv(f"fill: {revs} puts, sync normal (puts/s)", get(h, "history", "fill_puts_per_s"))
        row_kv(f"db size with {revs} revisions (MB)", bytes_to_mb(get(h, "history", "files", "db_size")))
        row_kv("reopen with that history (s)", get(h, "history_reopened", "open_s"))
        c = kvh.get("compaction") or {}
        if c.get("error"):
            w(f"| compaction | error: {c['error']} | | |")
        upd = get(kvh, "options", "updates")
        for mode in ("auto_compaction", "explicit_compaction"):
            for stage in ("after_updates", "after_compaction", "after_defragment"):
                db = get(c, mode, stage, "db_size")
                use = get(c, mode, stage, "db_size_in_use")
                dirb = get(c, mode, stage, "dir_allocated_bytes")
                w(f"| {mode.replace('_', ' ')}, {upd} updates of {keys} keys × 1 KiB, {stage.replace('_', ' ')}: "
                  f"db / in use / dir (MB) | {fmt(bytes_to_mb(db))} / {fmt(bytes_to_mb(use))} / "
                  f"{fmt(bytes_to_mb(dirb))} | | |")
        t = kvh.get("throughput") or {}
        if t.get("error"):
            w(f"| throughput | error: {t['error']} | | |")
        for k, label in (("sequential_sync_full", "sequential put_sync, sync full"),
                         ("sequential_sync_normal", "sequential put_sync, sync normal"),
                         ("threads_sync_full", "64 threads put_sync, sync full"),
                         ("threads_sync_normal", "64 threads put_sync, sync normal")):
            w(f"| {label}: ops/s, p50 / p99 ms | {fmt(get(t, k, 'ops_per_s'))}, "
              f"{fmt(get(t, k, 'p50_ms'))} / {fmt(get(t, k, 'p99_ms'))} | | |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
