#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The disk's durable-write floor, as a commit of the store sees it (docs/benchmarks.md, "Floors").

Appends N commits of PAGES 4 KiB pages each to a preallocated file in DIR (overwriting blocks the
file system already allocated, as the store's preallocated WAL does) and reports p50 / mean / p99
per commit for: write + fdatasync (what SQLite does), one pwritev with RWF_DSYNC, O_DSYNC writes,
and O_DIRECT|O_DSYNC writes (no page cache). Usage: fsync_floor.py [DIR] [N]
"""

import mmap
import os
import statistics
import sys
import tempfile
import time

FILE_BYTES = 32 << 20


def run(path, flags, mode, pages, n):
    fd = os.open(path, os.O_RDWR | flags)
    size = 4096 * pages
    buf = mmap.mmap(-1, size)  # page-aligned, as O_DIRECT needs
    buf.write(b"x" * size)
    times = []
    offset = 0
    try:
        for _ in range(n):
            start = time.perf_counter()
            if mode == "fdatasync":
                os.pwrite(fd, buf, offset)
                os.fdatasync(fd)
            elif mode == "rwf_dsync":
                os.pwritev(fd, [buf], offset, os.RWF_DSYNC)
            else:
                os.pwrite(fd, buf, offset)
            times.append(time.perf_counter() - start)
            offset = (offset + size) % (FILE_BYTES - size)
    finally:
        os.close(fd)
    times.sort()
    return times[len(times) // 2] * 1e3, statistics.mean(times) * 1e3, times[int(len(times) * 0.99)] * 1e3


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else "."
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    variants = [
        ("write + fdatasync", 0, "fdatasync"),
        ("pwritev RWF_DSYNC", 0, "rwf_dsync"),
        ("O_DSYNC write", os.O_DSYNC, "plain"),
        ("O_DIRECT|O_DSYNC write", os.O_DIRECT | os.O_DSYNC, "plain"),
    ]
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        path = os.path.join(tmp, "floor")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.pwrite(fd, b"\0" * FILE_BYTES, 0)
        os.fsync(fd)
        os.close(fd)
        print(f"{n} commits per variant, ms per commit (p50 / mean / p99)")
        for pages in (1, 3, 8):
            for name, flags, mode in variants:
                try:
                    p50, mean, p99 = run(path, flags, mode, pages, n)
                    print(f"{pages} page(s)  {name:24s} {p50:.3f} / {mean:.3f} / {p99:.3f}")
                except OSError as e:  # e.g. O_DIRECT on tmpfs
                    print(f"{pages} page(s)  {name:24s} unsupported: {e}")


if __name__ == "__main__":
    main()
