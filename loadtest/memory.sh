#!/usr/bin/env bash
# Allocators and malloc settings under the cold load (issue #13 item 3): for each ALLOCATORS entry,
# each format and each round, a fresh release server (every setting at its default) takes
# loadtest/run.sh's peer cold load (peers.js: PEER_VUS VUs fitting 15 real photos into 400..512 px
# boxes, every request a cache miss) while rss_peak.py samples it; prints a markdown table of req/s
# and peak RSS (VmHWM) per allocator and format (medians over rounds, with the range), and writes it
# to OUT when set.
#
#   bash loadtest/memory.sh
#
# The allocators are swapped without rebuilding: glibc's own tunables by environment
# (MALLOC_MMAP_THRESHOLD_, MALLOC_ARENA_MAX), jemalloc and mimalloc by LD_PRELOAD of Debian's
# libjemalloc2 and libmimalloc2.0 (installed when missing), which replace malloc for the Rust code
# and the C codecs alike. So a variant measures the allocator, not how it is linked in.
# Knobs: ALLOCATORS ["shipped glibc jemalloc jemalloc-bg mimalloc"; more in allocator_env], FORMATS
# ["jpeg webp avif png"], ROUNDS [2] (the order of allocators alternates each round), DURATION [20s]
# per run, PEER_VUS [2], SERVER_EXTRA (KEY=VALUE words added to every server), OUT, KEEP_WORK=1.
set -euo pipefail

export DURATION="${DURATION:-20s}"
ALLOCATORS="${ALLOCATORS:-shipped glibc jemalloc jemalloc-bg mimalloc}"
FORMATS="${FORMATS:-jpeg webp avif png}"
ROUNDS="${ROUNDS:-2}"
OUT="${OUT:-}"
LOG_TAG=memory
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LIBDIR=/usr/lib/x86_64-linux-gnu
allocator_env() { # allocator_env NAME: the KEY=VALUE words that select it
  case "$1" in
    # As built: whatever src/main.rs sets up (the default the server ships with).
    shipped) ;;
    # IMGCLOUD_MALLOC=off: plain glibc, no settings of ours (only meaningful for a build that has them).
    glibc) echo "IMGCLOUD_MALLOC=off" ;;
    # A fixed mmap threshold: blocks of 1 MiB and more always come from mmap and go back on free.
    # Without it glibc raises the threshold to the size of each freed mmapped block (up to 32 MiB),
    # so after the first large render, decode buffers of a few MB land in the heap and stay.
    glibc-mmap) echo "IMGCLOUD_MALLOC=off MALLOC_MMAP_THRESHOLD_=1048576" ;;
    glibc-mmap4m) echo "IMGCLOUD_MALLOC=off MALLOC_MMAP_THRESHOLD_=4194304" ;;
    glibc-mmap-arena2) echo "IMGCLOUD_MALLOC=off MALLOC_MMAP_THRESHOLD_=1048576 MALLOC_ARENA_MAX=2" ;;
    jemalloc) echo "IMGCLOUD_MALLOC=off LD_PRELOAD=$LIBDIR/libjemalloc.so.2" ;;
    # Freed pages returned within about a second by jemalloc's own thread, not only on later calls.
    jemalloc-bg) echo "IMGCLOUD_MALLOC=off LD_PRELOAD=$LIBDIR/libjemalloc.so.2 MALLOC_CONF=background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0" ;;
    mimalloc) echo "IMGCLOUD_MALLOC=off LD_PRELOAD=$LIBDIR/libmimalloc.so.2" ;;
    *) die "unknown allocator $1" ;;
  esac
}

base_tools
[[ -e "$LIBDIR/libjemalloc.so.2" ]] || apt_install libjemalloc2
[[ -e "$LIBDIR/libmimalloc.so.2" ]] || apt_install libmimalloc2.0
build_release
prepare_photos
wait_quiet
start_imgcloud
api_key
log "uploading photos"
upload_peer_photos
stop_imgcloud

read -r -a extra <<< "${SERVER_EXTRA:-}"
order=($ALLOCATORS)
for r in $(seq "$ROUNDS"); do
  for fmt in $FORMATS; do
    for alloc in "${order[@]}"; do
      read -r -a SERVER_ENV <<< "$(allocator_env "$alloc") ${extra[*]:-}"
      start_imgcloud
      rss_start "$SERVER_PID"
      peer_cold "mem-$alloc-$fmt-$r" "$fmt"
      rss_stop "mem-$alloc-$fmt-$r"
      stop_imgcloud
    done
  done
  # Alternate the order, so no allocator always runs first (or last) on a drifting machine.
  order=($(printf '%s\n' "${order[@]}" | tac))
done

LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$SUMMARIES" "$ALLOCATORS" "$FORMATS" "$(cat "$WORK/head.txt")" "$LOAD_START" "$LOAD_END" "${SERVER_EXTRA:-}" > "$WORK/table.md" <<'PY'
import json, os, statistics, sys
sums, allocs, fmts, head, l0, l1, extra = sys.argv[1:]
allocs, fmts = allocs.split(), fmts.split()
def runs(a, f):
    out = []
    for name in sorted(os.listdir(sums)):
        if name.startswith(f"mem-{a}-{f}-") and name.endswith(".json"):
            k6 = json.load(open(os.path.join(sums, name)))
            mem = json.load(open(os.path.join(sums, name[:-5] + ".mem")))
            out.append((k6["rps"], mem["hwm_kb"] / 1024, k6["errors"]))
    return out
def cell(xs, fmt):
    m = statistics.median(xs)
    return fmt.format(m) + (f" ({fmt.format(min(xs))}-{fmt.format(max(xs))})" if len(xs) > 1 else "")
print(f"Commit `{head[:12]}`, {len(runs(allocs[0], fmts[0]))} rounds, load average {l0} at the start and {l1} at the end"
      + (f", server settings `{extra}`" if extra else "") + ". Medians over rounds (range).\n")
print("| allocator | " + " | ".join(f"{f} req/s | {f} peak MiB" for f in fmts) + " | worst peak MiB | req/s vs first |")
print("|---|" + "---:|---:|" * len(fmts) + "---:|---:|")
base = None
for a in allocs:
    row, peaks, rates = [], [], []
    for f in fmts:
        rs = runs(a, f)
        if not rs:
            row += ["-", "-"]; continue
        row += [cell([x[0] for x in rs], "{:.1f}"), cell([x[1] for x in rs], "{:.0f}")]
        peaks.append(max(x[1] for x in rs)); rates.append(statistics.median(x[0] for x in rs))
        if any(x[2] for x in rs):
            row[-1] += f" ({sum(x[2] for x in rs)} errors)"
    mean_rate = statistics.mean(rates) if rates else 0
    base = base or mean_rate
    print(f"| {a} | " + " | ".join(row) + f" | {max(peaks) if peaks else 0:.0f} | {mean_rate / base:.2f}x |")
PY
cat "$WORK/table.md"
[[ -n "$OUT" ]] && { mkdir -p "$(dirname "$OUT")"; cp "$WORK/table.md" "$OUT"; log "wrote $OUT"; }
[[ ${#FAILED[@]} -eq 0 ]] || die "runs failed: ${FAILED[*]}"
