#!/usr/bin/env bash
# Builds and starts the server on its embedded defaults (SQLite and originals under ./data, port 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
exec cargo run --release --bin imgcloud -- serve "$@"
