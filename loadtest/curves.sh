#!/usr/bin/env bash
# How cost grows (issue #13 item 8): measures four curves on the release build and writes
# docs/perf/curves.md, one markdown table and ASCII chart per curve:
#   mp        render latency and peak RSS against input megapixels (1-100 MP, JPEG and PNG inputs),
#             `imgcloud render` in fresh processes (the engine alone, process start included)
#   threads   cold throughput against render threads (the peer cold load of loadtest/run.sh)
#   entries   warm throughput against the number of cached renditions (1 to 100k), wrk on random
#             paths among those cached
#   conc      peak RSS against concurrent cold renders (render threads = k6 VUs = 1, 2, 4, 8)
#
#   bash loadtest/curves.sh          # about 10 minutes once the build, photos and inputs exist
#
# Knobs (defaults in brackets): PARTS ["mp threads entries conc"], MPS ["1 4 12 25 50 100"],
# MP_RUNS [3], MP_TRANSFORM [w_400] (rendered to JPEG); THREADS ["1 2 4"], THREAD_VUS [4],
# THREAD_ROUNDS [2], THREAD_FORMAT [webp]; ENTRIES ["1 10 100 1000 10000 100000"], WRK_DURATION
# [10s], WRK_CONNS [16]; CONCURRENCY ["1 2 4 8"], CONC_FORMAT [png]; DURATION [20s] per k6 run;
# OUT [docs/perf/curves.md], KEEP_WORK=1. Loopback only; every process started here is stopped on exit.
set -euo pipefail

PARTS="${PARTS:-mp threads entries conc}"
export DURATION="${DURATION:-20s}"
MPS="${MPS:-1 4 12 25 50 100}"
MP_RUNS="${MP_RUNS:-3}"
MP_TRANSFORM="${MP_TRANSFORM:-w_400}"
THREADS="${THREADS:-1 2 4}"
THREAD_VUS="${THREAD_VUS:-4}"
THREAD_ROUNDS="${THREAD_ROUNDS:-2}"
THREAD_FORMAT="${THREAD_FORMAT:-webp}"
ENTRIES="${ENTRIES:-1 10 100 1000 10000 100000}"
WRK_DURATION="${WRK_DURATION:-10s}"
WRK_CONNS="${WRK_CONNS:-16}"
CONCURRENCY="${CONCURRENCY:-1 2 4 8}"
CONC_FORMAT="${CONC_FORMAT:-png}"
OUT="${OUT:-docs/perf/curves.md}"
LOG_TAG=curves
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
part() { [[ " $PARTS " == *" $1 "* ]]; }

base_tools
if part entries && ! command -v wrk >/dev/null 2>&1; then apt_install wrk; fi
build_release
prepare_photos
if part mp; then
  # Generated once from the largest real photo of the background packages, kept in target/loadtest.
  log "inputs of $MPS MP"
  src="$(find "$CACHE/backgrounds" -name 'Elephants_5640x3172.jpg' | head -n 1)"
  [[ -n "$src" ]] || die "no Elephants_5640x3172.jpg in $CACHE/backgrounds"
  # shellcheck disable=SC2086
  python3 loadtest/make_sizes.py "$src" "$CACHE/sizes" $MPS > "$WORK/sizes.jsonl"
fi
wait_quiet

# ---------------------------------------------------------------- mp: the engine alone
if part mp; then
  for mp in $MPS; do
    for fmt in jpg png; do
      log "render ${mp} MP $fmt"
      python3 loadtest/time_render.py "$BIN" "$CACHE/sizes/photo-${mp}mp.$fmt" "$MP_TRANSFORM" "$WORK/out.jpg" \
        "$MP_RUNS" "mp-$fmt-$mp" > "$SUMMARIES/mp-$fmt-$mp.render"
    done
  done
fi

# ---------------------------------------------------------------- the server's parts
start_imgcloud
api_key
log "uploading photos"
upload_peer_photos
stop_imgcloud

if part threads; then
  for r in $(seq "$THREAD_ROUNDS"); do
    order="$THREADS"
    (( r % 2 == 0 )) && order="$(printf '%s\n' $THREADS | tac | paste -sd' ')"
    for t in $order; do
      SERVER_ENV=("IMGCLOUD_RENDER__THREADS=$t")
      start_imgcloud
      PEER_VUS="$THREAD_VUS" peer_cold "threads-$t-$r" "$THREAD_FORMAT"
      stop_imgcloud
    done
  done
  SERVER_ENV=()
fi

if part conc; then
  for c in $CONCURRENCY; do
    SERVER_ENV=("IMGCLOUD_RENDER__THREADS=$c")
    start_imgcloud
    rss_start "$SERVER_PID"
    PEER_VUS="$c" peer_cold "conc-$c" "$CONC_FORMAT"
    rss_stop "conc-$c"
    stop_imgcloud
  done
  SERVER_ENV=()
fi

if part entries; then
  # Renditions of ~4 KB (a 384 px photo fit to 100..149 px, JPEG at q 51..70: 1,000 distinct
  # transforms per original), as many originals as the largest point needs, in a random order so
  # the first N lines are N renditions spread over the originals.
  start_imgcloud
  python3 - "$PHOTOS/photo-100kb.jpg" "$WORK/entry.jpg" <<'PY'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
im.thumbnail((384, 384), Image.LANCZOS)
im.save(sys.argv[2], "JPEG", quality=85)
PY
  max_n=0
  for n in $ENTRIES; do (( n > max_n )) && max_n=$n; done
  originals=$(( (max_n + 999) / 1000 ))
  log "uploading $originals originals for up to $max_n cached renditions"
  : > "$WORK/ids.txt"
  for _ in $(seq "$originals"); do upload "$WORK/entry.jpg" -F folder=entries >> "$WORK/ids.txt"; done
  python3 - "$WORK/ids.txt" "$max_n" > "$WORK/paths.txt" <<'PY'
import random, sys
ids = open(sys.argv[1]).read().split()
paths = [f"/v1/image/w_{w},q_{q}/{i}" for i in ids for w in range(100, 150) for q in range(51, 71)]
random.Random(13).shuffle(paths)
print("\n".join(paths[: int(sys.argv[2])]))
PY
  filled=0
  for n in $ENTRIES; do
    log "cache: $n renditions"
    python3 loadtest/fill_cache.py "$BASE" "$WORK/paths.txt" "$filled" "$n" 4
    filled=$n
    name="entries-$n"
    c0="$(python3 loadtest/cpu_snapshot.py $$) $(date +%s.%N)"
    # A short pass first, so the timed one does not pay for the fill's last page faults.
    PATHS_FILE="$WORK/paths.txt" N="$n" wrk -t1 -c"$WRK_CONNS" -d2s -s loadtest/wrk_paths.lua "$BASE" >/dev/null 2>&1 || true
    if PATHS_FILE="$WORK/paths.txt" N="$n" wrk -t1 -c"$WRK_CONNS" -d"$WRK_DURATION" -s loadtest/wrk_paths.lua "$BASE" \
        > "$WORK/$name.txt" 2>&1; then
      grep '^{' "$WORK/$name.txt" | tail -n 1 > "$SUMMARIES/$name.wrk"
    else
      FAILED+=("$name")
      log "wrk $name failed: $(tail -n 5 "$WORK/$name.txt")"
    fi
    echo "$c0 $(python3 loadtest/cpu_snapshot.py $$) $(date +%s.%N)" > "$SUMMARIES/$name.cpu"
  done
  du -sb "$WORK/data/cache" | cut -f1 > "$SUMMARIES/entries.disk"
  awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status" > "$SUMMARIES/entries.hwm"
  stop_imgcloud
fi

LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg)"
mkdir -p "$(dirname "$OUT")"
python3 loadtest/curves_report.py --summaries "$SUMMARIES" --out "$OUT" --head "$(cat "$WORK/head.txt")" \
  --tree "$WORK/tree.txt" --load "$LOAD_START" "$LOAD_END" --sizes "$WORK/sizes.jsonl" \
  --settings "PARTS=\"$PARTS\" DURATION=$DURATION MP_RUNS=$MP_RUNS MP_TRANSFORM=$MP_TRANSFORM THREAD_VUS=$THREAD_VUS THREAD_ROUNDS=$THREAD_ROUNDS THREAD_FORMAT=$THREAD_FORMAT WRK_DURATION=$WRK_DURATION WRK_CONNS=$WRK_CONNS CONC_FORMAT=$CONC_FORMAT" \
  --photos "${#PEER_NAMES[@]}"
log "wrote $OUT"
[[ ${#FAILED[@]} -eq 0 ]] || die "runs failed: ${FAILED[*]}"
