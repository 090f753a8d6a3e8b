// Mixed traffic: uploads and deliveries from the same VUs.
//
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e AUTH='ApiKey ck_..:cs_..' \
//          -e FILE=/abs/path/photo.jpg -e PUBLIC_IDS=hopper-1a2b3c4d5e6f,... \
//          [-e UPLOAD_RATIO=0.1] [-e TRANSFORMS='w_400,f_webp;w_800,q_75;w_200,h_200,c_fill,f_jpg'] \
//          [-e VUS=8] [-e DURATION=20s] [-e SUMMARY=out.json] loadtest/mixed.js
//
// Each iteration is an upload (multipart POST /v1/upload, field `file`) with probability
// UPLOAD_RATIO, else a delivery of a random (asset, transform) pair drawn from PUBLIC_IDS plus the
// assets this VU uploaded so far. Deliveries of a fresh upload start cold and become cache hits,
// as on a real site. Upload and delivery latencies are reported separately as well.
import http from 'k6/http';
import { check } from 'k6';
import * as lib from './lib.js';

export const options = lib.options(8, [
  'http_reqs{phase:main,kind:upload}',
  'http_req_duration{phase:main,kind:upload}',
  'http_req_failed{phase:main,kind:upload}',
  'http_reqs{phase:main,kind:deliver}',
  'http_req_duration{phase:main,kind:deliver}',
  'http_req_failed{phase:main,kind:deliver}',
]);
options.discardResponseBodies = true;

const BASE = lib.baseUrl();
const AUTH = lib.authHeader();
const FILE = lib.env('FILE', '');
if (!FILE) throw new Error('FILE (path of a photo to upload) is required');
const BIN = open(FILE, 'b');
const NAME = FILE.split('/').pop();
const IDS = lib.list('PUBLIC_IDS');
const RATIO = parseFloat(lib.env('UPLOAD_RATIO', '0.1'));
const TS = lib.list('TRANSFORMS', ';');
const TRANSFORMS = TS.length ? TS : ['w_400,f_webp', 'w_800,q_75', 'w_200,h_200,c_fill,f_jpg'];
if (IDS.length === 0) throw new Error('PUBLIC_IDS is required');

const mine = []; // public_ids uploaded by this VU

export function setup() {
  for (const id of IDS) {
    for (const t of TRANSFORMS) {
      const r = http.get(`${BASE}/v1/image/${t}/${id}`, { tags: { phase: 'setup' } });
      if (r.status !== 200) throw new Error(`setup: GET /v1/image/${t}/${id} answered ${r.status}`);
    }
  }
}

function upload() {
  const res = http.post(
    `${BASE}/v1/upload`,
    { file: http.file(BIN, NAME, 'image/jpeg'), folder: 'loadtest-mixed' },
    { headers: { Authorization: AUTH }, responseType: 'text', tags: { phase: 'main', kind: 'upload', name: 'upload' } },
  );
  const ok = lib.tally(res);
  check(res, { 'upload 2xx': () => ok });
  if (ok) {
    try {
      mine.push(res.json('public_id'));
    } catch (e) {
      /* counted by the check above only if the status was bad; a bad body shows in deliveries */
    }
  }
}

function deliver() {
  const pool = IDS.length + mine.length;
  const i = Math.floor(Math.random() * pool);
  const id = i < IDS.length ? IDS[i] : mine[i - IDS.length];
  const t = TRANSFORMS[Math.floor(Math.random() * TRANSFORMS.length)];
  const res = http.get(`${BASE}/v1/image/${t}/${id}`, { tags: { phase: 'main', kind: 'deliver', name: 'deliver' } });
  lib.tally(res);
  check(res, { 'deliver 200': (r) => r.status === 200 });
}

export default function () {
  lib.markStart();
  if (Math.random() < RATIO) upload();
  else deliver();
  lib.markEnd();
}

export function handleSummary(data) {
  const up = lib.stats(data, 'phase:main,kind:upload');
  const dl = lib.stats(data, 'phase:main,kind:deliver');
  return lib.summarize(data, 'mixed', 8, {
    upload_ratio: RATIO,
    file: NAME,
    file_bytes: BIN.byteLength,
    upload: up,
    deliver: dl,
    lines: [lib.fmt('  uploads', up), lib.fmt('  deliveries', dl)],
  });
}
