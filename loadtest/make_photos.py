#!/usr/bin/env python3
"""Derives the load-test photos from a real camera photo (a third-party fixture).

usage: make_photos.py SOURCE.jpg OUTDIR

Writes into OUTDIR:
  photo-large.jpg  the source itself when it has >= 12 MP, else upscaled to 4032x3024 (q 90)
  photo-5mb.jpg    full resolution resaved at the quality that lands closest to 5 MB
  photo-100kb.jpg  downscaled to 1024 px on the long side, quality closest to 100 KB
and prints one JSON line per file (name, bytes, width, height, quality).
"""
import io
import json
import shutil
import sys

from PIL import Image, ImageOps

Image.MAX_IMAGE_PIXELS = 200_000_000


def encode(im, q):
    b = io.BytesIO()
    im.save(b, "JPEG", quality=q, subsampling=0 if q >= 90 else 2, optimize=False)
    return b.getvalue()


def closest(im, target):
    """Quality in 10..100 whose encoding is closest to target bytes (sizes grow with quality)."""
    lo, hi = 10, 100
    best = None
    while lo <= hi:
        q = (lo + hi) // 2
        data = encode(im, q)
        if best is None or abs(len(data) - target) < abs(len(best[1]) - target):
            best = (q, data)
        if len(data) < target:
            lo = q + 1
        else:
            hi = q - 1
    return best


def main():
    src, out = sys.argv[1], sys.argv[2]
    im = Image.open(src)
    im.load()
    im = ImageOps.exif_transpose(im).convert("RGB")
    w, h = im.size
    results = []

    large = f"{out}/photo-large.jpg"
    if w * h >= 12_000_000:
        shutil.copyfile(src, large)
        results.append(("photo-large.jpg", None, Image.open(large).size))
    else:
        big = im.resize((4032, 3024), Image.LANCZOS)
        open(large, "wb").write(encode(big, 90))
        results.append(("photo-large.jpg", 90, big.size))

    base = im
    q, data = closest(base, 5_000_000)
    while len(data) < 4_500_000 and base.size[0] * base.size[1] < 16_000_000:
        base = base.resize((int(base.size[0] * 1.2), int(base.size[1] * 1.2)), Image.LANCZOS)
        q, data = closest(base, 5_000_000)
    open(f"{out}/photo-5mb.jpg", "wb").write(data)
    results.append(("photo-5mb.jpg", q, base.size))

    small = im.copy()
    small.thumbnail((1024, 1024), Image.LANCZOS)
    q, data = closest(small, 100_000)
    open(f"{out}/photo-100kb.jpg", "wb").write(data)
    results.append(("photo-100kb.jpg", q, small.size))

    for name, q, (ww, hh) in results:
        size = len(open(f"{out}/{name}", "rb").read())
        print(json.dumps({"name": name, "bytes": size, "width": ww, "height": hh, "quality": q}))


if __name__ == "__main__":
    main()
