'use strict';
// cloudimg: the Node.js SDK of img-cloud. Zero runtime dependencies (Node 18+ fetch, fs streams).

const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const http = require('node:http');
const https = require('node:https');
const { Readable } = require('node:stream');
const { pipeline } = require('node:stream/promises');
const errors = require('./errors');
const { TransformError, canonicalTransform } = require('./transform');

const VERSION = '0.1.0';
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE']);

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Retry-After is either delta-seconds or an HTTP date; answers seconds (>= 0) or undefined.
function parseRetryAfter(value) {
  if (value === null || value === undefined || value === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

function encodeId(publicId) {
  if (typeof publicId !== 'string' || publicId === '') {
    throw new TypeError('public_id must be a non-empty string');
  }
  return publicId.split('/').map(encodeURIComponent).join('/');
}

function tagsText(tags) {
  if (tags === undefined || tags === null) return undefined;
  if (Array.isArray(tags)) return tags.map(String).join(',');
  return String(tags);
}

// Streamed request bodies go through node:http(s) with pipeline(), which waits for the socket to
// drain: Node's fetch (undici) reads a streamed body ahead without bound, so a 40 MB upload would
// sit in memory whole. Answers look like the fetch Response parts _request uses.
function sendStreamed(method, url, headers, iterable, signal) {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(u, { method, headers, signal });
    const source = Readable.from(iterable, { objectMode: false, highWaterMark: 64 * 1024 });
    // The server may answer early (413, 415, 429) and close while the body is still going out;
    // the answer is what counts, so a late EPIPE on that socket must not crash the process.
    req.on('socket', (socket) => socket.on('error', () => {}));
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        source.destroy();
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode,
          statusText: res.statusMessage || '',
          ok: res.statusCode >= 200 && res.statusCode < 300,
          headers: { get: (name) => { const v = res.headers[name.toLowerCase()]; return v === undefined ? null : String(v); } },
          text: async () => text,
        });
      });
    });
    req.on('error', reject);
    pipeline(source, req).catch((e) => {
      // The server may answer (413, 415, 429) before reading the whole body; keep that answer.
      if (!req.destroyed || !req.res) reject(e);
    });
  });
}

function multipartEscape(s) {
  return String(s).replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

class Client {
  /**
   * @param {object} [opts]
   * baseUrl, keyId, keySecret (fall back to CLOUDIMG_BASE_URL, CLOUDIMG_KEY_ID, CLOUDIMG_KEY_SECRET),
   * timeout (ms, default 60000), maxRetries (default 2), retryBaseDelay (ms, default 500),
   * maxRetryDelay (ms, default 30000), retryUploads (default false), onRetry (callback), fetch.
   */
  constructor(opts = {}) {
    const env = process.env;
    const baseUrl = opts.baseUrl || env.CLOUDIMG_BASE_URL;
    if (!baseUrl) throw new TypeError('cloudimg: baseUrl is required (or set CLOUDIMG_BASE_URL)');
    this.baseUrl = String(baseUrl).replace(/\/+$/, '');
    this.keyId = opts.keyId || env.CLOUDIMG_KEY_ID;
    this.keySecret = opts.keySecret || env.CLOUDIMG_KEY_SECRET;
    this.timeout = opts.timeout === undefined ? 60000 : opts.timeout;
    this.maxRetries = opts.maxRetries === undefined ? 2 : opts.maxRetries;
    this.retryBaseDelay = opts.retryBaseDelay === undefined ? 500 : opts.retryBaseDelay;
    this.maxRetryDelay = opts.maxRetryDelay === undefined ? 30000 : opts.maxRetryDelay;
    this.retryUploads = Boolean(opts.retryUploads);
    this.onRetry = opts.onRetry;
    this._fetch = opts.fetch || globalThis.fetch;
    if (typeof this._fetch !== 'function') throw new Error('cloudimg needs Node 18+ (global fetch)');
  }

  _headers(extra) {
    const h = { 'user-agent': `cloudimg-node/${VERSION}`, accept: 'application/json', ...extra };
    if (this.keyId && this.keySecret) h.authorization = `ApiKey ${this.keyId}:${this.keySecret}`;
    return h;
  }

  /**
   * One API call with timeout and retries. `makeBody` is called once per attempt so a replayable
   * body (path, buffer) can be sent again; `retry` says whether this call may be repeated at all.
   */
  async _request(method, apiPath, { query, json, makeBody, headers, retry, timeout } = {}) {
    let url = this.baseUrl + apiPath;
    if (query) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) {
        if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
      }
      const s = qs.toString();
      if (s) url += '?' + s;
    }
    const mayRetry = retry === undefined ? IDEMPOTENT.has(method) : retry;
    const limit = timeout === undefined ? this.timeout : timeout;
    for (let attempt = 0; ; attempt++) {
      const init = { method, headers: this._headers(headers) };
      if (json !== undefined) {
        init.body = JSON.stringify(json);
        init.headers['content-type'] = 'application/json';
      } else if (makeBody) {
        const b = makeBody();
        init.stream = b.body;
        Object.assign(init.headers, b.headers);
      }
      let signal;
      if (limit && limit > 0) {
        signal = AbortSignal.timeout(limit);
        init.signal = signal;
      }
      let res;
      let err;
      try {
        res = init.stream
          ? await sendStreamed(method, url, init.headers, init.stream, init.signal)
          : await this._fetch(url, init);
      } catch (e) {
        if (signal && signal.aborted) {
          err = new errors.TimeoutError(`cloudimg: ${method} ${apiPath} timed out after ${limit} ms`, { cause: e });
        } else {
          err = new errors.ConnectionError(`cloudimg: ${method} ${apiPath} failed: ${e && e.cause ? e.cause.message || e.cause.code : e.message}`, { cause: e });
        }
      }
      if (res) {
        let text;
        try {
          text = await res.text();
        } catch (e) {
          if (signal && signal.aborted) {
            throw new errors.TimeoutError(`cloudimg: ${method} ${apiPath} timed out after ${limit} ms`, { cause: e });
          }
          throw new errors.ConnectionError(`cloudimg: ${method} ${apiPath}: reading the answer failed`, { cause: e });
        }
        let body;
        if (text) {
          try { body = JSON.parse(text); } catch { body = undefined; }
        }
        if (res.ok) return body;
        const requestId = res.headers.get('x-request-id') || undefined;
        const retryAfter = parseRetryAfter(res.headers.get('retry-after'));
        const Cls = errors.errorClassFor(res.status);
        const message = body && typeof body.error === 'string' ? body.error : `HTTP ${res.status} ${res.statusText}`.trim();
        err = new Cls(message, {
          status: res.status, code: body && body.code, requestId, retryAfter, body,
        });
        if (res.status !== 429 && res.status !== 503) throw err;
      }
      // 429/503 answers and connection failures (never timeouts: the server may still be working).
      if (err instanceof errors.TimeoutError || !mayRetry || attempt >= this.maxRetries) throw err;
      let delay;
      if (err.retryAfter !== undefined) {
        delay = err.retryAfter * 1000;
        if (delay > this.maxRetryDelay) throw err; // the caller would rather know now
      } else {
        const exp = Math.min(this.maxRetryDelay, this.retryBaseDelay * 2 ** attempt);
        delay = exp / 2 + Math.random() * (exp / 2);
      }
      if (typeof this.onRetry === 'function') this.onRetry({ attempt: attempt + 1, delay, error: err, method, path: apiPath });
      await sleep(delay);
    }
  }

  /**
   * Uploads a file: a path, a Buffer/Uint8Array/ArrayBuffer/Blob, or a readable stream.
   * Paths and streams are streamed, never read whole into memory.
   */
  async upload(source, opts = {}) {
    const fields = [];
    if (opts.public_id !== undefined) fields.push(['public_id', opts.public_id]);
    if (opts.folder !== undefined) fields.push(['folder', opts.folder]);
    const tags = tagsText(opts.tags);
    if (tags !== undefined) fields.push(['tags', tags]);
    if (opts.visibility !== undefined) fields.push(['visibility', opts.visibility]);
    if (opts.overwrite) fields.push(['overwrite', 'true']);

    let filename = opts.filename;
    let open; // () => AsyncIterable<Uint8Array> | Uint8Array
    let replayable = true;
    if (typeof source === 'string' || source instanceof URL) {
      const p = source instanceof URL ? source : path.resolve(source);
      const st = await fs.promises.stat(p); // fail early (ENOENT) with the caller's path
      if (!st.isFile()) throw new TypeError(`cloudimg: ${source} is not a file`);
      filename = filename || path.basename(typeof p === 'string' ? p : p.pathname);
      open = () => fs.createReadStream(p, { highWaterMark: 64 * 1024 });
    } else if (source instanceof Uint8Array) {
      open = () => source;
    } else if (source instanceof ArrayBuffer) {
      open = () => new Uint8Array(source);
    } else if (typeof Blob !== 'undefined' && source instanceof Blob) {
      if (!filename && typeof source.name === 'string') filename = source.name;
      open = () => Readable.fromWeb(source.stream());
    } else if (source && typeof source.getReader === 'function') {
      replayable = false;
      let used = false;
      open = () => { if (used) throw new Error('stream already consumed'); used = true; return Readable.fromWeb(source); };
    } else if (source && typeof source[Symbol.asyncIterator] === 'function') {
      replayable = false;
      if (!filename && typeof source.path === 'string') filename = path.basename(source.path);
      let used = false;
      open = () => { if (used) throw new Error('stream already consumed'); used = true; return source; };
    } else {
      throw new TypeError('cloudimg: upload() takes a file path, a Buffer/Uint8Array/Blob or a readable stream');
    }
    filename = filename || 'image';

    const makeBody = () => {
      const boundary = '----cloudimg' + crypto.randomBytes(12).toString('hex');
      const enc = new TextEncoder();
      let head = '';
      for (const [k, v] of fields) {
        head += `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`;
      }
      head += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${multipartEscape(filename)}"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n';
      const tail = `\r\n--${boundary}--\r\n`;
      const content = open();
      async function* parts() {
        yield enc.encode(head);
        if (content instanceof Uint8Array) {
          yield content;
        } else {
          for await (const chunk of content) {
            yield typeof chunk === 'string' ? enc.encode(chunk) : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
          }
        }
        yield enc.encode(tail);
      }
      return {
        body: parts(),
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      };
    };
    const wantRetry = opts.retry === undefined ? this.retryUploads : Boolean(opts.retry);
    return this._request('POST', '/v1/upload', {
      makeBody, retry: wantRetry && replayable, timeout: opts.timeout,
    });
  }

  /**
   * Delivery URL with the server's canonical transform string. Synchronous; throws TransformError.
   * `opts.version` (the asset's `version`) gives the versioned URL `/v1/image/<t>/v<version>/<id>`,
   * which the server marks immutable: the one to embed behind a CDN. An id whose first segment reads
   * as a version (`v2/photo`) needs it (TypeError without): unversioned, `/v1/image/v2/photo` would
   * be version 2 of an asset `photo` whenever one exists.
   */
  urlFor(publicId, transform, opts = {}) {
    const t = canonicalTransform(transform);
    const { version } = opts || {};
    const unversioned = version === undefined || version === null;
    if (!unversioned && !(Number.isSafeInteger(version) && version >= 1)) {
      throw new TypeError(`version must be a positive integer (got ${JSON.stringify(version)})`);
    }
    if (unversioned && /^v\d{1,18}\//.test(String(publicId))) {
      throw new TypeError(`public_id '${publicId}' starts with a version segment: pass { version } (the asset's version) for an unambiguous URL`);
    }
    const v = unversioned ? '' : `v${version}/`;
    return `${this.baseUrl}/v1/image/${t ? t + '/' : ''}${v}${encodeId(publicId)}`;
  }

  /** Resolves to a signed delivery URL (for private assets); transform as object or string. */
  async signedUrl(publicId, opts = {}) {
    const res = await this.signUrl(publicId, opts);
    return res.url;
  }

  /** Like signedUrl but resolves to the whole answer `{ url, expires_at, ... }`. */
  signUrl(publicId, opts = {}) {
    const body = { public_id: publicId };
    const t = canonicalTransform(opts.transform);
    if (t) body.transform = t;
    if (opts.ttl_seconds !== undefined) body.ttl_seconds = opts.ttl_seconds;
    // Signing has no side effect on the server, so it is safe to repeat.
    return this._request('POST', '/v1/image/sign', { json: body, retry: true });
  }

  getAsset(publicId) {
    return this._request('GET', `/v1/assets/${encodeId(publicId)}`);
  }

  updateAsset(publicId, changes = {}) {
    const body = {};
    if (changes.tags !== undefined) body.tags = Array.isArray(changes.tags) ? changes.tags.map(String) : tagsText(changes.tags);
    if (changes.folder !== undefined) body.folder = changes.folder;
    if (changes.visibility !== undefined) body.visibility = changes.visibility;
    return this._request('PATCH', `/v1/assets/${encodeId(publicId)}`, { json: body });
  }

  async deleteAsset(publicId) {
    await this._request('DELETE', `/v1/assets/${encodeId(publicId)}`);
  }

  async listAssets(params = {}) {
    const query = {
      folder: params.folder,
      folder_prefix: params.folder_prefix,
      tags: tagsText(params.tags),
      prefix: params.prefix,
      visibility: params.visibility,
      limit: params.limit,
      cursor: params.cursor,
    };
    const res = await this._request('GET', '/v1/assets', { query });
    return { ...res, assets: res.assets, next_cursor: res.next_cursor === undefined ? null : res.next_cursor };
  }

  /** Every asset matching `params`, page after page: `for await (const a of cli.assets({...}))`. */
  async *assets(params = {}) {
    let cursor = params.cursor;
    for (;;) {
      const page = await this.listAssets({ ...params, cursor });
      for (const a of page.assets) yield a;
      if (!page.next_cursor) return;
      cursor = page.next_cursor;
    }
  }

  usage(opts = {}) {
    return this._request('GET', '/v1/usage/summary', { query: opts.all ? { all: 'true' } : undefined });
  }
}

function createClient(opts) {
  return new Client(opts);
}

module.exports = {
  createClient,
  Client,
  Cloudimg: Client,
  canonicalTransform,
  TransformError,
  VERSION,
  ...errors,
};
delete module.exports.errorClassFor;
module.exports.default = module.exports;
