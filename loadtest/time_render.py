#!/usr/bin/env python3
"""Times `imgcloud render` on one input: RUNS fresh processes, wall time and peak RSS of each.

usage: time_render.py BIN INPUT TRANSFORM OUTPUT RUNS LABEL

Prints one JSON line: label, runs, median/min/max wall ms (process start, file read, render, file
write) and the median peak RSS (ru_maxrss of the process) in MiB.
"""
import json
import os
import statistics
import subprocess
import sys
import time


def main():
    bin_, inp, t, out, runs, label = sys.argv[1:7]
    ms, rss = [], []
    for _ in range(int(runs)):
        t0 = time.perf_counter()
        p = subprocess.Popen([bin_, "render", inp, t, out], stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(p.pid, 0)
        ms.append((time.perf_counter() - t0) * 1000)
        if status != 0:
            sys.exit(f"{bin_} render {inp} {t} failed ({status})")
        rss.append(usage.ru_maxrss / 1024)
    print(json.dumps({"label": label, "runs": len(ms), "median_ms": round(statistics.median(ms), 1),
                      "min_ms": round(min(ms), 1), "max_ms": round(max(ms), 1),
                      "peak_rss_mib": round(statistics.median(rss), 1)}))


if __name__ == "__main__":
    main()
