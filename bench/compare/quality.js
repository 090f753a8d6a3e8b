#!/usr/bin/env node
// Output quality for the comparison: PSNR of each side's output against one lossless reference.
//
//   node quality.js INPUT TRANSFORM OURS_FILE SHARP_FILE
//
// The reference is sharp's own pipeline for TRANSFORM with PNG output (same geometry, no lossy
// step), so resampling differences count against the engine, never for it. Both outputs are
// decoded by sharp (libvips reads JPEG, WebP and AVIF), compared on premultiplied RGBA, and the PSNR in dB is
// printed as one JSON line. Needed because encoder speed settings do not map across encoders
// (rav1e vs aom): latency only means something next to size and quality.
'use strict';

const fs = require('fs');
const sharp = require('sharp');
const { sharpPipeline } = require('./mapping');

/** RGBA with colour premultiplied by alpha: the colour under a transparent pixel is invisible, and
 * encoders (libwebp's alpha cleanup) rewrite it freely, so it must not count as error. */
async function rgba(img) {
  const { data, info } = await img.ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  for (let i = 0; i < data.length; i += 4) {
    const a = data[i + 3];
    for (let c = 0; c < 3; c++) data[i + c] = Math.round((data[i + c] * a) / 255);
  }
  return { data, w: info.width, h: info.height };
}

function psnr(a, b) {
  if (a.w !== b.w || a.h !== b.h) return null;
  let se = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = a.data[i] - b.data[i];
    se += d * d;
  }
  const mse = se / a.data.length;
  return mse === 0 ? 99 : +(10 * Math.log10((255 * 255) / mse)).toFixed(2);
}

async function main() {
  const [input, transform, oursFile, sharpFile] = process.argv.slice(2);
  if (!sharpFile) {
    console.error('usage: quality.js INPUT TRANSFORM OURS_FILE SHARP_FILE');
    process.exit(2);
  }
  sharp.cache(false);
  const lossless = transform.split(',').filter((k) => !/^[fq]_/.test(k)).concat('f_png').join(',');
  const ref = await rgba(sharpPipeline(sharp(fs.readFileSync(input)), lossless));
  const ours = await rgba(sharp(fs.readFileSync(oursFile)));
  const theirs = await rgba(sharp(fs.readFileSync(sharpFile)));
  console.log(JSON.stringify({ ours_psnr: psnr(ours, ref), sharp_psnr: psnr(theirs, ref) }));
}

main().catch((e) => {
  console.log(JSON.stringify({ error: String(e && e.message ? e.message : e) }));
  process.exit(1);
});
