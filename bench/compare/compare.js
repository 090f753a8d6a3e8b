#!/usr/bin/env node
// imgcloud-engine vs sharp on the same inputs and transforms; writes docs/perf/engine.md.
//
//   node compare.js [--rounds 3] [--per-round 5] [--warmup 2] [--threads 1,2] [--rss-runs 3] [--cli-runs 7]
//                   [--out ../../docs/perf/engine.md] [--no-wait] [--report-only]
//
// Needs: target/release/imgcloud (cargo build --release --bin imgcloud), the inputs
// (node make-inputs.js), /usr/bin/time. Builds benches/render_loop.rs itself (cargo bench --no-run).
// Normally run through bench/compare/run.sh. Nothing here is in the test path.
//
// What is measured, per render path (benches/common/mod.rs) and per thread setting:
//   latency  in-process on both sides: input bytes already in memory, output kept in memory, one
//            render at a time; alternating rounds of fresh processes per side, each discarding its
//            first W renders; the median of all timed renders is reported.
//            Ours: benches/render_loop.rs (release profile) with RAYON_NUM_THREADS=N.
//            sharp: sharp-worker.js with sharp.concurrency(N) and sharp.cache(false).
//   memory   peak RSS ("Maximum resident set size" from /usr/bin/time -v) of a process doing one
//            render: `imgcloud render IN T OUT` vs `node sharp-worker.js --runs 1`; median of a few.
//            The same for a tiny input gives each side's baseline (node + libvips vs a Rust binary).
//   CLI      `imgcloud render` wall time per spawn (process start, file read/write included), and
//            the spawn overhead on a tiny image, to relate in-process numbers to the CLI.
//   criterion medians from target/criterion/render/<id>/new/estimates.json when present.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync, execFileSync } = require('child_process');
const { performance } = require('perf_hooks');
const sharp = require('sharp');
const { describe, AVIF_EFFORT } = require('./mapping');
const { cpuBusy, waitIdle } = require('./idle');

const ROOT = path.resolve(__dirname, '..', '..');
const INPUTS = path.join(ROOT, 'target', 'bench-inputs');
const SCRATCH = path.join(ROOT, 'target', 'bench-compare');
const RESULTS = path.join(SCRATCH, 'results.json');
const IMGCLOUD = path.join(ROOT, 'target', 'release', 'imgcloud');
const TINY = path.join(ROOT, 'tests', 'fixtures', 'cache', 'hopper.jpg');
const TINY_T = 'w_16,f_jpg';
const GOAL_RATIO = 0.9;
// The engine's AVIF speed for the second reference point (its default is 9, config/default.toml).
const OURS_ALT_SPEED = 8;

// ---------------------------------------------------------------- args
const argv = process.argv.slice(2);
function opt(name, dflt) {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
}
const SETTINGS = {
  ROUNDS: Number(opt('rounds', 3)),
  PER_ROUND: Number(opt('per-round', 5)),
  WARMUP: Number(opt('warmup', 2)),
  RSS_RUNS: Number(opt('rss-runs', 3)),
  CLI_RUNS: Number(opt('cli-runs', 7)),
};
const ROUNDS = SETTINGS.ROUNDS;
const PER_ROUND = SETTINGS.PER_ROUND;
const WARMUP = SETTINGS.WARMUP;
const THREADS = String(opt('threads', '1,2')).split(',').map(Number);
const RSS_RUNS = SETTINGS.RSS_RUNS;
const CLI_RUNS = SETTINGS.CLI_RUNS;
const OUT = path.resolve(opt('out', path.join(ROOT, 'docs', 'perf', 'engine.md')));
const WAIT = !argv.includes('--no-wait');

// ---------------------------------------------------------------- helpers
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmtMs = (x) => (x == null ? 'n/a' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const fmtMB = (kb) => (kb == null ? 'n/a' : (kb / 1024).toFixed(0));
const fmtBytes = (b) => (b == null ? 'n/a' : b.toLocaleString('en-US'));
const sh = (cmd, args, o = {}) => execFileSync(cmd, args, { encoding: 'utf8', cwd: ROOT, ...o }).trim();
const tryShell = (cmd, args) => {
  try {
    return sh(cmd, args);
  } catch {
    return 'n/a';
  }
};
const log = (...a) => console.error(...a);

function waitIdleMaybe(label) {
  return WAIT ? waitIdle(label) : cpuBusy();
}

function parseJsonLine(out, what) {
  const line = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) throw new Error(`${what}: no JSON in output:\n${out}`);
  const j = JSON.parse(line);
  if (j.error) throw new Error(`${what}: ${j.error}`);
  return j;
}

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

/** Peak RSS in KiB of one command, via GNU time. */
function peakRss(cmd, args, env = {}) {
  const tf = path.join(SCRATCH, 'time.txt');
  run('/usr/bin/time', ['-v', '-o', tf, cmd, ...args], env);
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(fs.readFileSync(tf, 'utf8'));
  if (!m) throw new Error('no RSS in /usr/bin/time output');
  return Number(m[1]);
}

function medianRss(cmd, args, env) {
  const xs = [];
  for (let i = 0; i < RSS_RUNS; i++) xs.push(peakRss(cmd, args, env));
  return median(xs);
}

/** Wall time of spawning `imgcloud render` once, in ms. */
function cliOnce(input, t, out, env) {
  const t0 = performance.now();
  run(IMGCLOUD, ['render', input, t, out], env);
  return performance.now() - t0;
}

function cliMedian(input, t, out, env) {
  const xs = [];
  for (let i = 0; i < CLI_RUNS + 1; i++) xs.push(cliOnce(input, t, out, env));
  return median(xs.slice(1));
}

/** The paths from benches/common/mod.rs, so the Rust benches and this script cannot drift. */
function paths() {
  const src = fs.readFileSync(path.join(ROOT, 'benches', 'common', 'mod.rs'), 'utf8');
  const re = /Path\s*\{\s*id:\s*"([^"]+)",\s*input:\s*"([^"]+)",\s*transform:\s*"([^"]+)"\s*\}/g;
  const ps = [];
  for (let m; (m = re.exec(src)); ) ps.push({ id: m[1], input: m[2], transform: m[3] });
  if (!ps.length) throw new Error('no paths found in benches/common/mod.rs');
  return ps;
}

function renderLoopExe() {
  log('building benches/render_loop.rs (cargo bench --no-run) ...');
  const out = sh('cargo', ['bench', '--bench', 'render_loop', '--no-run', '--message-format=json'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 256 << 20,
  });
  for (const line of out.split('\n').reverse()) {
    if (!line.startsWith('{')) continue;
    const j = JSON.parse(line);
    if (j.reason === 'compiler-artifact' && j.target && j.target.name === 'render_loop' && j.executable) return j.executable;
  }
  throw new Error('could not find the render_loop bench executable');
}

function criterionMedian(id) {
  const f = path.join(ROOT, 'target', 'criterion', 'render', id, 'new', 'estimates.json');
  if (!fs.existsSync(f)) return null;
  const j = JSON.parse(fs.readFileSync(f, 'utf8'));
  return { ms: j.median.point_estimate / 1e6, at: fs.statSync(f).mtime };
}

// ---------------------------------------------------------------- main
function main() {
  if (!fs.existsSync(IMGCLOUD)) throw new Error(`${IMGCLOUD} missing: cargo build --release --bin imgcloud`);
  if (!fs.existsSync('/usr/bin/time')) throw new Error('/usr/bin/time missing: apt-get install -y time');
  if (!fs.existsSync(path.join(INPUTS, 'manifest.json'))) throw new Error('inputs missing: node make-inputs.js');
  fs.mkdirSync(SCRATCH, { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(INPUTS, 'manifest.json'), 'utf8'));
  const loopExe = renderLoopExe();
  const sharpWorker = path.join(__dirname, 'sharp-worker.js');
  const ps = paths();

  // The engine must render a tiny image at all before we time anything.
  run(IMGCLOUD, ['render', TINY, TINY_T, path.join(SCRATCH, 'tiny.jpg')]);

  const started = new Date();
  const busyStart = waitIdleMaybe('start');
  const results = [];
  for (const p of ps) {
    const input = path.join(INPUTS, p.input);
    for (const n of THREADS) {
      const busy = waitIdleMaybe(`${p.id} t${n}`);
      const env = { RAYON_NUM_THREADS: String(n) };
      const ext = p.transform.match(/f_(\w+)/)?.[1] ?? 'jpg';
      // Alternating rounds (ours, sharp, sharp, ours, ours, sharp, ...), each a fresh process that
      // discards its first WARMUP renders, so a burst of outside load cannot land on one side only.
      const oursRuns = [];
      const sharpRuns = [];
      const sharpAltRuns = [];
      const oursAltRuns = [];
      const oursOnce = () =>
        oursRuns.push(parseJsonLine(
          run(loopExe, ['--runs', WARMUP + PER_ROUND, '--warmup', WARMUP, '--out', path.join(SCRATCH, `${p.id}.ours.${ext}`), input, p.transform].map(String), env),
          `render_loop ${p.id}`,
        ));
      const sharpOnce = () =>
        sharpRuns.push(parseJsonLine(
          run('node', [sharpWorker, '--threads', n, '--runs', WARMUP + PER_ROUND, '--warmup', WARMUP, '--out', path.join(SCRATCH, `${p.id}.sharp.${ext}`), input, p.transform].map(String)),
          `sharp ${p.id}`,
        ));
      for (let round = 0; round < ROUNDS; round++) {
        log(`${p.id} threads=${n}: round ${round + 1}/${ROUNDS}`);
        if (round % 2 === 0) { oursOnce(); sharpOnce(); } else { sharpOnce(); oursOnce(); }
        if (ext === 'avif') {
          // Second reference point for the speed mapping: effort 1 (aom cpu-used 8).
          sharpAltRuns.push(parseJsonLine(
            run('node', [sharpWorker, '--threads', n, '--runs', WARMUP + PER_ROUND, '--warmup', WARMUP, '--avif-effort', 1, '--out', path.join(SCRATCH, `${p.id}.sharp-alt.${ext}`), input, p.transform].map(String)),
            `sharp effort1 ${p.id}`,
          ));
          // And the engine one speed step slower (smaller files) than its default.
          oursAltRuns.push(parseJsonLine(
            run(loopExe, ['--runs', WARMUP + PER_ROUND, '--warmup', WARMUP, '--avif-speed', OURS_ALT_SPEED, '--out', path.join(SCRATCH, `${p.id}.ours-alt.${ext}`), input, p.transform].map(String), env),
            `render_loop speed ${OURS_ALT_SPEED} ${p.id}`,
          ));
        }
      }
      const pool = (xs) => xs.length ? { ...xs[xs.length - 1], times_ms: xs.flatMap((x) => x.times_ms) } : null;
      const ours = pool(oursRuns);
      const sh1 = pool(sharpRuns);
      const sharpAlt = pool(sharpAltRuns);
      const oursAlt = pool(oursAltRuns);
      log(`${p.id} threads=${n}: peak RSS ...`);
      const oursRss = medianRss(IMGCLOUD, ['render', input, p.transform, path.join(SCRATCH, `rss.${ext}`)], env);
      const sharpRss = medianRss('node', [sharpWorker, '--threads', n, '--runs', 1, '--warmup', 0, input, p.transform].map(String));
      const r = {
        ...p,
        threads: n,
        busyBefore: busy,
        ours: { ...ours, median: median(ours.times_ms), min: Math.min(...ours.times_ms), max: Math.max(...ours.times_ms), rss: oursRss },
        sharp: { ...sh1, median: median(sh1.times_ms), min: Math.min(...sh1.times_ms), max: Math.max(...sh1.times_ms), rss: sharpRss },
        sharpAlt: sharpAlt && { ...sharpAlt, median: median(sharpAlt.times_ms) },
        oursAlt: oursAlt && { ...oursAlt, median: median(oursAlt.times_ms) },
      };
      r.ratio = r.ours.median / r.sharp.median;
      // Quality of each side's last output against a lossless reference (see quality.js).
      const q = parseJsonLine(
        run('node', [path.join(__dirname, 'quality.js'), input, p.transform, path.join(SCRATCH, `${p.id}.ours.${ext}`), path.join(SCRATCH, `${p.id}.sharp.${ext}`)]),
        `quality ${p.id}`,
      );
      r.ours.psnr = q.ours_psnr;
      r.sharp.psnr = q.sharp_psnr;
      if (r.sharpAlt) {
        const qa = parseJsonLine(
          run('node', [path.join(__dirname, 'quality.js'), input, p.transform, path.join(SCRATCH, `${p.id}.ours-alt.${ext}`), path.join(SCRATCH, `${p.id}.sharp-alt.${ext}`)]),
          `quality alt ${p.id}`,
        );
        r.oursAlt.psnr = qa.ours_psnr;
        r.sharpAlt.psnr = qa.sharp_psnr;
      }
      results.push(r);
      log(
        `  ours ${fmtMs(r.ours.median)} ms  sharp ${fmtMs(r.sharp.median)} ms  ratio ${r.ratio.toFixed(2)}  ` +
          `rss ${fmtMB(oursRss)} / ${fmtMB(sharpRss)} MB  bytes ${r.ours.bytes} / ${r.sharp.bytes}`,
      );
    }
  }

  log('baselines and CLI timings ...');
  const baseline = {};
  for (const n of THREADS) {
    const env = { RAYON_NUM_THREADS: String(n) };
    baseline[n] = {
      ours: medianRss(IMGCLOUD, ['render', TINY, TINY_T, path.join(SCRATCH, 'tiny.jpg')], env),
      sharp: medianRss('node', [sharpWorker, '--threads', n, '--runs', 1, '--warmup', 0, TINY, TINY_T].map(String)),
    };
  }
  const defaultThreads = os.cpus().length;
  const cliEnv = {}; // the CLI as users run it: rayon's default pool (one thread per core)
  const spawnMs = cliMedian(TINY, TINY_T, path.join(SCRATCH, 'tiny.jpg'), cliEnv);
  const cli = ps.map((p) => {
    const ext = p.transform.match(/f_(\w+)/)?.[1] ?? 'jpg';
    return { id: p.id, ms: cliMedian(path.join(INPUTS, p.input), p.transform, path.join(SCRATCH, `cli.${ext}`), cliEnv) };
  });
  const finished = new Date();
  const busyEnd = cpuBusy();

  const data = { manifest, ps, results, baseline, spawnMs, cli, started, finished, busyStart, busyEnd, defaultThreads, settings: SETTINGS };
  fs.writeFileSync(RESULTS, JSON.stringify(data, null, 2));
  writeReport(data);
}

/** --report-only: rewrite the report from the last run's raw numbers (e.g. after a fresh `cargo bench`). */
function reportOnly() {
  if (!fs.existsSync(RESULTS)) throw new Error(`${RESULTS} missing: run the comparison first`);
  const data = JSON.parse(fs.readFileSync(RESULTS, 'utf8'));
  data.started = new Date(data.started);
  data.finished = new Date(data.finished);
  Object.assign(SETTINGS, data.settings || {});
  writeReport(data);
}

function writeReport(data) {
  const md = report(data);
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, md);
  log(`wrote ${path.relative(ROOT, OUT)} (raw numbers: ${path.relative(ROOT, RESULTS)})`);
}

// ---------------------------------------------------------------- report
function report(x) {
  const { manifest, ps, results, baseline, spawnMs, cli, started, finished, busyStart, busyEnd, defaultThreads } = x;
  const commit = tryShell('git', ['rev-parse', '--short', 'HEAD']);
  const dirtyEngine = tryShell('git', ['status', '--porcelain', '--', 'engine', 'Cargo.lock']);
  const cpu = os.cpus()[0]?.model ?? 'unknown';
  const L = [];
  const row = (...cells) => L.push(`| ${cells.join(' | ')} |`);
  const sharpDefault = (() => {
    // sharp's default libvips concurrency on this machine (1 on glibc without jemalloc).
    try {
      return sh('node', ['-e', 'console.log(require("sharp").concurrency())'], { cwd: __dirname });
    } catch {
      return 'n/a';
    }
  })();
  const goalMark = (ratio) => (ratio <= GOAL_RATIO ? 'yes' : '**no**');

  L.push('# Engine vs sharp');
  L.push('');
  L.push('<!-- Generated by bench/compare/compare.js (bash bench/compare/run.sh). Do not edit by hand. -->');
  L.push('');
  L.push(`Generated ${finished.toISOString().replace(/\.\d+Z$/, 'Z')} by \`bash bench/compare/run.sh\` ` +
    `(measurements took ${((finished - started) / 60000).toFixed(1)} min). Goals: median latency ratio ours/sharp <= ${GOAL_RATIO}; ` +
    'peak RSS of one render below sharp\'s.');
  L.push('');
  L.push('## Setup');
  L.push('');
  row('', '');
  row('---', '---');
  row('machine', `${cpu}, ${os.cpus().length} CPUs (nproc), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}`);
  row('commit', `${commit}${dirtyEngine ? ' (engine/ or Cargo.lock has uncommitted changes)' : ''}`);
  row('engine build', `release profile (\`target/release/imgcloud\`, \`cargo bench\` for render_loop); ${tryShell('rustc', ['-V'])}`);
  row('sharp', `${sharp.versions.sharp} (libvips ${sharp.versions.vips}, libwebp ${sharp.versions.webp}, aom ${sharp.versions.aom}, mozjpeg ${sharp.versions.mozjpeg}); node ${process.version}; sharp's default concurrency here: ${sharpDefault}`);
  row('runs', `per side, path and thread setting: ${SETTINGS.ROUNDS} alternating rounds (ours/sharp, sharp/ours, ...), each a fresh process timing ${SETTINGS.PER_ROUND} renders after ${SETTINGS.WARMUP} discarded warm-up renders; median of the ${SETTINGS.ROUNDS * SETTINGS.PER_ROUND} timed renders`);
  row('background load', `CPU ${(busyStart * 100).toFixed(0)}% busy before the run, ${(busyEnd * 100).toFixed(0)}% after; the script waits for < 15% before each path`);
  L.push('');
  L.push('Inputs (made by `bench/compare/make-inputs.js` from real photos, see its header):');
  L.push('');
  row('file', 'size', 'bytes', 'bits/px', 'recipe');
  row('---', '---', '---:', '---:', '---');
  for (const [name, f] of Object.entries(manifest.files)) {
    row(`\`${name}\``, `${f.width}x${f.height}${f.channels === 4 ? ' RGBA' : ''}`, fmtBytes(f.bytes), f.bits_per_pixel, f.recipe);
  }
  L.push('');
  L.push('Settings on the sharp side (see `bench/compare/mapping.js`): Lanczos3 and JPEG shrink-on-load on both sides; ' +
    `\`sharp.cache(false)\`; AVIF \`effort ${AVIF_EFFORT}\` against the engine's default ravif speed 9, both 8-bit 4:4:4 (sharp's effort 0..9 is aom cpu-used 9-effort; ` +
    'speeds do not map across encoders, so see the AVIF table for bytes, PSNR and two more settings). Threads: **1 thread** means `RAYON_NUM_THREADS=1` ' +
    'for the engine and `sharp.concurrency(1)` for libvips; **2 threads** means 2 and 2.');
  L.push('');

  const byThreads = (n, ids) => results.filter((r) => r.threads === n && ids.includes(r.id));
  const baselineIds = ps.filter((p) => !/^progjpeg|^smooth/.test(p.id)).map((p) => p.id);
  const extraIds = ps.filter((p) => /^progjpeg|^smooth/.test(p.id)).map((p) => p.id);
  const latencyTable = (rs) => {
    row('path', 'input', 'transform', 'sharp settings', 'ours ms', 'sharp ms', 'ratio', '<= 0.9', 'ours bytes', 'sharp bytes', 'PSNR dB ours / sharp', 'size');
    row('---', '---', '---', '---', '---:', '---:', '---:', '---', '---:', '---:', '---:', '---');
    for (const r of rs) {
      const size = `${r.ours.width}x${r.ours.height}` + (r.ours.width !== r.sharp.width || r.ours.height !== r.sharp.height ? ` (sharp ${r.sharp.width}x${r.sharp.height})` : '');
      row(r.id, `\`${r.input}\``, `\`${r.transform}\``, describe(r.transform), fmtMs(r.ours.median), fmtMs(r.sharp.median),
        r.ratio.toFixed(2), goalMark(r.ratio), fmtBytes(r.ours.bytes), fmtBytes(r.sharp.bytes), `${r.ours.psnr ?? 'n/a'} / ${r.sharp.psnr ?? 'n/a'}`, size);
    }
    L.push('');
  };
  L.push('## Latency: one render at a time, in process');
  L.push('');
  L.push('Input bytes in memory, output bytes in memory; medians. Ratio = ours / sharp (lower is better for us). ' +
    'PSNR: each side\'s output against sharp\'s lossless (PNG) rendering of the same transform (`bench/compare/quality.js`), ' +
    'so resampling differences count against the engine; higher is better.');
  for (const n of THREADS) {
    L.push('');
    L.push(`### ${n} thread${n > 1 ? 's' : ''} each`);
    L.push('');
    latencyTable(byThreads(n, baselineIds));
  }
  L.push('### Progressive and low-detail JPEG');
  L.push('');
  L.push('The same 400x400 WebP thumbnail from the progressive encoding of the 24 MP photo, and from a low-detail 24 MP photo.');
  for (const n of THREADS) {
    L.push('');
    L.push(`${n} thread${n > 1 ? 's' : ''} each:`);
    L.push('');
    latencyTable(byThreads(n, extraIds));
  }
  const avif = results.filter((r) => r.sharpAlt);
  if (avif.length) {
    L.push(`AVIF speed settings do not map across encoders (rav1e vs aom), so here are two more points: sharp at effort 1 ` +
      `(aom cpu-used 8, faster than effort ${AVIF_EFFORT}) and the engine at ravif speed ${OURS_ALT_SPEED} (slower than its default 9). ` +
      'Judge each by time, bytes and PSNR together.');
    L.push('');
    row('path', 'threads', 'ours (speed 9) ms', `ours (speed ${OURS_ALT_SPEED}) ms`, `sharp effort ${AVIF_EFFORT} ms`, 'sharp effort 1 ms',
      'bytes ours 9 / ours 8 / sharp 2 / sharp 1', 'PSNR dB ours 9 / ours 8 / sharp 2 / sharp 1');
    row('---', '---:', '---:', '---:', '---:', '---:', '---:', '---:');
    for (const r of avif) {
      const oa = r.oursAlt || {};
      row(r.id, r.threads, fmtMs(r.ours.median), fmtMs(oa.median), fmtMs(r.sharp.median), fmtMs(r.sharpAlt.median),
        [r.ours.bytes, oa.bytes, r.sharp.bytes, r.sharpAlt.bytes].map(fmtBytes).join(' / '),
        [r.ours.psnr, oa.psnr, r.sharp.psnr, r.sharpAlt.psnr].map((x) => x ?? 'n/a').join(' / '));
    }
    L.push('');
  }
  L.push('Spread (min..max of the kept runs, ms), and how busy the CPU was (all processes) just before the path was measured:');
  L.push('');
  row('path', 'threads', 'ours', 'sharp', 'CPU busy before');
  row('---', '---:', '---', '---', '---:');
  for (const r of results) {
    row(r.id, r.threads, `${fmtMs(r.ours.min)}..${fmtMs(r.ours.max)}`, `${fmtMs(r.sharp.min)}..${fmtMs(r.sharp.max)}`, `${(r.busyBefore * 100).toFixed(0)}%`);
  }
  L.push('');

  L.push('## Peak memory of one render');
  L.push('');
  L.push('Maximum resident set size (`/usr/bin/time -v`) of a process that renders once: `imgcloud render IN T OUT` ' +
    'against `node sharp-worker.js --runs 1` (node + sharp). "Baseline" is the same process rendering a 128x128 ' +
    `JPEG (\`hopper.jpg\`, \`${TINY_T}\`), i.e. the runtime before any real pixel work; "work" is peak minus baseline. ` +
    `Median of ${SETTINGS.RSS_RUNS} processes. MB = MiB.`);
  L.push('');
  row('threads', 'ours baseline MB', 'sharp baseline MB');
  row('---:', '---:', '---:');
  for (const n of THREADS) row(n, fmtMB(baseline[n].ours), fmtMB(baseline[n].sharp));
  L.push('');
  row('path', 'threads', 'ours peak MB', 'sharp peak MB', 'ours work MB', 'sharp work MB', 'peak below sharp', 'work below sharp');
  row('---', '---:', '---:', '---:', '---:', '---:', '---', '---');
  for (const r of results) {
    const ow = r.ours.rss - baseline[r.threads].ours;
    const sw = r.sharp.rss - baseline[r.threads].sharp;
    row(r.id, r.threads, fmtMB(r.ours.rss), fmtMB(r.sharp.rss), fmtMB(ow), fmtMB(sw),
      r.ours.rss < r.sharp.rss ? 'yes' : '**no**', ow < sw ? 'yes' : '**no**');
  }
  L.push('');

  L.push('## The CLI, process start included');
  L.push('');
  L.push(`\`imgcloud render IN T OUT\` wall time per spawn (rayon default pool: ${defaultThreads} threads), median of ${SETTINGS.CLI_RUNS} ` +
    `after one warm-up; file read and write included. Spawn overhead (same command on the 128x128 \`hopper.jpg\`, \`${TINY_T}\`): ` +
    `**${fmtMs(spawnMs)} ms**.`);
  L.push('');
  row('path', 'CLI ms', `in-process ms (${defaultThreads} threads)`, 'criterion median ms');
  row('---', '---:', '---:', '---:');
  for (const c of cli) {
    const inproc = results.find((r) => r.id === c.id && r.threads === defaultThreads);
    const crit = criterionMedian(c.id);
    row(c.id, fmtMs(c.ms), inproc ? fmtMs(inproc.ours.median) : 'n/a', crit ? fmtMs(crit.ms) : 'n/a (cargo bench --bench engine not run)');
  }
  const crit0 = ps.map((p) => criterionMedian(p.id)).find(Boolean);
  L.push('');
  if (crit0) {
    L.push(`Criterion numbers are from \`cargo bench --bench engine\` (rayon default pool), last run ${crit0.at.toISOString().replace(/\.\d+Z$/, 'Z')}.`);
    L.push('');
  }

  // Machine-readable key figures for bench/compare/summary.js (docs/performance.md).
  const summary = {
    generated: finished.toISOString(),
    commit,
    goal_ratio: GOAL_RATIO,
    rows: results.map((r) => ({
      id: r.id,
      transform: r.transform,
      input: r.input,
      threads: r.threads,
      ours_ms: +r.ours.median.toFixed(2),
      sharp_ms: +r.sharp.median.toFixed(2),
      ratio: +r.ratio.toFixed(3),
      ours_rss_kb: r.ours.rss,
      sharp_rss_kb: r.sharp.rss,
      ours_work_kb: r.ours.rss - baseline[r.threads].ours,
      sharp_work_kb: r.sharp.rss - baseline[r.threads].sharp,
    })),
  };
  L.push(`<!-- summary-json ${JSON.stringify(summary)} -->`);
  L.push('');
  L.push('## Caveats');
  L.push('');
  L.push('- One small VM (2 vCPUs, KVM). Absolute numbers move with the host; the ratios are the point. Other jobs on the ' +
    'machine inflate both sides; the script waits for the CPU to be quiet before each path and records the load.');
  L.push('- Encoders are not quality-matched beyond the same nominal quality number. JPEG and WebP use the same quality scales ' +
    '(libjpeg tables, libwebp on both sides), AVIF does not (rav1e via ravif vs aom via libheif), so compare AVIF bytes with care.');
  L.push('- sharp is measured from JavaScript (`await toBuffer()`), so each sharp time includes a little N-API and event-loop ' +
    'overhead; the engine is measured by a Rust loop. Both exclude reading the input file.');
  L.push('- Peak RSS compares whole processes: node + V8 + libvips against a Rust binary. The "work" columns subtract each ' +
    'side\'s baseline, which is the fairer view of what a render itself costs.');
  L.push('- sharp decodes lazily and streams (libvips demand-driven pipelines); the engine decodes (DCT-scaled) into one buffer ' +
    'and then resizes, so its memory grows with the shrink-on-load size, not with the source size alone.');
  L.push('');
  return L.join('\n');
}

try {
  if (argv.includes('--report-only')) reportOnly();
  else main();
} catch (e) {
  console.error(e.stack || String(e));
  process.exit(1);
}
