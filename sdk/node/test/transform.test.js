'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { createClient, canonicalTransform, TransformError, CloudimgError } = require('..');
const { REPO_ROOT } = require('./helpers');

const vectors = (name) => JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'tests', 'vectors', name), 'utf8'));
const cli = createClient({ baseUrl: 'https://img-cloud.org/', keyId: 'ck_x', keySecret: 'cs_x' });

test('server vectors: string transforms canonicalise byte for byte (tests/vectors/transforms.json)', () => {
  const v = vectors('transforms.json');
  assert.ok(v.length > 100);
  for (const c of v) {
    if ('canonical' in c) {
      assert.equal(canonicalTransform(c.input), c.canonical, `input ${JSON.stringify(c.input)}`);
      const expected = `https://img-cloud.org/v1/image/${c.canonical ? c.canonical + '/' : ''}photo-3a7f9c81b2e4`;
      assert.equal(cli.urlFor('photo-3a7f9c81b2e4', c.input), expected);
    } else {
      assert.throws(() => canonicalTransform(c.input), (e) => {
        assert.ok(e instanceof TransformError, `input ${JSON.stringify(c.input)}: ${e}`);
        assert.equal(e.key, c.error, `input ${JSON.stringify(c.input)}: ${e.message}`);
        return true;
      });
    }
  }
});

test('object vectors: objects print in key order w,h,c,q,f,dpr,gr,bl,r,bg (tests/vectors/transform_objects.json)', () => {
  for (const c of vectors('transform_objects.json')) {
    if ('canonical' in c) {
      assert.equal(canonicalTransform(c.object), c.canonical, JSON.stringify(c.object));
      const expected = `https://img-cloud.org/v1/image/${c.canonical ? c.canonical + '/' : ''}a/b`;
      assert.equal(cli.urlFor('a/b', c.object), expected);
    } else {
      assert.throws(() => cli.urlFor('x', c.object), (e) => {
        assert.ok(e instanceof TransformError, `${JSON.stringify(c.object)}: ${e}`);
        assert.equal(e.key, c.error, `${JSON.stringify(c.object)}: ${e.message}`);
        return true;
      });
    }
  }
});

test('versioned URLs match the server vectors (tests/vectors/delivery_urls.json)', () => {
  const v = vectors('delivery_urls.json');
  assert.ok(v.length >= 5);
  for (const c of v) {
    if ('error' in c) {
      assert.throws(() => cli.urlFor(c.public_id, c.transform, { version: c.version }), { name: 'TypeError', message: /version/ }, JSON.stringify(c));
    } else {
      assert.equal(cli.urlFor(c.public_id, c.transform, { version: c.version }), `https://img-cloud.org${c.path}`, JSON.stringify(c));
    }
  }
  // Only a first segment that reads as a version needs one.
  assert.equal(cli.urlFor('albums/v2/x'), 'https://img-cloud.org/v1/image/albums/v2/x');
  assert.equal(cli.urlFor('v2x/photo'), 'https://img-cloud.org/v1/image/v2x/photo');
  assert.throws(() => cli.urlFor('v7/photo', { w: 20 }), /starts with a version segment/);
  assert.equal(cli.urlFor('p', { w: 20 }, { version: 2 }), 'https://img-cloud.org/v1/image/w_20/v2/p');
  assert.equal(cli.urlFor('p', null, {}), 'https://img-cloud.org/v1/image/p');
  for (const bad of [0, -1, 1.5, '3', NaN]) {
    assert.throws(() => cli.urlFor('p', {}, { version: bad }), TypeError, String(bad));
  }
});

test("urlFor gives the docs' example exactly and is synchronous", () => {
  const out = cli.urlFor('photo-3a7f9c81b2e4', { w: 400, h: 400, c: 'fill', f: 'webp' });
  assert.equal(typeof out, 'string');
  assert.equal(out, 'https://img-cloud.org/v1/image/w_400,h_400,c_fill,f_webp/photo-3a7f9c81b2e4');
  assert.equal(cli.urlFor('photo-3a7f9c81b2e4'), 'https://img-cloud.org/v1/image/photo-3a7f9c81b2e4');
});

test('urlFor errors name the key and its range', () => {
  assert.throws(() => cli.urlFor('p', { w: 5000 }), { name: 'TransformError', key: 'w', message: 'w must be an integer from 1 to 4000 (got 5000)' });
  assert.throws(() => cli.urlFor('p', { q: 0 }), /q must be an integer from 1 to 100/);
  assert.throws(() => cli.urlFor('p', { dpr: 4 }), /dpr must be a number from 1 to 3 with at most 2 decimals/);
  assert.throws(() => cli.urlFor('p', { wat: 1 }), /unknown transform key 'wat'/);
  assert.throws(() => cli.urlFor('', { w: 1 }), TypeError);
  // A transform error is not a server error.
  assert.throws(() => cli.urlFor('p', { w: 0 }), (e) => !(e instanceof CloudimgError));
});

test('createClient falls back to CLOUDIMG_BASE_URL, CLOUDIMG_KEY_ID, CLOUDIMG_KEY_SECRET', () => {
  const saved = { ...process.env };
  try {
    process.env.CLOUDIMG_BASE_URL = 'https://env.example/';
    process.env.CLOUDIMG_KEY_ID = 'ck_env';
    process.env.CLOUDIMG_KEY_SECRET = 'cs_env';
    const c = createClient();
    assert.equal(c.urlFor('p', { w: 1 }), 'https://env.example/v1/image/w_1/p');
    assert.equal(c.keyId, 'ck_env');
    delete process.env.CLOUDIMG_BASE_URL;
    assert.throws(() => createClient({}), /baseUrl is required/);
  } finally {
    for (const k of ['CLOUDIMG_BASE_URL', 'CLOUDIMG_KEY_ID', 'CLOUDIMG_KEY_SECRET']) {
      if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
    }
  }
});
