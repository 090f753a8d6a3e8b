#!/bin/sh
# Runs every test of the cloudimg Node.js SDK against the real imgcloud binary.
# Installs what it needs itself (pinned versions from the public npm registry), packs the SDK with
# `npm pack`, installs the tarball into a scratch project like a user would, and runs `node --test`.
# The server binary: $IMGCLOUD_BIN, else <repo>/target/debug/imgcloud, else target/release/imgcloud.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "sdk/node/test.sh: node and npm (Node 18+) are required" >&2
  exit 1
fi
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
if [ "$NODE_MAJOR" -lt 18 ]; then
  echo "sdk/node/test.sh: Node 18+ is required (found $(node --version))" >&2
  exit 1
fi

# Dev dependencies (typescript, @types/node), exactly as pinned in package-lock.json.
npm ci --no-audit --no-fund --loglevel=error

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cloudimg-node-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM

# The publishable artefact, installed into a scratch project as a user would.
npm pack --pack-destination "$WORK" --loglevel=error >"$WORK/pack.out"
TARBALL="$WORK/$(tail -n 1 "$WORK/pack.out")"
test -f "$TARBALL" || { echo "npm pack produced no tarball" >&2; exit 1; }
mkdir "$WORK/consumer"
cat >"$WORK/consumer/package.json" <<'JSON'
{ "name": "cloudimg-consumer", "version": "0.0.0", "private": true }
JSON
(cd "$WORK/consumer" && npm install --no-audit --no-fund --loglevel=error \
  "$TARBALL" typescript@5.4.5 @types/node@20.11.30)

# Installing straight from the repo path works too (README: npm install ./sdk/node).
mkdir "$WORK/from-path"
(cd "$WORK/from-path" && printf '{ "name": "from-path", "private": true }\n' >package.json \
  && npm install --no-audit --no-fund --loglevel=error "$HERE" \
  && node -e "const c = require('cloudimg'); if (typeof c.createClient !== 'function') process.exit(1)" \
  && printf "import { createClient } from 'cloudimg';\nif (typeof createClient !== 'function') process.exit(1);\n" >check.mjs \
  && node check.mjs) || { echo "installing from the repo path failed" >&2; exit 1; }

CLOUDIMG_CONSUMER_DIR="$WORK/consumer" CLOUDIMG_TARBALL="$TARBALL" node --test test/*.test.js
