// Upload throughput for one file: uploads/s and MB/s of accepted uploads.
//
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e AUTH='ApiKey ck_..:cs_..' -e FILE=/abs/photo.jpg \
//          [-e VUS=4] [-e DURATION=20s] [-e SUMMARY=out.json] [-e LABEL=upload-5mb] loadtest/upload.js
//
// Every iteration is a multipart POST /v1/upload (field `file`, generated public_id under the
// folder `loadtest-upload`); MB/s counts the file bytes of uploads answered 2xx only.
import http from 'k6/http';
import { check } from 'k6';
import { Counter } from 'k6/metrics';
import * as lib from './lib.js';

export const options = lib.options(4, ['uploaded_bytes']);
options.discardResponseBodies = true;

const uploadedBytes = new Counter('uploaded_bytes');

const BASE = lib.baseUrl();
const AUTH = lib.authHeader();
const FILE = lib.env('FILE', '');
if (!FILE) throw new Error('FILE (path of the photo to upload) is required');
const BIN = open(FILE, 'b');
const NAME = FILE.split('/').pop();

export default function () {
  lib.markStart();
  const res = http.post(
    `${BASE}/v1/upload`,
    { file: http.file(BIN, NAME, 'image/jpeg'), folder: 'loadtest-upload' },
    { headers: { Authorization: AUTH }, tags: { phase: 'main', name: 'upload' } },
  );
  const ok = lib.tally(res);
  check(res, { 'upload 2xx': () => ok });
  if (ok) uploadedBytes.add(BIN.byteLength);
  lib.markEnd();
}

export function handleSummary(data) {
  const st = lib.stats(data);
  const bytes = data.metrics.uploaded_bytes ? data.metrics.uploaded_bytes.values.count : 0;
  const ok = bytes / BIN.byteLength;
  const uploadsPerS = st.window_s ? ok / st.window_s : null;
  const mbPerS = st.window_s ? bytes / st.window_s / 1e6 : null;
  return lib.summarize(data, 'upload', 4, {
    file: NAME,
    file_bytes: BIN.byteLength,
    uploads_ok: ok,
    uploads_per_s: uploadsPerS === null ? null : Math.round(uploadsPerS * 10) / 10,
    mb_per_s: mbPerS === null ? null : Math.round(mbPerS * 100) / 100,
    lines: [`  accepted uploads: ${uploadsPerS === null ? '-' : uploadsPerS.toFixed(1)}/s, ${mbPerS === null ? '-' : mbPerS.toFixed(2)} MB/s of ${NAME} (${BIN.byteLength} bytes)`],
  });
}
