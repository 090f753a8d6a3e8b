#!/usr/bin/env bash
# Runs every test: installs what the tests need (system packages, fixtures), then the Rust suites.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
bash scripts/fetch-fixtures.sh
mkdir -p target
cargo test --workspace --no-fail-fast 2>&1 | tee target/test-output.txt
