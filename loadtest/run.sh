#!/usr/bin/env bash
# Measures the real imgcloud server against peers in one run, on the same photos and scenarios, and
# writes docs/perf/server.md:
#   peers      cold renders (k6, PEER_VUS) of real photos on imgcloud, a sharp (libvips) server and
#              thumbor, per output format: req/s, latency, errors, mean output bytes, peak memory
#   warm       cache hits of one ~4 KB WebP with wrk, imgcloud against nginx (tuned and stock)
#              serving the same bytes
#   scenarios  imgcloud alone: cold renders, warm hits (k6, also nginx), mixed, signed, uploads
#
#   bash loadtest/run.sh            # everything: deps, release build, photos, servers, k6/wrk, report
#
# Environment knobs (defaults in brackets): PARTS ["peers warm scenarios"], DURATION [20s] per k6
# scenario; peers: PEER_DURATION [$DURATION], PEER_VUS [2], PEER_FORMATS ["jpeg webp avif png"],
# PEER_SERVERS ["imgcloud sharp thumbor"], PEER_Q_JPEG [80], PEER_Q_WEBP [80], PEER_Q_AVIF [50],
# PEER_PHOTOS [15], PEER_LARGE_PHOTOS [6] (12-15 MP); warm: WRK_ROUNDS [3] (imgcloud, nginx, nginx-stock; reversed on even rounds), WRK_DURATION [10s],
# WRK_THREADS [1], WRK_CONNS [16], WRK_TARGET_BYTES [4096]; scenarios: COLD_VUS [8], WARM_VUS [16],
# WARM_ROUNDS [2], MIXED_VUS [8], SIGNED_VUS [16], UPLOAD_VUS [4]; OUT [docs/perf/server.md],
# KEEP_WORK=1 keeps the temp dir (data dir, logs, k6/wrk JSON summaries).
# Everything listens on 127.0.0.1 only, on free ports; every process started here is stopped on exit.
set -euo pipefail

PARTS="${PARTS:-peers warm scenarios}"
export DURATION="${DURATION:-20s}"
PEER_DURATION="${PEER_DURATION:-$DURATION}"
PEER_VUS="${PEER_VUS:-2}"
PEER_FORMATS="${PEER_FORMATS:-jpeg webp avif png}"
PEER_SERVERS="${PEER_SERVERS:-imgcloud sharp thumbor}"
PEER_Q_JPEG="${PEER_Q_JPEG:-80}"
PEER_Q_WEBP="${PEER_Q_WEBP:-80}"
PEER_Q_AVIF="${PEER_Q_AVIF:-50}"
PEER_PHOTOS="${PEER_PHOTOS:-15}"
WRK_ROUNDS="${WRK_ROUNDS:-3}"
WRK_DURATION="${WRK_DURATION:-10s}"
WRK_THREADS="${WRK_THREADS:-1}"
WRK_CONNS="${WRK_CONNS:-16}"
WRK_TARGET_BYTES="${WRK_TARGET_BYTES:-4096}"
COLD_VUS="${COLD_VUS:-8}"
WARM_VUS="${WARM_VUS:-16}"
WARM_ROUNDS="${WARM_ROUNDS:-2}"
MIXED_VUS="${MIXED_VUS:-8}"
SIGNED_VUS="${SIGNED_VUS:-16}"
UPLOAD_VUS="${UPLOAD_VUS:-4}"
OUT="${OUT:-docs/perf/server.md}"

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
THUMBOR_VENV="$CACHE/thumbor-venv"
PEERS_DIR="$ROOT/loadtest/peers"
part() { [[ " $PARTS " == *" $1 "* ]]; }

# ---------------------------------------------------------------- tools
base_tools
NGINX_BIN="$(command -v nginx || true)"
[[ -z "$NGINX_BIN" && -x /usr/sbin/nginx ]] && NGINX_BIN=/usr/sbin/nginx
if [[ -z "$NGINX_BIN" ]]; then
  apt_install nginx
  NGINX_BIN="$(command -v nginx || echo /usr/sbin/nginx)"
fi
if part warm && ! command -v wrk >/dev/null 2>&1; then apt_install wrk; fi
if part peers; then
  if [[ " $PEER_SERVERS " == *" sharp "* ]]; then
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || apt_install nodejs npm
    if ! (cd "$PEERS_DIR" && node -e 'process.exit(require("sharp/package.json").version === require("./package.json").dependencies.sharp ? 0 : 1)' 2>/dev/null); then
      log "installing sharp (npm ci in loadtest/peers)"
      (cd "$PEERS_DIR" && npm ci --no-audit --no-fund --loglevel=error >&2)
    fi
  fi
  if [[ " $PEER_SERVERS " == *" thumbor "* ]]; then
    python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
    if ! cmp -s "$PEERS_DIR/thumbor-requirements.txt" "$THUMBOR_VENV/.requirements.txt"; then
      log "installing thumbor into $THUMBOR_VENV (pip, pinned by loadtest/peers/thumbor-requirements.txt)"
      rm -rf "$THUMBOR_VENV"
      python3 -m venv "$THUMBOR_VENV"
      "$THUMBOR_VENV/bin/pip" install -q -r "$PEERS_DIR/thumbor-requirements.txt" >&2
      cp "$PEERS_DIR/thumbor-requirements.txt" "$THUMBOR_VENV/.requirements.txt"
    fi
    "$THUMBOR_VENV/bin/python" -c 'from PIL import features; assert features.check("avif")' \
      || die "the thumbor venv's Pillow has no AVIF encoder"
  fi
fi

# ---------------------------------------------------------------- build
build_release

# ---------------------------------------------------------------- photos
prepare_photos
wait_quiet

# ---------------------------------------------------------------- imgcloud
log "starting imgcloud"
start_imgcloud
api_key

log "uploading photos"
ID_HOPPER=$(upload "$PHOTOS/hopper.jpg" -F folder=bench)
ID_SAMPLE=$(upload "$PHOTOS/pil_sample_rgb.jpg" -F folder=bench)
ID_ROTATE=$(upload "$PHOTOS/bug725582-testrotate.jpg" -F folder=bench)
ID_PHOTO=$(upload "$PHOTOS/photo-100kb.jpg" -F folder=bench)
ID_LARGE=$(upload "$PHOTOS/photo-large.jpg" -F folder=bench)
ID_PRIV1=$(upload "$PHOTOS/hopper.jpg" -F folder=private -F visibility=private)
ID_PRIV2=$(upload "$PHOTOS/photo-100kb.jpg" -F folder=private -F visibility=private)
upload_peer_photos

# The engine must work before anything is worth timing.
code=$(curl -sS -o "$WORK/probe.bin" -w '%{http_code}' "$BASE/v1/image/w_100/$ID_HOPPER")
[[ "$code" == 200 ]] || die "GET /v1/image/w_100/$ID_HOPPER answered $code: $(head -c 500 "$WORK/probe.bin")"

# ---------------------------------------------------------------- peers: cold renders
start_sharp() {
  local port
  port="$(free_port)"
  node "$PEERS_DIR/sharp-server.js" "$port" "$PEER_PHOTO_DIR" > "$WORK/sharp.log" 2>&1 &
  SHARP_PID=$!
  PEER_BASE="http://127.0.0.1:$port"
  wait_http "$PEER_BASE/healthz" 30 "$SHARP_PID" || { tail -n 20 "$WORK/sharp.log" >&2; die "the sharp server did not start"; }
}

start_thumbor() {
  local port
  port="$(free_port)"
  # File loader on the photo dir; no original storage and no result storage, so every request
  # loads, decodes and encodes. One process per core (--processes 0), as imgcloud uses every core.
  cat > "$WORK/thumbor.conf" <<EOF
LOADER = 'thumbor.loaders.file_loader'
FILE_LOADER_ROOT_PATH = '$PEER_PHOTO_DIR'
STORAGE = 'thumbor.storages.no_storage'
RESULT_STORAGE = None
ALLOW_UNSAFE_URL = True
RESPECT_ORIENTATION = True
EOF
  "$THUMBOR_VENV/bin/thumbor" -i 127.0.0.1 -p "$port" -c "$WORK/thumbor.conf" --processes 0 -l warning \
    > "$WORK/thumbor.log" 2>&1 &
  THUMBOR_PID=$!
  PEER_BASE="http://127.0.0.1:$port"
  wait_http "$PEER_BASE/healthcheck" 60 "$THUMBOR_PID" || { tail -n 20 "$WORK/thumbor.log" >&2; die "thumbor did not start"; }
}

if part peers; then
  stop_imgcloud
  photo_list="$(IFS=,; echo "${PEER_NAMES[*]}")"
  id_list="$(IFS=,; echo "${PEER_IDS[*]}")"
  for fmt in $PEER_FORMATS; do
    for srv in $PEER_SERVERS; do
      # Each server is started fresh for each format, so its peak memory is that format's.
      case "$srv" in
        imgcloud) start_imgcloud; PEER_BASE="$BASE"; pid="$SERVER_PID" ;;
        sharp) start_sharp; pid="$SHARP_PID" ;;
        thumbor) start_thumbor; pid="$THUMBOR_PID" ;;
        *) die "unknown peer server $srv" ;;
      esac
      name="peer-$fmt-$srv"
      rss_start "$pid"
      RUN_BASE="$PEER_BASE" RUN_DURATION="$PEER_DURATION" k6run "$name" peers.js -e SERVER="$srv" -e FORMAT="$fmt" \
        -e Q="$(peer_quality "$fmt")" -e VUS="$PEER_VUS" -e PHOTOS="$photo_list" -e PUBLIC_IDS="$id_list"
      rss_stop "$name"
      case "$srv" in
        imgcloud) stop_imgcloud ;;
        sharp) stop_pid "$SHARP_PID" TERM; SHARP_PID="" ;;
        thumbor) stop_pid "$THUMBOR_PID" TERM; THUMBOR_PID="" ;;
      esac
    done
  done
  start_imgcloud
fi

# ---------------------------------------------------------------- nginx
# shellcheck source=nginx-conf.sh
source "$ROOT/loadtest/nginx-conf.sh"
NGX="$WORK/nginx"
WWW="$WORK/www"
start_nginx() { # start_nginx [tuned|stock [DIR]]: serves $WWW on a free port (NPORT); see nginx-conf.sh
  local dir="${2:-$NGX}"
  NPORT="$(free_port)"
  write_nginx_conf "$dir" "$NPORT" "$WWW" "${1:-tuned}"
  "$NGINX_BIN" -p "$dir" -c "$dir/nginx.conf" > "$dir/logs/stdout.log" 2>&1 &
  NGINX_PID=$!
}
stop_nginx() { stop_pid "$NGINX_PID" QUIT; NGINX_PID=""; }

mirror() { # mirror PATH: fetch PATH from imgcloud into $WWW (twice: the second must be a hit with the same bytes)
  local p="$1" code
  mkdir -p "$WWW$(dirname "$p")"
  code=$(curl -sS -o "$WWW$p" -w '%{http_code}' "$BASE$p")
  [[ "$code" == 200 ]] || die "GET $p answered $code: $(head -c 500 "$WWW$p")"
  curl -sS "$BASE$p" | cmp -s - "$WWW$p" || die "GET $p answered different bytes on the second request"
  chmod -R a+rX "$WWW"
}

# ---------------------------------------------------------------- warm: wrk, imgcloud vs nginx
if part warm; then
  # The WebP rendition of the first peer photo whose size is closest to WRK_TARGET_BYTES.
  best=""; best_d=""
  for w in 96 128 160 192 224 256 320; do
    p="/v1/image/w_$w,f_webp/${PEER_IDS[0]}"
    sz=$(curl -sS -o /dev/null -w '%{size_download}' "$BASE$p")
    d=$(( sz > WRK_TARGET_BYTES ? sz - WRK_TARGET_BYTES : WRK_TARGET_BYTES - sz ))
    if [[ -z "$best_d" ]] || (( d < best_d )); then best="$p"; best_d="$d"; fi
  done
  WRK_PATH="$best"
  mirror "$WRK_PATH"
  WRK_BYTES=$(stat -c %s "$WWW$WRK_PATH")
  # Two nginx peers, tuned (no access log) and stock (a log line per request, as imgcloud's default).
  start_nginx stock "$WORK/nginx-stock"; STOCK_PID=$NGINX_PID; STOCK_PORT=$NPORT
  start_nginx tuned
  for port_pid in "$NPORT:$NGINX_PID" "$STOCK_PORT:$STOCK_PID"; do
    wait_http "http://127.0.0.1:${port_pid%%:*}$WRK_PATH" 20 "${port_pid##*:}" || { cat "$NGX/logs/"*.log >&2; die "nginx did not serve $WRK_PATH"; }
    curl -sS "http://127.0.0.1:${port_pid%%:*}$WRK_PATH" | cmp -s - "$WWW$WRK_PATH" || die "nginx serves different bytes"
  done
  # Warm every server up, so the first round is not the one that pays for page faults and connection setup.
  for url in "$BASE$WRK_PATH" "http://127.0.0.1:$NPORT$WRK_PATH" "http://127.0.0.1:$STOCK_PORT$WRK_PATH"; do
    wrk -t1 -c"$WRK_CONNS" -d2s "$url" >/dev/null 2>&1 || true
  done
  for r in $(seq "$WRK_ROUNDS"); do
    servers=(imgcloud nginx nginx-stock)
    (( r % 2 )) || servers=(nginx-stock nginx imgcloud)
    for who in "${servers[@]}"; do
      case "$who" in
        imgcloud) url="$BASE$WRK_PATH" ;;
        nginx) url="http://127.0.0.1:$NPORT$WRK_PATH" ;;
        nginx-stock) url="http://127.0.0.1:$STOCK_PORT$WRK_PATH" ;;
      esac
      name="wrk-$who-$r"
      log "wrk: $name"
      c0="$(python3 loadtest/cpu_snapshot.py $$) $(date +%s.%N)"
      if wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"$WRK_DURATION" -s loadtest/wrk_report.lua "$url" > "$WORK/$name.txt" 2>&1; then
        python3 - "$WORK/$name.txt" "$name" "$who" "$WRK_PATH" "$WRK_BYTES" "$WRK_THREADS" "$WRK_CONNS" > "$SUMMARIES/$name.json" <<'PY'
import json, sys
txt, name, who, path, size, threads, conns = sys.argv[1:]
d = json.loads([l for l in open(txt) if l.startswith("{")][-1])
d.update(label=name, scenario="wrk", server=who, path=path, file_bytes=int(size), threads=int(threads), vus=int(conns),
         rps=round(d["requests"] / d["duration_s"], 1), error_rate=round(d["errors"] / max(1, d["requests"]), 5))
print(json.dumps(d))
PY
      else
        FAILED+=("$name")
        log "wrk $name failed: $(tail -n 5 "$WORK/$name.txt")"
      fi
      echo "$c0 $(python3 loadtest/cpu_snapshot.py $$) $(date +%s.%N)" > "$SUMMARIES/$name.cpu"
      : > "$WORK/nginx-stock/logs/access.log"  # ~100 bytes a request; keep the disk from filling
    done
  done
  stop_pid "$STOCK_PID" QUIT
  stop_nginx
fi

# ---------------------------------------------------------------- scenarios: imgcloud alone
if part scenarios; then
  k6run cold-small cold.js -e VUS="$COLD_VUS" -e PUBLIC_IDS="$ID_HOPPER,$ID_SAMPLE,$ID_ROTATE,$ID_PHOTO"
  k6run cold-large cold.js -e VUS="$COLD_VUS" -e PUBLIC_IDS="$ID_LARGE"

  # Warm hits, and the same bytes from nginx.
  WARM_PATHS=()
  for id in "$ID_HOPPER" "$ID_ROTATE" "$ID_PHOTO" "$ID_LARGE"; do
    for t in "w_400,f_webp" "w_800,q_75" "w_200,h_200,c_fill,f_jpg"; do
      WARM_PATHS+=("/v1/image/$t/$id")
    done
  done
  for p in "${WARM_PATHS[@]}"; do mirror "$p"; done
  start_nginx
  wait_http "http://127.0.0.1:$NPORT${WARM_PATHS[0]}" 20 "$NGINX_PID" || { cat "$NGX/logs/"*.log >&2; die "nginx did not serve ${WARM_PATHS[0]}"; }
  curl -sS "http://127.0.0.1:$NPORT${WARM_PATHS[0]}" | cmp -s - "$WWW${WARM_PATHS[0]}" || die "nginx serves different bytes"

  PATHS_STR="${WARM_PATHS[*]}"
  for r in $(seq "$WARM_ROUNDS"); do
    k6run "warm-imgcloud-$r" warm.js -e VUS="$WARM_VUS" -e PATHS="$PATHS_STR"
    RUN_BASE="http://127.0.0.1:$NPORT" k6run "warm-nginx-$r" warm.js -e VUS="$WARM_VUS" -e PATHS="$PATHS_STR"
  done
  stop_nginx

  k6run mixed mixed.js -e VUS="$MIXED_VUS" -e FILE="$PHOTOS/photo-100kb.jpg" \
    -e PUBLIC_IDS="$ID_HOPPER,$ID_ROTATE,$ID_PHOTO,$ID_LARGE" -e UPLOAD_RATIO=0.1
  k6run signed signed.js -e VUS="$SIGNED_VUS" -e PUBLIC_IDS="$ID_PRIV1,$ID_PRIV2" -e TRANSFORM="w_400,f_webp"
  k6run upload-100kb upload.js -e VUS="$UPLOAD_VUS" -e FILE="$PHOTOS/photo-100kb.jpg"
  k6run upload-5mb upload.js -e VUS="$UPLOAD_VUS" -e FILE="$PHOTOS/photo-5mb.jpg"
fi

# ---------------------------------------------------------------- report
LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg)"
PEAK_RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo "")
ERRLINES=$(grep -cE ' ERROR |panicked' "$WORK/server.log" || true)
FIVEXX=$(grep -cE 'imgcloud::access.* (GET|HEAD|POST|PATCH|DELETE) [^ ]+ 5[0-9][0-9] ' "$WORK/server.log" || true)
versions=(
  "--nginx-version" "$("$NGINX_BIN" -v 2>&1 | sed 's/^nginx version: //')"
  "--k6-version" "$(k6 version | head -n 1)"
)
command -v wrk >/dev/null 2>&1 && versions+=("--wrk-version" "wrk $(dpkg-query -W -f='${Version}' wrk 2>/dev/null || wrk -v 2>&1 | head -n 1 | cut -d' ' -f2) (Debian)")
part peers && [[ " $PEER_SERVERS " == *" sharp "* ]] && versions+=("--sharp-version" \
  "sharp $(cd "$PEERS_DIR" && node -p 'const s=require("sharp"); s.versions.sharp + " (libvips " + s.versions.vips + ")"'), node $(node --version)")
part peers && [[ " $PEER_SERVERS " == *" thumbor "* ]] && versions+=("--thumbor-version" \
  "$("$THUMBOR_VENV/bin/python" -c "import thumbor, PIL, tornado, sys; from PIL import features; print('thumbor %s (Pillow %s, libavif %s, tornado %s, Python %s)' % (thumbor.__version__, PIL.__version__, features.version('avif'), tornado.version, sys.version.split()[0]))")")
mkdir -p "$(dirname "$OUT")"
python3 loadtest/report.py \
  --summaries "$SUMMARIES" --photos "$WORK/photos.jsonl" --peer-photos "$WORK/peer-photos.jsonl" --out "$OUT" \
  --head "$(cat "$WORK/head.txt")" --tree "$WORK/tree.txt" \
  "${versions[@]}" --backgrounds "$PEER_BG_VERSIONS" \
  --peak-rss-kb "$PEAK_RSS_KB" --server-log-error-lines "$ERRLINES" --server-5xx "$FIVEXX" \
  --settings "PARTS=\"$PARTS\" DURATION=$DURATION PEER_DURATION=$PEER_DURATION PEER_VUS=$PEER_VUS PEER_Q_JPEG=$PEER_Q_JPEG PEER_Q_WEBP=$PEER_Q_WEBP PEER_Q_AVIF=$PEER_Q_AVIF WRK_ROUNDS=$WRK_ROUNDS WRK_DURATION=$WRK_DURATION WRK_THREADS=$WRK_THREADS WRK_CONNS=$WRK_CONNS COLD_VUS=$COLD_VUS WARM_VUS=$WARM_VUS WARM_ROUNDS=$WARM_ROUNDS MIXED_VUS=$MIXED_VUS SIGNED_VUS=$SIGNED_VUS UPLOAD_VUS=$UPLOAD_VUS" \
  --load "$LOAD_START" "$LOAD_END" \
  --failed "${FAILED[*]:-}"
log "wrote $OUT"
python3 - "$SUMMARIES" >&2 <<'PY'
import glob, json, os, sys
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    d = json.load(open(f))
    print(f"  {d['label']:<22} {d['rps']} req/s  p50 {d['p50_ms']} ms  p95 {d['p95_ms']} ms  p99 {d['p99_ms']} ms  errors {d['errors']}")
PY
[[ ${#FAILED[@]} -eq 0 ]] || die "scenarios failed: ${FAILED[*]}"
