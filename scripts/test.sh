#!/usr/bin/env bash
# Runs every test: installs what the tests need (system packages, fixtures, SDK toolchains, Chromium), checks vendor/rav1d against its crate, then the Rust suites, both SDKs' suites and the dashboard's browser tests against the built server.
set -uo pipefail
cd "$(dirname "$0")/.."
set -e
bash scripts/system-deps.sh
bash scripts/fetch-fixtures.sh
mkdir -p target
set +e
failed=()
# vendor/rav1d must be exactly the published crate plus our patch (PATCHED.md).
bash scripts/vendor-rav1d.sh --check || failed+=("vendor/rav1d")
# The Rust suites build target/debug/imgcloud, which the SDK suites start as their server.
cargo test --workspace --no-fail-fast 2>&1 | tee target/test-output.txt
[ "${PIPESTATUS[0]}" -eq 0 ] || failed+=("rust")
for sdk in sdk/node sdk/python dashboard; do
  if [ -f "$sdk/test.sh" ]; then
    echo "== $sdk"
    IMGCLOUD_BIN="$PWD/target/debug/imgcloud" bash "$sdk/test.sh" || failed+=("$sdk")
  else
    failed+=("$sdk (no test.sh)")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all suites passed"
