#!/usr/bin/env python3
"""Samples the memory of a process tree until STOP_FILE exists, then prints one JSON line.

usage: rss_peak.py ROOT_PID STOP_FILE [INTERVAL_S]

Fields: hwm_kb, the sum over the tree's processes of each one's own peak RSS (VmHWM, read just
before stopping: exact for a single process, an upper bound for forked workers whose peaks need not
coincide); rss_kb and pss_kb, the largest sums of RSS and of PSS (shared pages split between the
processes that map them) seen at one sample; procs, the most processes seen at once.
"""
import json
import os
import sys
import time


def tree(root):
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    s = f.read()
                kids.setdefault(int(s[s.rindex(")") + 2:].split()[1]), []).append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def field(path, key):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    root, stop = int(sys.argv[1]), sys.argv[2]
    interval = float(sys.argv[3]) if len(sys.argv) > 3 else 0.1
    peak = {"rss_kb": 0, "pss_kb": 0, "procs": 0}
    hwm = {}
    while True:
        pids = tree(root)
        rss = sum(field(f"/proc/{p}/status", "VmRSS:") for p in pids)
        pss = sum(field(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids)
        for p in pids:
            hwm[p] = max(hwm.get(p, 0), field(f"/proc/{p}/status", "VmHWM:"))
        peak["rss_kb"] = max(peak["rss_kb"], rss)
        peak["pss_kb"] = max(peak["pss_kb"], pss)
        peak["procs"] = max(peak["procs"], len(pids))
        if os.path.exists(stop) or not os.path.exists(f"/proc/{root}"):
            break
        time.sleep(interval)
    peak["hwm_kb"] = sum(hwm.values())
    print(json.dumps(peak))


if __name__ == "__main__":
    main()
