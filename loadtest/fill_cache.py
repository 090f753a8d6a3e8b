#!/usr/bin/env python3
"""Requests lines FROM..TO-1 of a file of paths once each (so the server renders and caches them).

usage: fill_cache.py BASE_URL PATHS_FILE FROM TO [CONNECTIONS]

CONNECTIONS (4) keep-alive connections share the lines; every answer must be 200. Prints the count
and the rate to stderr.
"""
import http.client
import sys
import threading
import time
import urllib.parse


def main():
    base, paths_file, lo, hi = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    conns = int(sys.argv[5]) if len(sys.argv) > 5 else 4
    with open(paths_file) as f:
        paths = [line.strip() for _, line in zip(range(hi), f)][lo:hi]
    u = urllib.parse.urlsplit(base)
    assert u.hostname == "127.0.0.1", "loopback only"
    errors = []

    def worker(k):
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        for p in paths[k::conns]:
            c.request("GET", p)
            r = c.getresponse()
            r.read()
            if r.status != 200:
                errors.append(f"{p}: {r.status}")
                return

    t0 = time.time()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        sys.exit("fill failed: " + "; ".join(errors[:5]))
    dt = time.time() - t0
    print(f"filled {len(paths)} in {dt:.1f}s ({len(paths) / max(dt, 1e-9):.0f}/s)", file=sys.stderr)


if __name__ == "__main__":
    main()
