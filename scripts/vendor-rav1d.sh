#!/usr/bin/env bash
# Regenerates vendor/rav1d from the published rav1d crate plus our patch (vendor/rav1d/PATCHED.md);
# `--check` regenerates into a temporary directory and fails if vendor/rav1d differs from it.
# The .crate comes from crates.io and is pinned by the SHA-256 the crates.io index lists for
# this version (Cargo.lock cannot vouch for it: the `[patch.crates-io]` path entry has no checksum).
# The patch, all mechanical, so a reviewer can trust the 55k vendored lines by reading this script:
#   - every `extern "C"` in src/ and include/ becomes `extern "C-unwind"`;
#   - lib.rs starts with `#![allow(warnings)]`;
#   - packaging files are left out (.cargo_vcs_info.json, .github/, Cargo.toml.orig, rust-toolchain.toml);
#   - PATCHED.md is ours, kept as it is.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$ROOT/vendor/rav1d"
VERSION="1.1.0"
SHA256="1932f060d5e7bd49dc9f8b272c1dc5e9ce0ffe141c28be900265d3989b36c9ed"
URL="https://static.crates.io/crates/rav1d/rav1d-$VERSION.crate"
ALLOW='#![allow(warnings)] // img-cloud: a vendored dependency; its lints are upstream'"'"'s business (PATCHED.md).'

CHECK=0
case "${1:-}" in
  "") ;;
  --check) CHECK=1 ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# Cargo keeps downloaded crates here; rav1d is only there if something fetched it unpatched.
CRATE="$WORK/rav1d-$VERSION.crate"
cached=("${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/rav1d-"$VERSION".crate)
if [[ -f "${cached[0]}" ]]; then
  cp "${cached[0]}" "$CRATE"
else
  curl -sSfL --retry 3 -o "$CRATE" "$URL"
fi
echo "$SHA256  $CRATE" | sha256sum -c --quiet - || { echo "rav1d-$VERSION.crate does not match its pinned SHA-256" >&2; exit 1; }

tar -xzf "$CRATE" -C "$WORK"
NEW="$WORK/rav1d-$VERSION"
rm -rf "$NEW/.cargo_vcs_info.json" "$NEW/.github" "$NEW/Cargo.toml.orig" "$NEW/rust-toolchain.toml"
grep -rlZ 'extern "C"' "$NEW/src" "$NEW/include" | xargs -0 sed -i 's/extern "C"/extern "C-unwind"/g'
{ echo "$ALLOW"; cat "$NEW/lib.rs"; } > "$WORK/lib.rs" && cat "$WORK/lib.rs" > "$NEW/lib.rs"
cp "$VENDOR/PATCHED.md" "$NEW/PATCHED.md"

if ((CHECK)); then
  # Contents and the executable bit (git keeps both).
  modes() { (cd "$1" && find . -type f -perm -u+x | sort); }
  if diff -r "$NEW" "$VENDOR" > "$WORK/diff.txt" && diff <(modes "$NEW") <(modes "$VENDOR") >> "$WORK/diff.txt"; then
    echo "vendor/rav1d is rav1d $VERSION from crates.io plus PATCHED.md's patch"
  else
    head -n 50 "$WORK/diff.txt" >&2
    echo "vendor/rav1d differs from rav1d $VERSION plus the patch: run scripts/vendor-rav1d.sh, or put the change in the script" >&2
    exit 1
  fi
else
  rm -rf "$VENDOR"
  cp -a "$NEW" "$VENDOR"
  echo "vendor/rav1d regenerated from rav1d $VERSION"
fi
