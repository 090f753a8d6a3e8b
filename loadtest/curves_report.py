#!/usr/bin/env python3
"""Writes docs/perf/curves.md from one loadtest/curves.sh run: a table and an ASCII chart per curve.

Every figure comes from that run's summaries; nothing here is a constant.
"""
import argparse
import datetime
import glob
import json
import os
import platform
import statistics

from report import cpu_model, cpu_shares, mem_total, num, sh

BAR = 40


def chart(rows, unit):
    """rows: (label, value); one bar per row, scaled to the largest value."""
    rows = [(k, v) for k, v in rows if v is not None]
    if not rows:
        return []
    top = max(v for _, v in rows) or 1
    w = max(len(k) for k, _ in rows)
    out = ["```text"]
    for k, v in rows:
        out.append(f"{k:>{w}} | {'#' * max(1, round(BAR * v / top)):<{BAR}} {v:,.1f} {unit}")
    out.append("```")
    return out


def load(path):
    try:
        with open(path) as f:
            return json.loads(f.read())
    except (OSError, ValueError):
        return None


def other_cpu(S, name):
    c = cpu_shares(os.path.join(S, name + ".cpu")) if os.path.exists(os.path.join(S, name + ".cpu")) else {}
    v = c.get("other_cpu_pct")
    return "–" if v is None else f"{v:.0f}%"


def mp_section(L, S, sizes):
    runs = {}
    for f in glob.glob(os.path.join(S, "mp-*.render")):
        d = load(f)
        if d:
            _, fmt, mp = d["label"].split("-", 2)
            runs[(fmt, float(mp))] = d
    if not runs:
        return
    dims = {}
    for line in open(sizes) if sizes and os.path.exists(sizes) else []:
        if line.strip():
            d = json.loads(line)
            dims[("jpg" if d["format"] == "jpeg" else "png", float(d["mp"]))] = d
    mps = sorted({mp for _, mp in runs})
    L.append("## Render latency against input megapixels")
    L.append("")
    L.append(
        "`imgcloud render IN w_400 OUT.jpg` in a fresh process per run (process start, reading the file, decode, "
        "resize, JPEG encode, writing the file), the median of the runs; peak RSS is the process's `ru_maxrss`. "
        "Inputs are made by `loadtest/make_sizes.py` from a real 5640x3172 photo resized to each area (3:2) with "
        "gaussian grain added, saved as JPEG q90 4:2:0 and as RGB PNG (zlib level 1). JPEG inputs are decoded "
        "at 1/2..1/8 scale (shrink-on-load), so their cost grows with the entropy-coded bytes; PNG inputs are "
        "decoded whole."
    )
    L.append("")
    L.append("| MP | size | JPEG bytes | JPEG ms (min-max) | JPEG ms / MP | JPEG peak RSS MiB | PNG bytes | PNG ms (min-max) | PNG ms / MP | PNG peak RSS MiB |")
    L.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for mp in mps:
        cells = []
        size = ""
        for fmt in ("jpg", "png"):
            d, s = runs.get((fmt, mp)), dims.get((fmt, mp), {})
            size = size or (f"{s['width']}x{s['height']}" if s else "")
            if not d:
                cells += ["–"] * 4
                continue
            cells += [
                num(s.get("bytes"), 0) if s else "–",
                f"{num(d['median_ms'], 0)} ({num(d['min_ms'], 0)}-{num(d['max_ms'], 0)})",
                num(d["median_ms"] / mp, 1),
                num(d["peak_rss_mib"], 0),
            ]
        L.append(f"| {mp:g} | {size} | " + " | ".join(cells) + " |")
    L.append("")
    for fmt, name in (("jpg", "JPEG"), ("png", "PNG")):
        L.append(f"{name} input, median ms:")
        L.append("")
        L += chart([(f"{mp:g} MP", (runs.get((fmt, mp)) or {}).get("median_ms")) for mp in mps], "ms")
        L.append("")


def threads_section(L, S):
    by = {}
    for f in glob.glob(os.path.join(S, "threads-*.json")):
        d = load(f)
        _, t, r = os.path.basename(f)[:-5].split("-")
        by.setdefault(int(t), []).append((d, os.path.basename(f)[:-5]))
    if not by:
        return
    any_d = next(iter(by.values()))[0][0]
    L.append("## Cold throughput against render threads")
    L.append("")
    L.append(
        f"The peer cold load of `loadtest/run.sh` (`loadtest/peers.js`: real photos fit into 400..512 px boxes, "
        f"every request a cache miss) in `{any_d.get('format', '')}` with {any_d.get('vus')} k6 VUs, one fresh "
        f"server per run with `render.threads` set, every other setting at its default; rounds alternate the "
        f"order. The machine has {os.cpu_count()} cores, shared with k6."
    )
    L.append("")
    L.append("| render threads | runs | req/s median (range) | p50 ms | p95 ms | errors | other CPU |")
    L.append("|---:|---:|---:|---:|---:|---:|---|")
    med = {}
    for t in sorted(by):
        rows = by[t]
        rps = [d["rps"] for d, _ in rows]
        med[t] = statistics.median(rps)
        L.append(
            f"| {t} | {len(rows)} | {num(med[t])} ({num(min(rps))}-{num(max(rps))}) | "
            f"{num(statistics.median(d['p50_ms'] for d, _ in rows))} | {num(statistics.median(d['p95_ms'] for d, _ in rows))} | "
            f"{sum(d.get('errors', 0) for d, _ in rows)} | {', '.join(other_cpu(S, n) for _, n in rows)} |"
        )
    L.append("")
    L += chart([(f"{t} thread{'s' if t > 1 else ''}", med[t]) for t in sorted(med)], "req/s")
    L.append("")


def cache_cap(key):
    """A [cache] default from config/default.toml (what the measured build was compiled with, if
    the tree did not change since), e.g. "64 MiB"."""
    import tomllib
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "config", "default.toml"), "rb") as f:
        v = tomllib.load(f)["cache"][key]
    return f"{v / 2**30:g} GiB" if v >= 2**30 else f"{v / 2**20:g} MiB"


def entries_section(L, S):
    pts = {}
    for f in glob.glob(os.path.join(S, "entries-*.wrk")):
        d = load(f)
        if d:
            pts[int(os.path.basename(f)[8:-4])] = d
    if not pts:
        return
    L.append("## Warm throughput against cached entries")
    L.append("")
    disk = open(os.path.join(S, "entries.disk")).read().strip() if os.path.exists(os.path.join(S, "entries.disk")) else ""
    hwm = open(os.path.join(S, "entries.hwm")).read().strip() if os.path.exists(os.path.join(S, "entries.hwm")) else ""
    L.append(
        f"One server with default settings (memory tier {cache_cap('memory_bytes')}, disk tier {cache_cap('disk_bytes')}). The cache is filled step by step "
        "(each point adds renditions: `w_100..149,q_51..70` of ~4 KB JPEGs of uploaded copies of one photo, 1,000 "
        "per original, requested once each in a shuffled order), then `wrk -t1` asks for a uniformly random one of "
        "the N cached paths (`loadtest/wrk_paths.lua`) after a 2 s warm-up. Once the renditions outgrow the memory "
        "tier, a share of hits is served from the disk tier (the files are in the page cache)."
        + (f" Disk tier after the last point: {int(disk) / 1e6:,.0f} MB." if disk else "")
        + (f" Server peak RSS (VmHWM) at the end: {int(hwm) / 1024:,.0f} MiB." if hwm else "")
    )
    L.append("")
    L.append("| cached entries | requests | req/s | p50 ms | p99 ms | errors | other CPU |")
    L.append("|---:|---:|---:|---:|---:|---:|---|")
    rates = {}
    for n in sorted(pts):
        d = pts[n]
        rates[n] = d["requests"] / d["duration_s"]
        L.append(f"| {n:,} | {d['requests']:,} | {num(rates[n], 0)} | {num(d['p50_ms'], 2)} | {num(d['p99_ms'], 2)} | {d['errors']} | {other_cpu(S, f'entries-{n}')} |")
    L.append("")
    L += chart([(f"{n:,}", rates[n]) for n in sorted(rates)], "req/s")
    L.append("")


def conc_section(L, S):
    pts = {}
    for f in glob.glob(os.path.join(S, "conc-*.json")):
        c = int(os.path.basename(f)[5:-5])
        pts[c] = (load(f), load(f[:-5] + ".mem") or {})
    if not pts:
        return
    any_d = next(iter(pts.values()))[0]
    L.append("## Peak memory against concurrent renders")
    L.append("")
    L.append(
        f"The peer cold load in `{any_d.get('format', '')}` with N k6 VUs against a fresh server with "
        "`render.threads` = N (so N renders run at once), every other setting at its default; peak RSS is the "
        "server's VmHWM over the run (`loadtest/rss_peak.py`)."
    )
    L.append("")
    L.append("| concurrent renders | req/s | p50 ms | p95 ms | errors | peak RSS MiB | MiB per render beyond the first | other CPU |")
    L.append("|---:|---:|---:|---:|---:|---:|---:|---|")
    peaks = {}
    for c in sorted(pts):
        d, m = pts[c]
        peaks[c] = m.get("hwm_kb", 0) / 1024
        first = min(peaks)
        extra = num((peaks[c] - peaks[first]) / (c - first), 0) if c > first else "–"
        L.append(
            f"| {c} | {num(d['rps'])} | {num(d['p50_ms'])} | {num(d['p95_ms'])} | {d.get('errors', 0)} | "
            f"{num(peaks[c], 0)} | {extra} | {other_cpu(S, f'conc-{c}')} |"
        )
    L.append("")
    L += chart([(f"{c} at once", peaks[c]) for c in sorted(peaks)], "MiB")
    L.append("")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--summaries", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--head", default="")
    ap.add_argument("--tree", default="")
    ap.add_argument("--load", nargs=2, default=None)
    ap.add_argument("--sizes", default="")
    ap.add_argument("--settings", default="")
    ap.add_argument("--photos", default="")
    a = ap.parse_args()
    S = a.summaries
    head = a.head or sh("git", "rev-parse", "HEAD")
    tree = open(a.tree).read().strip() if a.tree else ""
    L = [
        "# How cost grows: curves",
        "",
        "Generated by `bash loadtest/curves.sh`; do not edit by hand, re-run instead.",
        "",
        f"- Date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {os.cpu_count()} CPUs, {cpu_model()}, {mem_total()} RAM, {platform.system()} {platform.release()}",
        f"- Commit: `{head[:12]}` ({sh('git', 'log', '-1', '--format=%s', head)[:100]}); working tree "
        + ("clean (src/, engine/, actors/, manifests, migrations, config)" if not tree else f"**not clean** at build time: {len(tree.splitlines())} files"),
        f"- Settings: `{a.settings}`" + (f"; {a.photos} peer photos" if a.photos else ""),
    ]
    if a.load:
        L.append(f"- Load average (1/5/15 min) at the start: {a.load[0]}; at the end: {a.load[1]}. \"Other CPU\" is the share of "
                 "the machine used by processes outside this run while a point was measured: above a few percent, that "
                 "point is depressed by outside load.")
    L.append("- Server, k6 and wrk share the same cores over 127.0.0.1; rate limits are off (k6 and wrk stand for many "
             "clients); per-client fair rendering is at its defaults (it holds no lone client back).")
    L.append("")
    mp_section(L, S, a.sizes)
    threads_section(L, S)
    entries_section(L, S)
    conc_section(L, S)
    with open(a.out, "w") as f:
        f.write("\n".join(L).rstrip() + "\n")


if __name__ == "__main__":
    main()
