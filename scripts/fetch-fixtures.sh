#!/usr/bin/env bash
# Fetches real third-party test images for the engine's golden tests into tests/fixtures/cache/.
# Sources are package registries only: Pillow's sdist (PyPI), Debian's gdk-pixbuf-tests and
# libgs-common (Ghostscript's ICC profiles: Adobe RGB compatible and a CMYK press profile).
# Idempotent: files already present are kept, so a second run takes well under a second.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/tests/fixtures/cache"
PILLOW_VERSION="11.0.0"
mkdir -p "$CACHE"

PILLOW_FILES=(
  hopper.jpg
  hopper_orientation_2.jpg hopper_orientation_3.jpg hopper_orientation_4.jpg
  hopper_orientation_5.jpg hopper_orientation_6.jpg hopper_orientation_7.jpg
  hopper_orientation_8.jpg
  hopper.png hopper.webp hopper.gif hopper.bmp hopper.tif
  pil_sample_cmyk.jpg pil_sample_rgb.jpg
  xmp_test.jpg
  transparent.png
  truncated_jpeg.jpg
)
GDK_FILES=(
  bug725582-testrotate.jpg bug725582-testrotate.png
  issue205.jpg
  issue70.jpg
  premature-end.jpg
)
GS_FILES=(a98.icc default_cmyk.icc)

missing() {
  local f
  for f in "$@"; do [[ -s "$CACHE/$f" ]] || return 0; done
  return 1
}

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# apt-get download into $TMP, refreshing the package lists once if they are missing or stale.
apt_fetch() {
  if ! (cd "$TMP" && apt-get download "$1" >/dev/null 2>&1); then
    apt-get update -qq >/dev/null 2>&1 || true
    (cd "$TMP" && apt-get download "$1" >/dev/null 2>&1) || { echo "apt-get download $1 failed" >&2; exit 1; }
  fi
}

if missing "${PILLOW_FILES[@]}"; then
  echo "fetching Pillow $PILLOW_VERSION sdist (PyPI) ..."
  PIP=(pip)
  command -v pip >/dev/null 2>&1 || PIP=(python3 -m pip)
  "${PIP[@]}" download --quiet --no-binary :all: --no-deps --no-build-isolation \
    "pillow==$PILLOW_VERSION" -d "$TMP" 2>/dev/null \
    || "${PIP[@]}" download --quiet --no-binary :all: --no-deps "pillow==$PILLOW_VERSION" -d "$TMP"
  tar -xzf "$TMP"/pillow-"$PILLOW_VERSION".tar.gz -C "$TMP" \
    $(printf "pillow-$PILLOW_VERSION/Tests/images/%s " "${PILLOW_FILES[@]}")
  for f in "${PILLOW_FILES[@]}"; do
    cp "$TMP/pillow-$PILLOW_VERSION/Tests/images/$f" "$CACHE/$f"
  done
fi

if missing "${GDK_FILES[@]}"; then
  echo "fetching Debian gdk-pixbuf-tests ..."
  apt_fetch gdk-pixbuf-tests
  dpkg-deb -x "$TMP"/gdk-pixbuf-tests_*.deb "$TMP/gdk"
  for f in "${GDK_FILES[@]}"; do
    cp "$TMP/gdk/usr/libexec/installed-tests/gdk-pixbuf/$f" "$CACHE/$f"
  done
fi

if missing "${GS_FILES[@]}"; then
  echo "fetching Debian libgs-common ..."
  apt_fetch libgs-common
  dpkg-deb -x "$TMP"/libgs-common_*.deb "$TMP/gs"
  for f in "${GS_FILES[@]}"; do
    cp "$TMP/gs/usr/share/color/icc/ghostscript/$f" "$CACHE/$f"
  done
fi

echo "fixtures in $CACHE:"
for f in "${PILLOW_FILES[@]}" "${GDK_FILES[@]}" "${GS_FILES[@]}"; do
  printf '  %-28s %9d bytes\n' "$f" "$(stat -c %s "$CACHE/$f")"
done
