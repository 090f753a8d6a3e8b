#!/usr/bin/env node
// The sharp side of the comparison, in its own process so the libvips thread setting and memory
// are per measurement:
//
//   node sharp-worker.js --threads N [--runs R --warmup W] [--out FILE] [--avif-effort E] INPUT TRANSFORM
//
// Reads INPUT into memory once, then renders it R times one at a time (sharp.cache(false), so
// libvips cannot reuse an earlier run's result), timing each render from Buffer in to Buffer out.
// With --runs 1 it is the "one render" process measured for peak RSS.
// Prints one JSON line like benches/render_loop.rs does.
'use strict';

const fs = require('fs');
const { performance } = require('perf_hooks');
const sharp = require('sharp');
const { sharpPipeline } = require('./mapping');

function main() {
  const args = process.argv.slice(2);
  let threads = 1;
  let runs = 15;
  let warmup = 2;
  let out = null;
  let avifEffort;
  const pos = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--threads') threads = Number(args[++i]);
    else if (a === '--runs') runs = Number(args[++i]);
    else if (a === '--warmup') warmup = Number(args[++i]);
    else if (a === '--out') out = args[++i];
    else if (a === '--avif-effort') avifEffort = Number(args[++i]);
    else pos.push(a);
  }
  if (pos.length !== 2 || !(runs > warmup) || !(threads >= 1)) {
    console.error('usage: sharp-worker.js --threads N [--runs R --warmup W] [--out FILE] INPUT TRANSFORM');
    process.exit(2);
  }
  const [input, transform] = pos;
  sharp.concurrency(threads);
  sharp.cache(false);
  const bytes = fs.readFileSync(input);
  return (async () => {
    const times = [];
    let last = null;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      last = await sharpPipeline(sharp(bytes), transform, { avifEffort }).toBuffer({ resolveWithObject: true });
      times.push(performance.now() - t0);
    }
    if (out) fs.writeFileSync(out, last.data);
    console.log(
      JSON.stringify({
        times_ms: times.slice(warmup).map((t) => +t.toFixed(3)),
        warmup,
        bytes: last.data.length,
        width: last.info.width,
        height: last.info.height,
        format: last.info.format,
        vips_threads: sharp.concurrency(),
      }),
    );
  })();
}

main().catch((e) => {
  console.log(JSON.stringify({ error: String(e && e.message ? e.message : e) }));
  process.exit(1);
});
