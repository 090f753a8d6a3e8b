#!/bin/sh
# Runs the dashboard's browser tests: Playwright (playwright-core, pinned in tests/package-lock.json)
# drives Debian's Chromium headless against the real imgcloud binary, with axe-core on every page.
# Installs what it needs itself: the `chromium` Debian package when missing, then `npm ci`.
# The server binary: $IMGCLOUD_BIN, else <repo>/target/debug/imgcloud (build it with `cargo build`).
# Screenshots (desktop and 390 px) go to $DASHBOARD_SCREENSHOTS, else <repo>/target/dashboard-screenshots.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "dashboard/test.sh: node and npm (Node 18+) are required" >&2
  exit 1
fi
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
if [ "$NODE_MAJOR" -lt 18 ]; then
  echo "dashboard/test.sh: Node 18+ is required (found $(node --version))" >&2
  exit 1
fi

if [ ! -x /usr/bin/chromium ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "dashboard/test.sh: installing Debian's chromium"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"

if [ -z "${IMGCLOUD_BIN:-}" ]; then
  IMGCLOUD_BIN="$REPO/target/debug/imgcloud"
fi
if [ ! -x "$IMGCLOUD_BIN" ]; then
  echo "dashboard/test.sh: no server binary at $IMGCLOUD_BIN; run cargo build or set IMGCLOUD_BIN" >&2
  exit 1
fi
export IMGCLOUD_BIN

SHOTS="${DASHBOARD_SCREENSHOTS:-$REPO/target/dashboard-screenshots}"
rm -rf "$SHOTS"
mkdir -p "$SHOTS"
export DASHBOARD_SCREENSHOTS="$SHOTS"

cd "$HERE/tests"
npm ci --no-audit --no-fund --loglevel=error

status=0
node --test --test-concurrency=1 urls.test.js keys.test.js scenario.test.js extras.test.js || status=$?
echo "dashboard screenshots (desktop and 390 px): $SHOTS"
exit "$status"
