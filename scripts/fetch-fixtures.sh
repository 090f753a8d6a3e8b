#!/usr/bin/env bash
# Fetches real third-party test images for the engine's golden tests into tests/fixtures/cache/.
# Sources are package registries only: Pillow's sdist (PyPI; its animated GIF, WebP and APNG, and
# its AVIF samples), pillow-heif 0.17's sdist (PyPI: the last with AVIF samples, 8/10/12-bit,
# monochrome, 4:2:2/4:4:4, and the PNGs they were encoded from), Debian's gdk-pixbuf-tests,
# libgs-common (Ghostscript's ICC profiles: Adobe RGB compatible and a CMYK press profile) and
# afl++-doc (AFL's seed images).
# Every file is pinned by its SHA-256 in tests/fixtures/SHA256SUMS (committed). A cached file is
# kept only while it matches; a missing, empty or changed one makes its source be fetched again,
# and the whole cache is checked with `sha256sum -c` before the script succeeds. So a second run
# takes well under a second, and a corrupted cache or an upstream change fails loudly.
# `--write-sums` fetches what is missing and rewrites the list from the cache: only after
# deliberately changing a version or a file list, and after looking at the new files.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/tests/fixtures/cache"
SUMS="$ROOT/tests/fixtures/SHA256SUMS"
WRITE_SUMS=0
case "${1:-}" in
  "") ;;
  --write-sums) WRITE_SUMS=1 ;;
  *) echo "usage: $0 [--write-sums]" >&2; exit 2 ;;
esac
if ((!WRITE_SUMS)) && [[ ! -f "$SUMS" ]]; then
  echo "$SUMS is missing: it is committed with the repository" >&2
  exit 1
fi
# 11.3.0 has Tests/images/avif/; every older fixture is byte-identical to 11.0.0's.
PILLOW_VERSION="11.3.0"
PILLOW_HEIF_VERSION="0.17.0"
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
  xmp_tags_orientation.png xmp_tags_orientation_exiftool.png
  exif_imagemagick.png exif_imagemagick_orientation.png
  hopper_gray_4bpp.tif multipage-mmap.tiff
  iss634.gif iss634.webp dispose_bgnd_transparency.gif duplicate_number_of_loops.gif
  apng/delay.png apng/num_plays_1.png apng/mode_16bit.png
)
# Pillow's AVIF samples (Tests/images/avif/), kept under the same names.
PILLOW_AVIF_FILES=(
  hopper.avif hopper_avif_write.png
  rot0mir0.avif rot0mir1.avif rot1mir0.avif rot1mir1.avif
  rot2mir0.avif rot2mir1.avif rot3mir0.avif rot3mir1.avif
  transparency.avif icc_profile.avif icc_profile_none.avif star.avifs
)
# pillow-heif's AVIF samples and the PNGs they were made from (tests/images/{heif,non_heif,heif_other/avif}).
HEIF_AVIF_FILES=(
  RGB_8__128x128.avif RGB_10__128x128.avif RGB_12__128x128.avif RGB_8__29x100.avif RGB_10__29x100.avif
  RGBA_8__128x128.avif RGBA_10__128x128.avif RGBA_12__128x128.avif
  L_8__128x128.avif L_10__128x128.avif L_12__128x128.avif LA_8__128x128.avif
)
HEIF_PNG_FILES=(
  RGB_8__128x128.png RGB_16__128x128.png RGB_8__29x100.png RGB_16__29x100.png
  RGBA_8__128x128.png RGBA_16__128x128.png L_8__128x128.png LA_8__128x128.png
)
HEIF_FOX_FILES=(
  fox.profile0.8bpc.yuv420.avif fox.profile0.10bpc.yuv420.avif fox.profile1.8bpc.yuv444.avif
  fox.profile1.10bpc.yuv444.avif fox.profile2.8bpc.yuv422.avif fox.profile2.10bpc.yuv422.avif
  fox.profile2.12bpc.yuv420.avif fox.profile2.12bpc.yuv422.avif fox.profile2.12bpc.yuv444.avif
  L_fox.profile0.8bpc.yuv420.monochrome.avif L_fox.profile0.10bpc.yuv420.monochrome.avif
  L_fox.profile2.12bpc.yuv444.monochrome.avif
)
HEIF_FILES=("${HEIF_AVIF_FILES[@]}" "${HEIF_PNG_FILES[@]}" "${HEIF_FOX_FILES[@]}")
GDK_FILES=(
  bug725582-testrotate.jpg bug725582-testrotate.png
  issue205.jpg
  issue70.jpg
  premature-end.jpg
)
GS_FILES=(a98.icc default_cmyk.icc)
# AFL's seed images (Debian afl++-doc): one picture in many formats, so each is the others' reference.
AFL_FILES=(not_kitty.tiff not_kitty.png)

# The pinned SHA-256 of a fixture, from $SUMS.
pinned() {
  awk -v f="$1" '$2 == f || $2 == "*" f { print $1 }' "$SUMS"
}

# True when any of the files must be fetched: absent, empty, or (unless rewriting the list) not
# matching its pinned hash. A file with no pin is an error: every fixture is pinned.
stale() {
  local f want
  for f in "$@"; do
    [[ -s "$CACHE/$f" ]] || return 0
    ((WRITE_SUMS)) && continue
    want="$(pinned "$f")"
    [[ -n "$want" ]] || { echo "$f has no SHA-256 in $SUMS (run $0 --write-sums after checking it)" >&2; exit 1; }
    if [[ "$(sha256sum <"$CACHE/$f" | cut -d' ' -f1)" != "$want" ]]; then
      echo "cached $f does not match its pinned SHA-256: fetching it again" >&2
      return 0
    fi
  done
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

# pip download of an sdist: only the named package is taken from source, so its build
# requirements (pip prepares metadata even for a download) come as wheels, in seconds.
sdist() {
  local name="$1" version="$2"
  PIP=(pip)
  command -v pip >/dev/null 2>&1 || PIP=(python3 -m pip)
  "${PIP[@]}" download --quiet --no-binary "$name" --no-deps --no-build-isolation \
    "$name==$version" -d "$TMP" 2>/dev/null \
    || "${PIP[@]}" download --quiet --no-binary "$name" --no-deps "$name==$version" -d "$TMP"
}

if stale "${PILLOW_FILES[@]}" "${PILLOW_AVIF_FILES[@]}"; then
  echo "fetching Pillow $PILLOW_VERSION sdist (PyPI) ..."
  sdist pillow "$PILLOW_VERSION"
  tar -xzf "$TMP"/pillow-"$PILLOW_VERSION".tar.gz -C "$TMP" \
    $(printf "pillow-$PILLOW_VERSION/Tests/images/%s " "${PILLOW_FILES[@]}") \
    $(printf "pillow-$PILLOW_VERSION/Tests/images/avif/%s " "${PILLOW_AVIF_FILES[@]}")
  for f in "${PILLOW_FILES[@]}"; do
    mkdir -p "$(dirname "$CACHE/$f")"
    cp "$TMP/pillow-$PILLOW_VERSION/Tests/images/$f" "$CACHE/$f"
  done
  for f in "${PILLOW_AVIF_FILES[@]}"; do
    cp "$TMP/pillow-$PILLOW_VERSION/Tests/images/avif/$f" "$CACHE/$f"
  done
fi

if stale "${HEIF_FILES[@]}"; then
  echo "fetching pillow-heif $PILLOW_HEIF_VERSION sdist (PyPI) ..."
  sdist pillow-heif "$PILLOW_HEIF_VERSION"
  base="pillow_heif-$PILLOW_HEIF_VERSION/tests/images"
  tar -xzf "$TMP"/pillow_heif-"$PILLOW_HEIF_VERSION".tar.gz -C "$TMP" \
    $(printf "$base/heif/%s " "${HEIF_AVIF_FILES[@]}") \
    $(printf "$base/non_heif/%s " "${HEIF_PNG_FILES[@]}") \
    $(printf "$base/heif_other/avif/%s " "${HEIF_FOX_FILES[@]}")
  for f in "${HEIF_AVIF_FILES[@]}"; do cp "$TMP/$base/heif/$f" "$CACHE/$f"; done
  for f in "${HEIF_PNG_FILES[@]}"; do cp "$TMP/$base/non_heif/$f" "$CACHE/$f"; done
  for f in "${HEIF_FOX_FILES[@]}"; do cp "$TMP/$base/heif_other/avif/$f" "$CACHE/$f"; done
fi

if stale "${GDK_FILES[@]}"; then
  echo "fetching Debian gdk-pixbuf-tests ..."
  apt_fetch gdk-pixbuf-tests
  dpkg-deb -x "$TMP"/gdk-pixbuf-tests_*.deb "$TMP/gdk"
  for f in "${GDK_FILES[@]}"; do
    cp "$TMP/gdk/usr/libexec/installed-tests/gdk-pixbuf/$f" "$CACHE/$f"
  done
fi

if stale "${GS_FILES[@]}"; then
  echo "fetching Debian libgs-common ..."
  apt_fetch libgs-common
  dpkg-deb -x "$TMP"/libgs-common_*.deb "$TMP/gs"
  for f in "${GS_FILES[@]}"; do
    cp "$TMP/gs/usr/share/color/icc/ghostscript/$f" "$CACHE/$f"
  done
fi

if stale "${AFL_FILES[@]}"; then
  echo "fetching Debian afl++-doc ..."
  apt_fetch afl++-doc
  dpkg-deb -x "$TMP"/afl++-doc_*.deb "$TMP/afl"
  cp "$TMP/afl/usr/share/doc/afl++-doc/afl/testcases/images/tiff/not_kitty.tiff" "$CACHE/not_kitty.tiff"
  cp "$TMP/afl/usr/share/doc/afl++-doc/afl/testcases/images/png/not_kitty.png" "$CACHE/not_kitty.png"
fi

ALL_FILES=("${PILLOW_FILES[@]}" "${PILLOW_AVIF_FILES[@]}" "${HEIF_FILES[@]}" "${GDK_FILES[@]}" "${GS_FILES[@]}" "${AFL_FILES[@]}")
if ((WRITE_SUMS)); then
  (cd "$CACHE" && sha256sum "${ALL_FILES[@]}") >"$SUMS"
  echo "wrote $SUMS"
fi
# Every pinned file, fetched now or cached, must match; anything else stops the test run here.
if ! (cd "$CACHE" && sha256sum --check --strict --quiet "$SUMS"); then
  echo "the files above were just fetched and still differ from their pins in $SUMS:" >&2
  echo "upstream changed them or the download was tampered with. Review them; only then run $0 --write-sums." >&2
  exit 1
fi
if [[ "$(wc -l <"$SUMS")" -ne "${#ALL_FILES[@]}" ]]; then
  echo "$SUMS pins $(wc -l <"$SUMS") files but the script fetches ${#ALL_FILES[@]}: run $0 --write-sums" >&2
  exit 1
fi

echo "fixtures in $CACHE (SHA-256 checked against ${SUMS#"$ROOT"/}):"
for f in "${ALL_FILES[@]}"; do
  printf '  %-44s %9d bytes\n' "$f" "$(stat -c %s "$CACHE/$f")"
done
