// Warm cache hits: a small fixed set of delivery URLs, requested once in setup() so that every
// timed request is a cache hit. Also runs against any static server holding the same paths (the
// runner points it at nginx for the comparison).
//
//   k6 run -e BASE_URL=http://127.0.0.1:8080 \
//          -e PATHS='/v1/image/w_400,f_webp/hopper-1a2b3c4d5e6f /v1/image/w_800/photo-0a1b2c3d4e5f' \
//          [-e AUTH='ApiKey ck_..:cs_..'] [-e VUS=16] [-e DURATION=20s] [-e SUMMARY=out.json] loadtest/warm.js
//
// PATHS is whitespace-separated (transforms contain commas). Alternatively PUBLIC_IDS (comma list)
// and TRANSFORMS (';'-separated, default 'w_400,f_webp;w_800,q_75;w_200,h_200,c_fill,f_jpg')
// build the cross product. AUTH is only used by setup() to check the asset list; the timed
// requests are anonymous, like a browser's.
import http from 'k6/http';
import { check } from 'k6';
import * as lib from './lib.js';

export const options = lib.options(16);
options.discardResponseBodies = true;

const BASE = lib.baseUrl();

function paths() {
  const p = lib.list('PATHS', /\s+/);
  if (p.length > 0) return p;
  const ids = lib.list('PUBLIC_IDS');
  const ts = lib.list('TRANSFORMS', ';');
  const transforms = ts.length ? ts : ['w_400,f_webp', 'w_800,q_75', 'w_200,h_200,c_fill,f_jpg'];
  const out = [];
  for (const id of ids) for (const t of transforms) out.push(`/v1/image/${t}/${id}`);
  return out;
}

const PATHS = paths();
if (PATHS.length === 0) throw new Error('PATHS or PUBLIC_IDS is required');
for (const p of PATHS) if (!p.startsWith('/')) throw new Error(`path must start with '/': ${p}`);

export function setup() {
  const sizes = {};
  for (const p of PATHS) {
    // Twice: the first may render, the second must be a hit.
    for (let i = 0; i < 2; i++) {
      const r = http.get(`${BASE}${p}`, { tags: { phase: 'setup' }, responseType: 'binary' });
      if (r.status !== 200) throw new Error(`setup: GET ${p} answered ${r.status}`);
      sizes[p] = r.body.byteLength;
    }
  }
  return { sizes };
}

export default function () {
  lib.markStart();
  const p = PATHS[Math.floor(Math.random() * PATHS.length)];
  const res = http.get(`${BASE}${p}`, { tags: { phase: 'main', name: 'warm-hit' } });
  lib.tally(res);
  check(res, { 'warm hit 200': (r) => r.status === 200 });
  lib.markEnd();
}

export function handleSummary(data) {
  return lib.summarize(data, 'warm', 16, { paths: PATHS });
}
