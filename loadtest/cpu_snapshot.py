#!/usr/bin/env python3
"""Prints "<machine busy jiffies> <jiffies of ROOT_PID's process tree> <clock ticks/s>".

The tree's figure is ROOT_PID's own time plus its reaped children's (cutime/cstime) plus every
live descendant's own and reaped-children time. Two snapshots give how much CPU the rest of the
machine used meanwhile (busy delta minus tree delta): the runner reports it, because anything else
running on the box competes with the server, nginx and k6 for the same cores.

usage: cpu_snapshot.py ROOT_PID
       cpu_snapshot.py ROOT_PID --other-pct SECONDS   # sample that long, print the others' share in %
"""
import os
import sys


def stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    rest = s[s.rindex(")") + 2:].split()
    # fields after the comm: state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17)
    return int(rest[1]), sum(int(x) for x in rest[11:15])


def snapshot(root):
    procs = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                procs[int(d)] = stat(d)
            except (OSError, ValueError, IndexError):
                pass
    children = {}
    for pid, (ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    tree, todo = 0, [root]
    while todo:
        p = todo.pop()
        if p in procs:
            tree += procs[p][1]
        todo.extend(children.get(p, []))
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal
    busy = cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + (cpu[7] if len(cpu) > 7 else 0)
    return busy, tree


def main():
    root = int(sys.argv[1])
    hz = os.sysconf("SC_CLK_TCK")
    if len(sys.argv) > 3 and sys.argv[2] == "--other-pct":
        import time

        secs = float(sys.argv[3])
        b0, t0 = snapshot(root)
        w0 = time.monotonic()
        time.sleep(secs)
        b1, t1 = snapshot(root)
        cap = (time.monotonic() - w0) * hz * (os.cpu_count() or 1)
        print(f"{max(0.0, 100 * ((b1 - b0) - (t1 - t0)) / cap):.0f}")
        return
    busy, tree = snapshot(root)
    print(busy, tree, hz)


if __name__ == "__main__":
    main()
