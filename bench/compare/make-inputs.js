#!/usr/bin/env node
// Makes the benchmark inputs, deterministically, from real third-party photos fetched by
// scripts/fetch-fixtures.sh. Output: target/bench-inputs/ (never committed).
//
//   photo-24mp.jpg              6000x4000 (24.0 MP) baseline JPEG, q90, 4:2:0 (~6.8 MB, ~2.3 bits/px)
//   photo-24mp-progressive.jpg  the same pixels as a progressive JPEG, q90, 4:2:0
//   photo-6mp.jpg               3200x2000 (6.4 MP) baseline JPEG q90 4:2:0: the top-left corner of the
//                               same tiled pixels, a typical phone or web upload (shrinks 1/4 on load)
//   photo-smooth-24mp.jpg       4200x5665 (23.8 MP) baseline JPEG q90: a low-detail night shot
//                               upscaled 1.35x (~2.7 MB, ~0.9 bits/px), the cheap end of real uploads
//   cutout-alpha.png            2000x1500 RGBA PNG: photo texture under a real, soft alpha mask
//   manifest.json               sizes and SHA-256 of the above, plus how they were made
//
// Sources (real photos, not synthetic noise):
//   xmp_test.jpg     2000x1072 Canon EOS photo of textured concrete (Pillow 11.0.0 Tests/images)
//   issue70.jpg      3120x4208 phone photo, night, motion blur (Debian gdk-pixbuf-tests)
//   transparent.png  200x150 RGBA render with soft, semi-transparent edges (Pillow's tests)
//
// The 24 MP photo is xmp_test.jpg mirror-tiled (libvips extend, mirror) to 6000x4000, so every
// pixel keeps the camera's native texture and the JPEG has camera-like entropy; an upscale would
// be smooth and unrealistically cheap to entropy-decode. Deterministic for the pinned sharp version.
//
// Usage: node make-inputs.js [--force]
'use strict';

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const sharp = require('sharp');

const ROOT = path.resolve(__dirname, '..', '..');
const FIXTURES = path.join(ROOT, 'tests', 'fixtures', 'cache');
const OUT = path.join(ROOT, 'target', 'bench-inputs');
const FORCE = process.argv.includes('--force');

const PHOTO = { width: 6000, height: 4000 };
const MID = { width: 3200, height: 2000 };
const SMOOTH_WIDTH = 4200; // issue70.jpg 3120x4208 -> 4200x5665
const CUTOUT = { width: 2000, height: 1500 };
const JPEG_OPTS = { quality: 90, chromaSubsampling: '4:2:0', mozjpeg: false };

function need(file) {
  const p = path.join(FIXTURES, file);
  if (!fs.existsSync(p)) {
    console.error(`missing ${p}: run  bash scripts/fetch-fixtures.sh  first`);
    process.exit(2);
  }
  return p;
}

function sha256(buf) {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

/** 6000x4000 sRGB pixels: xmp_test.jpg mirror-tiled. */
async function photoPixels() {
  const src = need('xmp_test.jpg');
  const m = await sharp(src).metadata();
  const tiled = await sharp(src)
    .toColourspace('srgb')
    .extend({ right: PHOTO.width - m.width, bottom: PHOTO.height - m.height, extendWith: 'mirror' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return tiled;
}

async function smoothPhoto() {
  return sharp(need('issue70.jpg'))
    .rotate() // honour EXIF orientation (1 for this file; kept for safety)
    .resize({ width: SMOOTH_WIDTH, kernel: 'lanczos3' })
    .jpeg({ ...JPEG_OPTS, progressive: false })
    .toBuffer();
}

/** 2000x1500 RGBA: a crop of the tiled photo under transparent.png's alpha, upscaled. */
async function cutoutPixels(photo) {
  const { width, height } = CUTOUT;
  const rgb = await sharp(photo.data, { raw: photo.info })
    .extract({ left: 1000, top: 600, width, height })
    .raw()
    .toBuffer();
  const alpha = await sharp(need('transparent.png'))
    .ensureAlpha()
    .extractChannel(3)
    .resize({ width, height, fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  const rgba = Buffer.alloc(width * height * 4);
  for (let i = 0, j = 0, a = 0; a < width * height; a++, i += 3, j += 4) {
    const al = alpha[a];
    // Fully transparent pixels carry no colour, as in real cut-outs.
    rgba[j] = al ? rgb[i] : 0;
    rgba[j + 1] = al ? rgb[i + 1] : 0;
    rgba[j + 2] = al ? rgb[i + 2] : 0;
    rgba[j + 3] = al;
  }
  return { data: rgba, info: { width, height, channels: 4 } };
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const names = ['photo-24mp.jpg', 'photo-24mp-progressive.jpg', 'photo-6mp.jpg', 'photo-smooth-24mp.jpg', 'cutout-alpha.png'];
  const all = names.every((f) => fs.existsSync(path.join(OUT, f)));
  if (all && !FORCE && fs.existsSync(path.join(OUT, 'manifest.json'))) {
    console.log(`inputs already in ${OUT} (use --force to rebuild)`);
    return;
  }

  const t0 = Date.now();
  const targets = {};
  const photo = await photoPixels();
  const raw = { raw: photo.info };
  targets['photo-24mp.jpg'] = await sharp(photo.data, raw).jpeg({ ...JPEG_OPTS, progressive: false }).toBuffer();
  targets['photo-24mp-progressive.jpg'] = await sharp(photo.data, raw).jpeg({ ...JPEG_OPTS, progressive: true }).toBuffer();
  targets['photo-6mp.jpg'] = await sharp(photo.data, raw)
    .extract({ left: 0, top: 0, ...MID })
    .jpeg({ ...JPEG_OPTS, progressive: false })
    .toBuffer();
  targets['photo-smooth-24mp.jpg'] = await smoothPhoto();
  const cut = await cutoutPixels(photo);
  targets['cutout-alpha.png'] = await sharp(cut.data, { raw: cut.info }).png().toBuffer();

  const recipes = {
    'photo-24mp.jpg': `xmp_test.jpg (2000x1072) mirror-tiled to ${PHOTO.width}x${PHOTO.height}; baseline JPEG q90 4:2:0`,
    'photo-24mp-progressive.jpg': 'same pixels as photo-24mp.jpg; progressive JPEG q90 4:2:0',
    'photo-6mp.jpg': `top-left ${MID.width}x${MID.height} of the same tiled pixels; baseline JPEG q90 4:2:0`,
    'photo-smooth-24mp.jpg': `issue70.jpg (3120x4208) lanczos3 to width ${SMOOTH_WIDTH}; baseline JPEG q90 4:2:0`,
    'cutout-alpha.png': `${CUTOUT.width}x${CUTOUT.height} crop of the tiled photo; alpha = transparent.png alpha upscaled (lanczos3); RGB zeroed where alpha is 0; sharp PNG defaults (zlib level 6)`,
  };
  const manifest = {
    made_by: 'bench/compare/make-inputs.js',
    sharp: sharp.versions.sharp,
    libvips: sharp.versions.vips,
    sources: {
      'xmp_test.jpg': 'Pillow 11.0.0 Tests/images: real 2000x1072 Canon EOS photo',
      'issue70.jpg': 'Debian gdk-pixbuf-tests: real 3120x4208 phone photo',
      'transparent.png': 'Pillow 11.0.0 Tests/images: real 200x150 RGBA render',
    },
    files: {},
  };
  for (const name of names) {
    const buf = targets[name];
    fs.writeFileSync(path.join(OUT, name), buf);
    const m = await sharp(buf).metadata();
    manifest.files[name] = {
      bytes: buf.length,
      width: m.width,
      height: m.height,
      channels: m.channels,
      progressive: !!m.isProgressive,
      bits_per_pixel: +((buf.length * 8) / (m.width * m.height)).toFixed(2),
      sha256: sha256(buf),
      recipe: recipes[name],
    };
  }
  fs.writeFileSync(path.join(OUT, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  for (const [name, f] of Object.entries(manifest.files)) {
    console.log(`  ${name.padEnd(28)} ${f.width}x${f.height} ${String(f.bytes).padStart(9)} bytes  ${f.bits_per_pixel} bpp  ${f.sha256.slice(0, 12)}`);
  }
  console.log(`inputs written to ${OUT} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
