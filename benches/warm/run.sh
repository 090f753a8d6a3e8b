#!/usr/bin/env bash
# Warm cache hits of the release binary against nginx serving the same bytes from disk, with wrk,
# in alternating rounds of one run; prints a markdown table and the ratios (docs/performance.md).
# nginx runs twice: tuned (no access log, open file cache) and stock (Debian's settings, a log line
# per request like imgcloud's default); see loadtest/nginx-conf.sh.
#
#   bash benches/warm/run.sh
#
# Knobs (defaults in brackets): ROUNDS [3] (each round runs every server, in reverse order on even
# rounds), SECS [10] per wrk run, CONNS [16] (wrk -t1 -cCONNS), TRANSFORM [f_webp] applied to
# hopper.jpg (128x128; f_webp gives ~4 KB), BIN [target/release/imgcloud, built if missing],
# BASELINE=<another imgcloud binary> also times that build in every round (before/after in one
# run), FLOOR=1 also times actix-http alone sending the same headers and bytes (floor.rs: what the
# HTTP stack costs without our code), HEALTHZ=1 also times /healthz, and any IMGCLOUD_* variable set in the
# caller's environment reaches the server (e.g. IMGCLOUD_SERVER__WORKERS=1).
# Everything listens on 127.0.0.1 on free ports; every process started here is stopped on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
ROUNDS="${ROUNDS:-3}"
SECS="${SECS:-10}"
CONNS="${CONNS:-16}"
TRANSFORM="${TRANSFORM:-f_webp}"
BIN="${BIN:-$ROOT/target/release/imgcloud}"

log() { printf '[warm %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
wait_http() { # wait_http URL PID
  for _ in $(seq 600); do
    curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

command -v wrk >/dev/null || { log "installing wrk and nginx (apt)"; apt-get install -y -qq wrk nginx >/dev/null; }
NGINX_BIN="$(command -v nginx || echo /usr/sbin/nginx)"
[[ -x "$NGINX_BIN" ]] || apt-get install -y -qq nginx >/dev/null
[[ -x "$BIN" ]] || cargo build --release --bin imgcloud
[[ -f tests/fixtures/cache/hopper.jpg ]] || bash scripts/fetch-fixtures.sh >/dev/null

WORK="$(mktemp -d /tmp/imgcloud-warm.XXXXXX)"
chmod 755 "$WORK"
PIDS=()
cleanup() {
  local rc=$?
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [[ "${KEEP_WORK:-0}" == 1 || $rc -ne 0 ]] && log "work dir kept: $WORK" || rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_imgcloud() { # start_imgcloud BIN NAME -> prints its base URL, after uploading and rendering
  local bin="$1" name="$2" port base
  port="$(free_port)"
  base="http://127.0.0.1:$port"
  env IMGCLOUD_LISTEN="127.0.0.1:$port" IMGCLOUD_DATA_DIR="$WORK/data-$name" \
      IMGCLOUD_ADMIN_EMAIL=admin@bench.local IMGCLOUD_ADMIN_PASSWORD=bench-password-1 \
      "$bin" serve > "$WORK/server-$name.log" 2>&1 &
  echo "$!" > "$WORK/pid-$name"  # a subshell: the caller adds it to PIDS
  wait_http "$base/healthz" "$!" || { tail -n 20 "$WORK/server-$name.log" >&2; die "imgcloud ($name) did not start"; }
  curl -fsS -c "$WORK/jar" -o /dev/null -H 'content-type: application/json' \
    -d '{"email":"admin@bench.local","password":"bench-password-1"}' "$base/v1/auth/login"
  curl -fsS -b "$WORK/jar" -o "$WORK/key.json" -H 'content-type: application/json' -H "origin: $base" \
    -d '{"name":"warm"}' "$base/v1/api-keys"
  local auth="ApiKey $(json_field key_id < "$WORK/key.json"):$(json_field key_secret < "$WORK/key.json")"
  curl -fsS -H "Authorization: $auth" -F "file=@tests/fixtures/cache/hopper.jpg;type=image/jpeg" \
    -F public_id=warm/hopper "$base/v1/upload" > /dev/null
  echo "$base"
}
BASE="$(start_imgcloud "$BIN" ours)"
SERVER_PID="$(cat "$WORK/pid-ours")"
PIDS+=("$SERVER_PID")
URL_PATH="/v1/image/$TRANSFORM/warm/hopper"
if [[ -n "${BASELINE:-}" ]]; then
  OLD="$(start_imgcloud "$BASELINE" baseline)"
  PIDS+=("$(cat "$WORK/pid-baseline")")
  curl -fsS -o "$WORK/baseline.bin" "$OLD$URL_PATH"
fi

WWW="$WORK/www"
mkdir -p "$WWW$(dirname "$URL_PATH")"
curl -fsS -o "$WWW$URL_PATH" "$BASE$URL_PATH"
curl -fsS "$BASE$URL_PATH" | cmp -s - "$WWW$URL_PATH" || die "the second fetch gave other bytes"
chmod -R a+rX "$WWW"
BODY_BYTES="$(stat -c %s "$WWW$URL_PATH")"

# Two nginx peers on the same files: `tuned` (no access log, open file cache: nginx at its best)
# and `stock` (Debian's nginx.conf settings: a log line per request, as imgcloud writes by default).
# shellcheck source=../../loadtest/nginx-conf.sh
source "$ROOT/loadtest/nginx-conf.sh"
declare -A NGX_URL
for profile in tuned stock; do
  port="$(free_port)"
  write_nginx_conf "$WORK/nginx-$profile" "$port" "$WWW" "$profile"
  "$NGINX_BIN" -p "$WORK/nginx-$profile" -c "$WORK/nginx-$profile/nginx.conf" > "$WORK/nginx-$profile/logs/stdout.log" 2>&1 &
  PIDS+=("$!")
  NGX_URL[$profile]="http://127.0.0.1:$port$URL_PATH"
  wait_http "${NGX_URL[$profile]}" "$!" || die "nginx ($profile) did not start"
  curl -fsS "${NGX_URL[$profile]}" | cmp -s - "$WWW$URL_PATH" || die "nginx ($profile) serves other bytes"
done

run() { # run NAME URL -> req/s
  local out
  out="$(wrk -t1 -c"$CONNS" -d"${SECS}s" --latency "$2")"
  echo "$out" > "$WORK/wrk-$1.txt"
  grep -q 'Non-2xx' <<<"$out" && die "$1: non-2xx answers: $out"
  awk '/Requests\/sec/ {print $2}' <<<"$out"
}

log "body $BODY_BYTES bytes at $URL_PATH; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
NAMES=(imgcloud); URLS=("$BASE$URL_PATH")
[[ -n "${BASELINE:-}" ]] && { NAMES+=(baseline); URLS+=("$OLD$URL_PATH"); }
if [[ "${FLOOR:-0}" == 1 ]]; then
  # The HTTP stack alone, sending the same headers and bytes (benches/warm/floor.rs).
  [[ -x "$ROOT/target/release/examples/warm_floor" ]] || cargo build --release --example warm_floor
  curl -fsS -D "$WORK/hit.headers" -o /dev/null "$BASE$URL_PATH"
  fport="$(free_port)"
  "$ROOT/target/release/examples/warm_floor" "$fport" "$WWW$URL_PATH" "$WORK/hit.headers" > "$WORK/floor.log" 2>&1 &
  PIDS+=("$!")
  wait_http "http://127.0.0.1:$fport$URL_PATH" "$!" || die "warm_floor did not start"
  curl -fsS "http://127.0.0.1:$fport$URL_PATH" | cmp -s - "$WWW$URL_PATH" || die "warm_floor serves other bytes"
  NAMES+=(floor); URLS+=("http://127.0.0.1:$fport$URL_PATH")
fi
ratio_names=("${NAMES[@]}")  # every server so far is compared with both nginx peers
NAMES+=(nginx-tuned nginx-stock); URLS+=("${NGX_URL[tuned]}" "${NGX_URL[stock]}")
head="| round |"; rule="|---:|"
for n in "${NAMES[@]}"; do head+=" $n req/s |"; rule+="---:|"; done
for n in "${ratio_names[@]}"; do head+=" $n / tuned | $n / stock |"; rule+="---:|---:|"; done
echo "$head"; echo "$rule"
declare -A SUM
row() { # row LABEL VALUES... (one per NAMES entry, in order)
  local label="$1" line; shift
  local -A v
  for n in "${NAMES[@]}"; do v[$n]="$1"; shift; done
  line="| $label |"
  for n in "${NAMES[@]}"; do line+="$(printf ' %.0f |' "${v[$n]}")"; done
  for n in "${ratio_names[@]}"; do
    line+="$(printf ' %.2f | %.2f |' "$(echo "${v[$n]} / ${v[nginx-tuned]}" | bc -l)" "$(echo "${v[$n]} / ${v[nginx-stock]}" | bc -l)")"
  done
  echo "$line"
}
for r in $(seq "$ROUNDS"); do
  # Alternate the order, so no server always runs on a box warmed (or disturbed) by another.
  order=("${!NAMES[@]}")
  (( r % 2 )) || order=($(printf '%s\n' "${order[@]}" | tac))
  declare -A got=()
  for i in "${order[@]}"; do
    n="${NAMES[$i]}"
    got[$n]="$(run "$n-$r" "${URLS[$i]}")"
    SUM[$n]="$(echo "${SUM[$n]:-0} + ${got[$n]}" | bc -l)"
    # The stock peer's log grows by ~100 bytes a request; keep it from filling the disk.
    : > "$WORK/nginx-stock/logs/access.log"
  done
  vals=(); for n in "${NAMES[@]}"; do vals+=("${got[$n]}"); done
  row "$r" "${vals[@]}"
done
vals=(); for n in "${NAMES[@]}"; do vals+=("$(echo "${SUM[$n]} / $ROUNDS" | bc -l)"); done
row "**mean**" "${vals[@]}"
if [[ "${HEALTHZ:-0}" == 1 ]]; then
  printf '| /healthz | %.0f |\n' "$(run healthz "$BASE/healthz")"
fi
log "load after: $(cut -d' ' -f1-3 /proc/loadavg); imgcloud peak RSS $(awk '/VmHWM/ {print $2, $3}' /proc/$SERVER_PID/status)"
log "response: $(curl -sS -o /dev/null -D - "$BASE$URL_PATH" | wc -c) header bytes from imgcloud, $(curl -sS -o /dev/null -D - "${NGX_URL[tuned]}" | wc -c) from nginx"
