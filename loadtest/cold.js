// Cold renders: every iteration asks for a transform no earlier request used, so it misses both
// rendition caches and runs the engine.
//
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e AUTH='ApiKey ck_..:cs_..' \
//          -e PUBLIC_IDS=hopper-1a2b3c4d5e6f,photo-0a1b2c3d4e5f [-e FORMAT=webp] \
//          [-e VUS=8] [-e DURATION=20s] [-e SUMMARY=out.json] loadtest/cold.js
//
// Transform of request n (n unique per run across VUs): public_id ids[k % len], width
// 100..1200 and quality 55..95 drawn from a bijection of k = offset + n, so no two requests of a
// run share a URL; the random offset keeps repeated runs against one server cold as well.
import http from 'k6/http';
import { check } from 'k6';
import * as lib from './lib.js';

export const options = lib.options(8, ['http_reqs{phase:main,status:200}']);
options.discardResponseBodies = true;

const BASE = lib.baseUrl();
const AUTH = lib.authHeader();
const IDS = lib.list('PUBLIC_IDS');
const FORMAT = lib.env('FORMAT', 'webp');
if (IDS.length === 0) throw new Error('PUBLIC_IDS (comma-separated public_ids) is required');
const VUS = lib.intEnv('VUS', 8);

export function setup() {
  // Each asset must exist and be deliverable before we time anything.
  for (const id of IDS) {
    const r = http.get(`${BASE}/v1/image/${id}`, { headers: { Authorization: AUTH }, tags: { phase: 'setup' } });
    if (r.status !== 200) throw new Error(`setup: GET /v1/image/${id} answered ${r.status}`);
  }
  return { offset: Math.floor(Math.random() * 40000) * 7 };
}

export function transformFor(k) {
  const r = Math.floor(k / IDS.length);
  const w = 100 + ((r * 7919) % 1101); // 7919 is coprime to 1101, so r -> w is a bijection mod 1101
  const q = 55 + (Math.floor(r / 1101) % 41);
  return { id: IDS[k % IDS.length], t: `w_${w},q_${q},f_${FORMAT}` };
}

export default function (data) {
  lib.markStart();
  const n = __ITER * VUS + (__VU - 1);
  const { id, t } = transformFor(data.offset + n);
  const res = http.get(`${BASE}/v1/image/${t}/${id}`, { tags: { phase: 'main', name: 'cold-render' } });
  lib.tally(res);
  check(res, { 'cold render 200': (r) => r.status === 200 });
  lib.markEnd();
}

export function handleSummary(data) {
  return lib.summarize(data, 'cold', 8, { public_ids: IDS, format: FORMAT });
}
