#!/usr/bin/env bash
# Runs every test of the Python SDK: its own venv, pinned tools from the public index, the SDK
# installed from the repo path, mypy --strict, a wheel build, and pytest against the real server.
# Needs python3 (3.9+, with venv) and the imgcloud binary ($IMGCLOUD_BIN or target/{debug,release}).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${CLOUDIMG_TEST_VENV:-$here/.venv}"

if [[ -z "${IMGCLOUD_BIN:-}" ]]; then
  for c in "$repo/target/debug/imgcloud" "$repo/target/release/imgcloud"; do
    if [[ -x "$c" ]]; then export IMGCLOUD_BIN="$c"; break; fi
  done
fi
if [[ -z "${IMGCLOUD_BIN:-}" || ! -x "$IMGCLOUD_BIN" ]]; then
  echo "sdk/python/test.sh: imgcloud binary not found; build it (cargo build) or set IMGCLOUD_BIN" >&2
  exit 1
fi

if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  echo "sdk/python/test.sh: python3 venv support missing; installing python3-venv" >&2
  apt-get install -y -q python3-venv >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q python3-venv >/dev/null; }
fi
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
py="$venv/bin/python"
"$py" -m pip install -q --disable-pip-version-check \
  "httpx==0.28.1" "pytest==8.3.4" "mypy==1.13.0" "build==1.2.2" "setuptools==75.6.0"

echo "== install from the repo path (pip install ./sdk/python)"
"$py" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$here"
"$py" -m pip check
(cd / && "$py" -c 'import cloudimg, sys; print("cloudimg", cloudimg.__version__, "from", cloudimg.__file__)')

echo "== mypy --strict"
(cd "$here" && "$py" -m mypy --strict --no-incremental --cache-dir=/dev/null src tests/typecheck_snippet.py)
if (cd "$here" && "$py" -m mypy --strict --no-incremental --cache-dir=/dev/null tests/typecheck_bad.py >"$venv/mypy-bad.log" 2>&1); then
  echo "mypy --strict accepted tests/typecheck_bad.py (an unknown crop mode and key)" >&2; exit 1
fi
grep -q 'c=\|"stretch"\|Literal' "$venv/mypy-bad.log" && grep -q 'width' "$venv/mypy-bad.log" \
  || { cat "$venv/mypy-bad.log" >&2; echo "mypy rejected typecheck_bad.py for another reason" >&2; exit 1; }

echo "== build the wheel"
rm -rf "$here/dist"
"$py" -m build --wheel --no-isolation --outdir "$here/dist" "$here" >"$venv/build.log" 2>&1 || { cat "$venv/build.log" >&2; exit 1; }
wheel="$(ls "$here"/dist/imgcloud_sdk-*-py3-none-any.whl)"
# grep reads the whole listing (no -q): an early exit would break the pipe under pipefail.
"$py" -m zipfile -l "$wheel" | grep 'cloudimg/py.typed' >/dev/null || { echo "py.typed missing from $wheel" >&2; exit 1; }
echo "$wheel"
rm -rf "$here/src/"*.egg-info "$here/build"

echo "== pytest"
cd "$here"
"$py" -m pytest -p no:cacheprovider tests "$@"
