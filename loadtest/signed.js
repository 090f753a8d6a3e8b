// Private assets read through signed URLs.
//
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e AUTH='ApiKey ck_..:cs_..' \
//          -e PUBLIC_IDS=private/a,private/b [-e TRANSFORM=w_400,f_webp] [-e TTL=3600] \
//          [-e VUS=16] [-e DURATION=20s] [-e SUMMARY=out.json] loadtest/signed.js
//
// setup() signs one URL per asset (POST /v1/image/sign), checks that the unsigned URL is refused
// (401) and that the signed one answers 200 (which also warms the rendition cache). The timed
// requests are anonymous GETs of the signed URLs: signature check + cache hit.
import http from 'k6/http';
import { check } from 'k6';
import * as lib from './lib.js';

export const options = lib.options(16);
options.discardResponseBodies = true;

const BASE = lib.baseUrl();
const AUTH = lib.authHeader();
const IDS = lib.list('PUBLIC_IDS');
const TRANSFORM = lib.env('TRANSFORM', 'w_400,f_webp');
const TTL = lib.intEnv('TTL', 3600);
if (IDS.length === 0) throw new Error('PUBLIC_IDS (private assets) is required');

export function setup() {
  const urls = [];
  const unsigned = {};
  for (const id of IDS) {
    const s = http.post(`${BASE}/v1/image/sign`, JSON.stringify({ public_id: id, transform: TRANSFORM, ttl_seconds: TTL }), {
      headers: { Authorization: AUTH, 'Content-Type': 'application/json' },
      responseType: 'text',
      tags: { phase: 'setup' },
    });
    if (s.status !== 200) throw new Error(`setup: sign ${id} answered ${s.status}: ${s.body}`);
    const url = s.json('url');
    lib.assertLoopback(url);
    // The API answers absolute URLs from its public_url; keep the path and query, use BASE_URL.
    const pathAndQuery = url.replace(/^https?:\/\/[^/]+/, '');
    const u = http.get(`${BASE}/v1/image/${TRANSFORM}/${id}`, { tags: { phase: 'setup' } });
    unsigned[id] = u.status;
    const r = http.get(`${BASE}${pathAndQuery}`, { tags: { phase: 'setup' } });
    if (r.status !== 200) throw new Error(`setup: signed GET ${pathAndQuery} answered ${r.status}`);
    urls.push(pathAndQuery);
  }
  return { urls, unsigned };
}

export default function (data) {
  lib.markStart();
  const p = data.urls[Math.floor(Math.random() * data.urls.length)];
  const res = http.get(`${BASE}${p}`, { tags: { phase: 'main', name: 'signed-read' } });
  lib.tally(res);
  check(res, { 'signed read 200': (r) => r.status === 200 });
  lib.markEnd();
}

export function handleSummary(data) {
  // setup_data carries the status of the unsigned requests (must be 401 for private assets).
  const unsigned = data.setup_data ? data.setup_data.unsigned : null;
  return lib.summarize(data, 'signed', 16, { public_ids: IDS, transform: TRANSFORM, unsigned_status: unsigned });
}
