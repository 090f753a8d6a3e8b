'use strict';
// The SDK against the real server: uploads, assets, signed URLs, paging, errors, retries.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const net = require('node:net');
const { Readable } = require('node:stream');
const cloudimg = require('..');
const h = require('./helpers');

const { createClient } = cloudimg;
let server;
let key;
let cli;
let jpg;
let dir;

test.before(async () => {
  server = await h.startServer();
  key = await h.mintKey(server.base);
  cli = createClient({ baseUrl: server.base, keyId: key.keyId, keySecret: key.keySecret });
  dir = fs.mkdtempSync(path.join(server.dir, 'files-'));
  jpg = h.makeJpeg(path.join(dir, 'Sunset Beach.jpg'));
});
test.after(async () => { if (server) await server.stop(); });

async function plainGet(url) {
  const res = await fetch(url);
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, type: res.headers.get('content-type'), body };
}

test('upload from a path: asset JSON, generated public_id, image served', async () => {
  const a = await cli.upload(jpg);
  assert.match(a.public_id, /^sunset-beach-[0-9a-f]{12}$/);
  assert.equal(a.url, `${server.base}/v1/image/${a.public_id}`);
  assert.equal(a.format, 'jpg');
  assert.equal(a.width, 64);
  assert.equal(a.height, 48);
  assert.equal(a.bytes, fs.statSync(jpg).size);
  assert.equal(a.version, 1);
  const got = await plainGet(a.url);
  assert.equal(got.status, 200);
  assert.equal(got.type, 'image/jpeg');
  const t = await plainGet(cli.urlFor(a.public_id, { w: 32, f: 'png' }));
  assert.equal(t.status, 200);
  assert.equal(t.type, 'image/png');
  // The versioned URL the server reports is the one urlFor builds, and it is served.
  assert.equal(a.versioned_url, `${server.base}/v1/image/v1/${a.public_id}`);
  assert.equal(cli.urlFor(a.public_id, null, { version: a.version }), a.versioned_url);
  const v = await plainGet(cli.urlFor(a.public_id, { w: 32, f: 'png' }, { version: a.version }));
  assert.equal(v.status, 200);
  assert.equal(v.type, 'image/png');
});

test('upload from a Buffer, a Uint8Array, a Blob, a Node stream and a web stream', async () => {
  const bytes = fs.readFileSync(jpg);
  const fromBuffer = await cli.upload(bytes, { public_id: 'src/buffer' });
  assert.equal(fromBuffer.public_id, 'src/buffer');
  const fromU8 = await cli.upload(new Uint8Array(bytes), { public_id: 'src/u8' });
  assert.equal(fromU8.bytes, bytes.length);
  const fromBlob = await cli.upload(new Blob([bytes]), { public_id: 'src/blob' });
  assert.equal(fromBlob.bytes, bytes.length);
  const fromStream = await cli.upload(fs.createReadStream(jpg), { folder: 'src' });
  assert.match(fromStream.public_id, /^src\/sunset-beach-[0-9a-f]{12}$/, 'file name taken from the fs stream');
  assert.equal(fromStream.bytes, bytes.length);
  const fromWeb = await cli.upload(Readable.toWeb(Readable.from([bytes.subarray(0, 100), bytes.subarray(100)])), { filename: 'web.jpg' });
  assert.match(fromWeb.public_id, /^web-[0-9a-f]{12}$/);
  assert.equal(fromWeb.bytes, bytes.length);
  const noName = await cli.upload(bytes);
  assert.match(noName.public_id, /^image-[0-9a-f]{12}$/);
  for (const a of [fromBuffer, fromU8, fromBlob, fromStream, fromWeb]) {
    const got = await plainGet(a.url);
    assert.equal(got.status, 200);
    assert.ok(got.body.length > 0);
  }
});

test('tags and folder round trip through upload, get, update and list', async () => {
  const a = await cli.upload(jpg, { folder: 'rt/sub', tags: ['alpha', 'beta'], visibility: 'public' });
  assert.equal(a.folder, 'rt/sub');
  assert.deepEqual(a.tags, ['alpha', 'beta']);
  const b = await cli.upload(jpg, { folder: 'rt', tags: 'beta,gamma' });
  assert.deepEqual(b.tags, ['beta', 'gamma']);
  const got = await cli.getAsset(a.public_id);
  assert.equal(got.folder, 'rt/sub');
  assert.deepEqual(got.tags, ['alpha', 'beta']);

  const u1 = await cli.updateAsset(a.public_id, { tags: 'archived,old' });
  assert.deepEqual(u1.tags, ['archived', 'old']);
  const u2 = await cli.updateAsset(a.public_id, { tags: ['x', 'y'], visibility: 'private' });
  assert.deepEqual(u2.tags, ['x', 'y']);
  assert.equal(u2.visibility, 'private');
  assert.deepEqual((await cli.getAsset(a.public_id)).tags, ['x', 'y']);

  const exact = await cli.listAssets({ folder: 'rt' });
  assert.deepEqual(exact.assets.map((x) => x.public_id), [b.public_id]);
  const prefixed = await cli.listAssets({ folder_prefix: 'rt' });
  assert.deepEqual(prefixed.assets.map((x) => x.public_id).sort(), [a.public_id, b.public_id].sort());
  const tagged = await cli.listAssets({ tags: ['beta', 'gamma'] });
  assert.deepEqual(tagged.assets.map((x) => x.public_id), [b.public_id]);
  const priv = await cli.listAssets({ folder_prefix: 'rt', visibility: 'private' });
  assert.deepEqual(priv.assets.map((x) => x.public_id), [a.public_id]);
});

test('overwrite: 409 ConflictError without it, replaced with overwrite: true', async () => {
  await cli.upload(jpg, { public_id: 'ow/one' });
  await assert.rejects(cli.upload(jpg, { public_id: 'ow/one' }), (e) => {
    assert.ok(e instanceof cloudimg.ConflictError);
    assert.ok(e instanceof cloudimg.CloudimgError);
    assert.equal(e.status, 409);
    assert.equal(typeof e.message, 'string');
    assert.ok(e.message.length > 0);
    assert.match(e.requestId, /^\S+$/);
    return true;
  });
  const png = fs.readFileSync(jpg); // same bytes; the version still moves on
  const b = await cli.upload(png, { public_id: 'ow/one', overwrite: true });
  assert.equal(b.version, 2);
});

test('signed URL: plain fetch gives 200, a tampered one 403, unsigned private 401', async () => {
  const a = await cli.upload(jpg, { public_id: 'secret/pic', visibility: 'private' });
  const unsigned = await plainGet(a.url);
  assert.equal(unsigned.status, 401);
  const signed = await cli.signedUrl(a.public_id, { transform: { w: 200 }, ttl_seconds: 600 });
  assert.ok(signed.startsWith(`${server.base}/v1/image/w_200/secret/pic?expires=`), signed);
  assert.equal((await plainGet(signed)).status, 200);
  const sameFromString = await cli.signedUrl(a.public_id, { transform: 'w_200', ttl_seconds: 600 });
  assert.equal(new URL(sameFromString).pathname, new URL(signed).pathname);

  const u = new URL(signed);
  const sig = u.searchParams.get('sig');
  u.searchParams.set('sig', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1));
  assert.equal((await plainGet(u.toString())).status, 403);
  const widened = signed.replace('/w_200/', '/w_400/');
  assert.equal((await plainGet(widened)).status, 403);

  const full = await cli.signUrl(a.public_id, {});
  assert.equal(typeof full.expires_at, 'string');
  assert.equal((await plainGet(full.url)).status, 200);
  await assert.rejects(cli.signedUrl(a.public_id, { ttl_seconds: 0 }), cloudimg.BadRequestError);
  await assert.rejects(cli.signedUrl('no/such', {}), cloudimg.NotFoundError);
});

test('listing pages to the end, by hand and with the async iterator', async () => {
  const ids = [];
  for (let i = 0; i < 7; i++) ids.push((await cli.upload(jpg, { folder: 'pages' })).public_id);
  const seen = [];
  let cursor;
  let pages = 0;
  for (;;) {
    const page = await cli.listAssets({ folder: 'pages', limit: 3, cursor });
    pages++;
    assert.ok(page.assets.length <= 3);
    seen.push(...page.assets.map((a) => a.public_id));
    if (page.next_cursor === null) break;
    assert.equal(typeof page.next_cursor, 'string');
    cursor = page.next_cursor;
  }
  assert.equal(pages, 3);
  assert.deepEqual([...seen].sort(), [...ids].sort());
  const iterated = [];
  for await (const a of cli.assets({ folder: 'pages', limit: 2 })) iterated.push(a.public_id);
  assert.deepEqual(iterated, seen);
});

test('deleteAsset, then getAsset is a NotFoundError', async () => {
  const a = await cli.upload(jpg, { public_id: 'del/me' });
  assert.equal(await cli.deleteAsset(a.public_id), undefined);
  await assert.rejects(cli.getAsset(a.public_id), (e) => {
    assert.ok(e instanceof cloudimg.NotFoundError);
    assert.equal(e.status, 404);
    assert.equal(e.code, 'not_found');
    assert.match(e.message, /del\/me/);
    assert.ok(e.requestId);
    return true;
  });
  await assert.rejects(cli.deleteAsset(a.public_id), cloudimg.NotFoundError);
  assert.equal((await plainGet(a.url)).status, 404);
});

test('each error class from a real answer: 400, 401, 403, 404, 415', async () => {
  const bad = createClient({ baseUrl: server.base, keyId: key.keyId, keySecret: 'cs_wrong' });
  await assert.rejects(bad.listAssets(), (e) => {
    assert.ok(e instanceof cloudimg.AuthenticationError);
    assert.equal(e.status, 401);
    assert.ok(e.requestId);
    return true;
  });
  const anonymous = createClient({ baseUrl: server.base });
  await assert.rejects(anonymous.usage(), cloudimg.AuthenticationError);

  await assert.rejects(cli.upload(jpg, { public_id: 'a//b' }), (e) => {
    assert.ok(e instanceof cloudimg.BadRequestError);
    assert.equal(e.status, 400);
    return true;
  });
  await assert.rejects(cli.upload(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'), { filename: 'x.svg' }), (e) => {
    assert.ok(e instanceof cloudimg.UnsupportedMediaTypeError);
    assert.equal(e.status, 415);
    assert.equal(e.code, 'unsupported_media_type');
    return true;
  });
  await assert.rejects(cli.getAsset('never/was'), cloudimg.NotFoundError);

  // 403: a second, non-admin user may not sign the admin's asset.
  const mine = await cli.upload(jpg, { public_id: 'owned/by-admin', visibility: 'private' });
  const login = await fetch(`${server.base}/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'admin@example.test', password: 'correct horse battery staple' }),
  });
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const created = await fetch(`${server.base}/v1/users`, {
    method: 'POST', headers: { 'content-type': 'application/json', cookie, origin: server.base },
    body: JSON.stringify({ email: 'user@example.test', password: 'another long password', role: 'user' }),
  });
  assert.ok(created.ok, `creating a user: ${created.status}`);
  const login2 = await fetch(`${server.base}/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'user@example.test', password: 'another long password' }),
  });
  const cookie2 = login2.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const k2 = await (await fetch(`${server.base}/v1/api-keys`, {
    method: 'POST', headers: { 'content-type': 'application/json', cookie: cookie2, origin: server.base },
    body: JSON.stringify({ name: 'user' }),
  })).json();
  const other = createClient({ baseUrl: server.base, keyId: k2.key_id, keySecret: k2.key_secret });
  await assert.rejects(other.signedUrl(mine.public_id, {}), (e) => {
    assert.ok(e instanceof cloudimg.PermissionDeniedError, `${e.name} ${e.status}`);
    assert.equal(e.status, 403);
    return true;
  });
});

test('usage reports storage and asset count', async () => {
  const u = await cli.usage();
  assert.equal(typeof u.storage_bytes, 'number');
  assert.ok(u.asset_count > 0);
  assert.ok(u.storage_bytes > 0);
  assert.equal(typeof u.bandwidth_bytes, 'number');
  const all = await cli.usage({ all: true });
  assert.ok(Array.isArray(all.users));
});

test('timeouts raise TimeoutError and are not retried', async () => {
  // A listener that accepts and never answers.
  const silent = net.createServer(() => {});
  await new Promise((r) => silent.listen(0, '127.0.0.1', r));
  const retries = [];
  const slow = createClient({ baseUrl: `http://127.0.0.1:${silent.address().port}`, timeout: 300, onRetry: (i) => retries.push(i) });
  const t0 = Date.now();
  await assert.rejects(slow.listAssets(), (e) => {
    assert.ok(e instanceof cloudimg.TimeoutError);
    assert.ok(e instanceof cloudimg.CloudimgError);
    assert.equal(e.status, undefined);
    return true;
  });
  assert.ok(Date.now() - t0 < 5000);
  assert.equal(retries.length, 0);
  silent.close();
});

test('connection failures: idempotent calls retried with backoff, uploads not unless opted in', async () => {
  const probe = net.createServer();
  await new Promise((r) => probe.listen(0, '127.0.0.1', r));
  const port = probe.address().port;
  await new Promise((r) => probe.close(r)); // nothing listens there now
  const retries = [];
  const c = createClient({ baseUrl: `http://127.0.0.1:${port}`, maxRetries: 2, retryBaseDelay: 20, onRetry: (i) => retries.push(i) });
  await assert.rejects(c.getAsset('x'), cloudimg.ConnectionError);
  assert.deepEqual(retries.map((r) => r.attempt), [1, 2]);
  assert.ok(retries.every((r) => r.method === 'GET' && r.delay >= 10 && r.delay <= 40), JSON.stringify(retries));
  retries.length = 0;
  await assert.rejects(c.upload(jpg), cloudimg.ConnectionError);
  assert.equal(retries.length, 0, 'a plain upload is never retried');
  await assert.rejects(c.upload(jpg, { retry: true }), cloudimg.ConnectionError);
  assert.equal(retries.length, 2, 'an opted-in upload from a path is retried');
  retries.length = 0;
  await assert.rejects(c.upload(fs.createReadStream(jpg), { retry: true }), cloudimg.ConnectionError);
  assert.equal(retries.length, 0, 'a stream cannot be replayed, so it is not retried');
});

test('the packed package has zero runtime dependencies and ships CJS, ESM and types', () => {
  const consumer = h.consumerDir();
  const pkg = JSON.parse(fs.readFileSync(path.join(consumer, 'node_modules', 'cloudimg', 'package.json'), 'utf8'));
  assert.equal(pkg.name, 'cloudimg');
  assert.deepEqual(pkg.dependencies || {}, {});
  for (const f of ['lib/index.js', 'lib/errors.js', 'lib/transform.js', 'index.mjs', 'index.d.ts', 'README.md', 'CHANGELOG.md']) {
    assert.ok(fs.existsSync(path.join(consumer, 'node_modules', 'cloudimg', f)), `${f} missing from the package`);
  }
  if (process.env.CLOUDIMG_TARBALL) assert.ok(fs.statSync(process.env.CLOUDIMG_TARBALL).size > 0);
});
