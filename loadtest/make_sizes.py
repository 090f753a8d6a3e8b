#!/usr/bin/env python3
"""Makes photo-like inputs of given sizes for the render-latency curve (loadtest/curves.sh).

usage: make_sizes.py SOURCE OUTDIR MP [MP ...]

For each MP (megapixels, at most 100: the server's input cap) writes OUTDIR/photo-<MP>mp.jpg (q90,
4:2:0) and OUTDIR/photo-<MP>mp.png (RGB, zlib level 1), 3:2, made from the real photo SOURCE
resized to that area plus gaussian luma grain (sigma 6), so every size keeps a camera-like entropy
instead of the smoothness of an upscale. Existing files are kept (they are deterministic). Prints
one JSON line per file (name, format, width, height, bytes).
"""
import json
import math
import os
import sys

from PIL import Image, ImageChops, ImageOps

Image.MAX_IMAGE_PIXELS = 200_000_000


def main():
    src, out, mps = sys.argv[1], sys.argv[2], [float(m) for m in sys.argv[3:]]
    os.makedirs(out, exist_ok=True)
    base = None
    for mp in mps:
        w = int(math.sqrt(mp * 1e6 * 1.5))
        h = int(mp * 1e6 / w)
        tag = f"{mp:g}mp"
        paths = {"jpeg": f"{out}/photo-{tag}.jpg", "png": f"{out}/photo-{tag}.png"}
        if not all(os.path.exists(p) for p in paths.values()):
            if base is None:
                base = ImageOps.exif_transpose(Image.open(src)).convert("RGB")
            im = ImageOps.fit(base, (w, h), Image.BICUBIC)
            noise = Image.effect_noise((w, h), 6).convert("RGB")
            im = ImageChops.add(im, noise, 1.0, -128)
            del noise
            im.save(paths["jpeg"] + ".tmp", "JPEG", quality=90, subsampling=2)
            im.save(paths["png"] + ".tmp", "PNG", compress_level=1)
            del im
            for p in paths.values():
                os.replace(p + ".tmp", p)
        for fmt, p in paths.items():
            print(json.dumps({"name": os.path.basename(p), "mp": mp, "format": fmt, "width": w, "height": h,
                              "bytes": os.path.getsize(p)}))


if __name__ == "__main__":
    main()
