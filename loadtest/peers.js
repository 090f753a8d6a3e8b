// Cold renders on imgcloud, a sharp server or thumbor, the same work on each: a photo fit into a
// W x H box (W, H in 400..512, never enlarged), auto-oriented, metadata stripped, encoded as FORMAT
// at quality Q. Every request asks for a box no earlier request of the run used, so none is a cache hit.
//
//   k6 run -e SERVER=imgcloud|sharp|thumbor -e BASE_URL=http://127.0.0.1:PORT -e FORMAT=jpeg|webp|avif|png \
//          -e Q=80 -e PHOTOS=a.jpg,b.png -e PUBLIC_IDS=a-1a2b..,b-3c4d.. (imgcloud: same order as PHOTOS) \
//          [-e VUS=2] [-e DURATION=20s] [-e SUMMARY=out.json] loadtest/peers.js
//
// Request n (unique per run across VUs) renders photo k % N with box pair (k / N) * 7919 mod 113^2,
// k = offset + n: 7919 is prime, so no two requests share a URL until N * 12769 requests.
import http from 'k6/http';
import { check } from 'k6';
import * as lib from './lib.js';

export const options = lib.options(2, ['http_reqs{phase:main,status:200}']);
options.discardResponseBodies = true;

const BASE = lib.baseUrl();
const SERVER = lib.env('SERVER', 'imgcloud');
const FORMAT = lib.env('FORMAT', 'webp');
const Q = lib.intEnv('Q', 80);
const PHOTOS = lib.list('PHOTOS');
const IDS = SERVER === 'imgcloud' ? lib.list('PUBLIC_IDS') : PHOTOS;
const VUS = lib.intEnv('VUS', 2);
const SIDE_MIN = 400;
const SIDES = 113; // 400..512
const TYPES = { jpeg: 'image/jpeg', webp: 'image/webp', avif: 'image/avif', png: 'image/png' };
if (!TYPES[FORMAT]) throw new Error(`FORMAT must be one of ${Object.keys(TYPES).join(', ')}`);
if (PHOTOS.length === 0 || IDS.length !== PHOTOS.length) throw new Error('PHOTOS (and for imgcloud PUBLIC_IDS, same length) are required');

// One URL per server for the same work.
export function url(i, w, h) {
  const id = IDS[i];
  if (SERVER === 'imgcloud') {
    const f = FORMAT === 'jpeg' ? 'jpg' : FORMAT;
    return `${BASE}/v1/image/w_${w},h_${h},c_fit,f_${f},q_${Q}/${id}`;
  }
  if (SERVER === 'sharp') return `${BASE}/fit/${w}x${h}/${FORMAT}/${Q}/${id}`;
  if (SERVER === 'thumbor') return `${BASE}/unsafe/fit-in/${w}x${h}/filters:format(${FORMAT}):quality(${Q})/${id}`;
  throw new Error(`unknown SERVER ${SERVER}`);
}

export function setup() {
  // Every photo must render, in the asked format, before anything is timed (a peer that quietly
  // falls back to JPEG would otherwise look fast). A 64 px box: a different URL from every timed one.
  for (let i = 0; i < IDS.length; i++) {
    const r = http.get(url(i, 64, 64), { tags: { phase: 'setup' } });
    if (r.status !== 200) throw new Error(`setup: ${url(i, 64, 64)} answered ${r.status}: ${String(r.body).slice(0, 200)}`);
    const ct = (r.headers['Content-Type'] || '').split(';')[0];
    if (ct !== TYPES[FORMAT]) throw new Error(`setup: ${url(i, 64, 64)} answered ${ct}, not ${TYPES[FORMAT]}`);
  }
  return { offset: Math.floor(Math.random() * 1000) * IDS.length * 131 };
}

export function requestFor(k) {
  const r = Math.floor(k / IDS.length);
  const box = (r * 7919) % (SIDES * SIDES);
  return { i: k % IDS.length, w: SIDE_MIN + (box % SIDES), h: SIDE_MIN + Math.floor(box / SIDES) };
}

export default function (data) {
  lib.markStart();
  const n = __ITER * VUS + (__VU - 1);
  const { i, w, h } = requestFor(data.offset + n);
  const res = http.get(url(i, w, h), { tags: { phase: 'main', name: 'cold-fit' } });
  lib.tally(res);
  check(res, { 'cold render 200': (r) => r.status === 200 });
  lib.markEnd();
}

export function handleSummary(data) {
  return lib.summarize(data, 'peers', 2, { server: SERVER, format: FORMAT, quality: Q, photos: PHOTOS });
}
