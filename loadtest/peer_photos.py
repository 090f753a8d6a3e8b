#!/usr/bin/env python3
"""Picks the real photos the peer comparison renders, from Debian's desktop-background packages.

usage: peer_photos.py EXTRACTED_ROOT OUTDIR [COUNT [LARGE_ROOT [LARGE_COUNT]]]

EXTRACTED_ROOT holds the packages' files (dpkg-deb -x of mate-backgrounds, gnome-backgrounds).
Takes every JPEG or PNG between MIN_MP and MAX_MP megapixels, in name order, up to COUNT (15),
then from LARGE_ROOT (plasma-workspace-wallpapers) every JPEG of LARGE_MIN_MP-MAX_MP (the 12-15 MP
photos users upload from phones and cameras), up to LARGE_COUNT (6); hard-links (or copies) each
into OUTDIR and prints one JSON line per photo (name, format, width, height, mode, bytes, source
path). KDE names every size of a wallpaper <W>x<H>.jpg under <Name>/contents/images[_dark]/, so
those are renamed <Name>[-dark]-<W>x<H>.jpg. The photos are never committed.
"""
import json
import os
import shutil
import sys

from PIL import Image

# The range is 2.5-15 MP; 2.4 lets in the 1920x1280 (2.46 MP) wallpapers, real photos.
MIN_MP, MAX_MP = 2.4, 15.0
LARGE_MIN_MP = 12.0


def unique_name(p, f):
    parts = p.split(os.sep)
    if len(parts) >= 4 and parts[-3] == "contents" and parts[-2].startswith("images"):
        return parts[-4] + ("-dark" if parts[-2].endswith("_dark") else "") + "-" + f
    return f


def scan(root, formats, min_mp):
    found = []
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            if os.path.islink(p) or not f.lower().endswith((".jpg", ".jpeg", ".png")):
                continue
            try:
                with Image.open(p) as im:
                    fmt, (w, h), mode = im.format, im.size, im.mode
            except OSError:
                continue
            if fmt in formats and min_mp <= w * h / 1e6 <= MAX_MP:
                found.append((unique_name(p, f), p, fmt, w, h, mode, root))
    return sorted(found)


def main():
    root, out = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 15
    found = scan(root, ("JPEG", "PNG"), MIN_MP)[:count]
    if len(sys.argv) > 4:
        large_count = int(sys.argv[5]) if len(sys.argv) > 5 else 6
        found += scan(sys.argv[4], ("JPEG",), LARGE_MIN_MP)[:large_count]
    names = set()
    os.makedirs(out, exist_ok=True)
    for f, p, fmt, w, h, mode, src_root in found:
        if f in names:
            continue
        names.add(f)
        dst = os.path.join(out, f)
        if not os.path.exists(dst):
            try:
                os.link(p, dst)
            except OSError:
                shutil.copyfile(p, dst)
        rel = os.path.relpath(p, src_root)
        print(json.dumps({"name": f, "format": fmt, "width": w, "height": h, "mode": mode,
                          "bytes": os.path.getsize(p), "source": "/" + rel}))
    if not names:
        sys.exit(f"no JPEG/PNG photo of {MIN_MP}-{MAX_MP} MP under {root}")


if __name__ == "__main__":
    main()
