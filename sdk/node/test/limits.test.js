'use strict';
// 429 through a low configured upload limit (with Retry-After), and 413 above the size cap.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const cloudimg = require('..');
const h = require('./helpers');

test('429 RateLimitError carries retryAfter; reads are unaffected; long waits are not slept through', async (t) => {
  const server = await h.startServer({ IMGCLOUD_RATE_LIMIT__UPLOAD_PER_IP_PER_MINUTE: '2' });
  t.after(() => server.stop());
  const key = await h.mintKey(server.base);
  const retries = [];
  const cli = cloudimg.createClient({ baseUrl: server.base, ...key, maxRetryDelay: 2000, onRetry: (i) => retries.push(i) });
  const jpg = h.makeJpeg(path.join(server.dir, 'rl.jpg'));
  await cli.upload(jpg);
  await cli.upload(jpg);
  let err;
  await assert.rejects(cli.upload(jpg), (e) => {
    err = e;
    assert.ok(e instanceof cloudimg.RateLimitError, `${e.name}: ${e.message}`);
    assert.ok(e instanceof cloudimg.CloudimgError);
    assert.equal(e.status, 429);
    assert.equal(typeof e.retryAfter, 'number');
    assert.ok(e.retryAfter > 0 && e.retryAfter <= 60, `retryAfter ${e.retryAfter}`);
    assert.ok(e.requestId);
    assert.ok(e.message.length > 0);
    return true;
  });
  assert.equal(retries.length, 0, 'a plain upload is not retried');
  // Opted in, but the server asks for longer than maxRetryDelay: fail now, do not sleep.
  const t0 = Date.now();
  await assert.rejects(cli.upload(jpg, { retry: true }), cloudimg.RateLimitError);
  assert.ok(Date.now() - t0 < 1500);
  assert.equal(retries.length, 0);
  // The limit is on uploads only.
  const page = await cli.listAssets();
  assert.equal(page.assets.length, 2);
  assert.ok(err.retryAfter >= 1);
});

test('413 PayloadTooLargeError above the configured upload cap', async (t) => {
  const server = await h.startServer({ IMGCLOUD_UPLOAD__MAX_BYTES: '100000' });
  t.after(() => server.stop());
  const key = await h.mintKey(server.base);
  const cli = cloudimg.createClient({ baseUrl: server.base, ...key });
  const big = Buffer.concat([h.makePng(8, 8), Buffer.alloc(300000)]);
  await assert.rejects(cli.upload(big), (e) => {
    assert.ok(e instanceof cloudimg.PayloadTooLargeError, `${e.name} ${e.status}: ${e.message}`);
    assert.equal(e.status, 413);
    return true;
  });
  const small = h.makeJpeg(path.join(server.dir, 'ok.jpg'));
  assert.equal((await cli.upload(small)).format, 'jpg');
  assert.ok(fs.existsSync(small));
});

test('an opted-in upload waits for Retry-After and then succeeds (real 429, about a minute)', async (t) => {
  const server = await h.startServer({ IMGCLOUD_RATE_LIMIT__UPLOAD_PER_IP_PER_MINUTE: '1' });
  t.after(() => server.stop());
  const key = await h.mintKey(server.base);
  const retries = [];
  const cli = cloudimg.createClient({
    baseUrl: server.base, ...key, maxRetries: 2, maxRetryDelay: 70000, onRetry: (i) => retries.push(i),
  });
  const jpg = h.makeJpeg(path.join(server.dir, 'wait.jpg'));
  await cli.upload(jpg);
  const t0 = Date.now();
  const a = await cli.upload(jpg, { retry: true });
  const waited = Date.now() - t0;
  assert.equal(a.format, 'jpg');
  assert.ok(retries.length >= 1, 'the 429 was retried');
  const first = retries[0];
  assert.ok(first.error instanceof cloudimg.RateLimitError);
  assert.equal(first.delay, first.error.retryAfter * 1000, 'the delay is exactly what Retry-After said');
  assert.ok(waited >= first.delay, `waited ${waited} ms for a ${first.delay} ms Retry-After`);
});
