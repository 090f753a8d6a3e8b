#!/usr/bin/env bash
# Engine vs sharp, end to end: system deps, fixtures, release build, inputs, sharp, comparison,
# criterion benches; writes docs/perf/engine.md and refreshes the key figures in docs/performance.md. Takes roughly 10-20 minutes on 2 cores.
# Not part of the test path (CI never runs it).
#
#   bash bench/compare/run.sh                  # everything
#   bash bench/compare/run.sh --no-criterion   # skip `cargo bench --bench engine` (saves ~5 min)
#   ROUNDS=3 PER_ROUND=5 WARMUP=2 THREADS=1,2 bash bench/compare/run.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/bench/compare"
cd "$ROOT"

CRITERION=1
for a in "$@"; do
  case "$a" in
    --no-criterion) CRITERION=0 ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done

step() { printf '\n==> %s\n' "$*"; }

step "system packages"
bash scripts/system-deps.sh
if [ ! -x /usr/bin/time ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq time >/dev/null
fi
command -v node >/dev/null || { echo "node (>= 20.9) is required for the sharp side" >&2; exit 1; }

step "fixtures"
bash scripts/fetch-fixtures.sh >/dev/null

step "release build"
cargo build --release --bin imgcloud

step "sharp (npm install in bench/compare)"
(cd "$HERE" && npm install --no-audit --no-fund --loglevel=error)

step "inputs"
(cd "$HERE" && node make-inputs.js)

if [ "$CRITERION" = 1 ]; then
  step "criterion: cargo bench --bench engine"
  cargo bench --bench engine --no-run
  node "$HERE/idle.js" 600
  cargo bench --bench engine
fi

step "comparison"
(cd "$HERE" && node compare.js --rounds "${ROUNDS:-3}" --per-round "${PER_ROUND:-5}" --warmup "${WARMUP:-2}" --threads "${THREADS:-1,2}")

step "summary page"
node "$HERE/summary.js"

echo
echo "done: docs/perf/engine.md, key figures in docs/performance.md"
