#!/usr/bin/env python3
"""Picks the real photos the peer comparison renders, from Debian's desktop-background packages.

usage: peer_photos.py EXTRACTED_ROOT OUTDIR [COUNT]

EXTRACTED_ROOT holds the packages' files (dpkg-deb -x of mate-backgrounds, gnome-backgrounds).
Takes every JPEG or PNG between MIN_MP and MAX_MP megapixels, in name order, up to COUNT (15),
hard-links (or copies) each into OUTDIR under its file name, and prints one JSON line per photo
(name, format, width, height, mode, bytes, source path). The photos are never committed.
"""
import json
import os
import shutil
import sys

from PIL import Image

# The range is 2.5-15 MP; 2.4 lets in the 1920x1280 (2.46 MP) wallpapers, real photos.
MIN_MP, MAX_MP = 2.4, 15.0


def main():
    root, out = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 15
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
            if fmt in ("JPEG", "PNG") and MIN_MP <= w * h / 1e6 <= MAX_MP:
                found.append((f, p, fmt, w, h, mode))
    found.sort()
    names = set()
    os.makedirs(out, exist_ok=True)
    for f, p, fmt, w, h, mode in found[:count]:
        if f in names:
            continue
        names.add(f)
        dst = os.path.join(out, f)
        if not os.path.exists(dst):
            try:
                os.link(p, dst)
            except OSError:
                shutil.copyfile(p, dst)
        rel = os.path.relpath(p, root)
        print(json.dumps({"name": f, "format": fmt, "width": w, "height": h, "mode": mode,
                          "bytes": os.path.getsize(p), "source": "/" + rel}))
    if not names:
        sys.exit(f"no JPEG/PNG photo of {MIN_MP}-{MAX_MP} MP under {root}")


if __name__ == "__main__":
    main()
