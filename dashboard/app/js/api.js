// The one door to the img-cloud HTTP API: every call goes through here and every failure becomes an ApiError.

/** A failed API call: HTTP status, the server's `error` text, and Retry-After seconds when rate-limited. */
export class ApiError extends Error {
  constructor(status, message, retryAfter = null, code = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.retryAfter = retryAfter;
    this.code = code;
  }
}

// Set by app.js so any 401 outside the login flow (session expired, signed out in another tab)
// sends the user back to the sign-in page instead of leaving a half-broken view.
let onUnauthenticated = null;
export function setUnauthenticatedHandler(fn) { onUnauthenticated = fn; }

function retryAfterOf(headerValue) {
  if (headerValue == null || headerValue === '') return null;
  const n = Number(headerValue);
  if (Number.isFinite(n)) return Math.max(0, Math.ceil(n));
  const at = Date.parse(headerValue);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** Turns a status + body text + Retry-After header into an ApiError with a readable message. */
export function errorFrom(status, bodyText, retryAfterHeader) {
  let message = '';
  let code = null;
  try {
    const body = JSON.parse(bodyText);
    if (body && typeof body.error === 'string') message = body.error;
    if (body && typeof body.code === 'string') code = body.code;
  } catch { /* not JSON: fall back to the status text below */ }
  if (!message) message = status === 0 ? 'The server could not be reached.' : `Request failed (HTTP ${status}).`;
  return new ApiError(status, message, retryAfterOf(retryAfterHeader), code);
}

/**
 * Calls the API. `body` objects are sent as JSON; FormData as multipart.
 * `quiet401` keeps a 401 from triggering the sign-in redirect (used by the session probe and login).
 */
export async function api(method, path, { body, query, quiet401 = false, signal } = {}) {
  let url = path;
  if (query) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '' && v !== false) qs.set(k, String(v));
    }
    const s = qs.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }
  const init = { method, credentials: 'same-origin', headers: { accept: 'application/json' }, signal };
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'The server could not be reached. Check your connection and try again.');
  }
  const text = await res.text();
  if (!res.ok) {
    const err = errorFrom(res.status, text, res.headers.get('retry-after'));
    if (res.status === 401 && !quiet401 && onUnauthenticated) onUnauthenticated(err);
    throw err;
  }
  if (!text) return null;
  try { return JSON.parse(text); } catch { return text; }
}

/** Encodes a public_id for a URL path: each segment escaped, the slashes kept. */
export function encodeId(publicId) {
  return publicId.split('/').map(encodeURIComponent).join('/');
}

/**
 * Whether a public_id's delivery URL must name its version: a first segment `v` + 1 to 18 digits is what
 * the server reads as a version (`public_id::version_segment`), so unversioned `/v1/image/v2/photo` could
 * mean version 2 of `photo`. Checked against tests/vectors/delivery_urls.json by dashboard/tests.
 */
export function urlNeedsVersion(publicId) {
  return /^v\d{1,18}\//.test(publicId);
}

/** The delivery path of an asset with an optional transform string. */
export function deliveryPath(publicId, transform = '', version = null) {
  return `/v1/image/${transform ? `${transform}/` : ''}${version ? `v${version}/` : ''}${encodeId(publicId)}`;
}

/**
 * Uploads one file with XMLHttpRequest, because fetch has no upload progress events.
 * Resolves to the asset JSON; rejects with an ApiError. `onProgress(loaded, total)`.
 */
export function uploadFile(file, fields, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) {
      if (v !== undefined && v !== null && v !== '') form.append(k, v);
    }
    form.append('file', file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/v1/upload');
    xhr.withCredentials = true;
    xhr.setRequestHeader('accept', 'application/json');
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable && onProgress) onProgress(e.loaded, e.total);
    });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try { resolve(JSON.parse(xhr.responseText)); } catch { reject(new ApiError(xhr.status, 'The server sent an unreadable answer.')); }
      } else {
        const err = errorFrom(xhr.status, xhr.responseText, xhr.getResponseHeader('retry-after'));
        if (xhr.status === 401 && onUnauthenticated) onUnauthenticated(err);
        reject(err);
      }
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'The upload was interrupted: the server could not be reached.')));
    xhr.addEventListener('abort', () => reject(new ApiError(0, 'The upload was cancelled.')));
    xhr.send(form);
  });
}
