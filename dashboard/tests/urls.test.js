'use strict';
// The dashboard's URL rules against the server's shared vectors (tests/vectors/delivery_urls.json), so the
// `v<digits>/` rule cannot drift from the server's `public_id::version_segment` (1 to 18 digits).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..', '..');

// api.js is a browser ES module with no imports: loaded as one, unchanged, from its source.
async function apiModule() {
  const src = fs.readFileSync(path.join(REPO_ROOT, 'dashboard', 'app', 'js', 'api.js'), 'utf8');
  return import(`data:text/javascript,${encodeURIComponent(src)}`);
}

test('delivery paths and the version rule match the server vectors', async () => {
  const { deliveryPath, urlNeedsVersion } = await apiModule();
  const vectors = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'tests', 'vectors', 'delivery_urls.json'), 'utf8'));
  for (const c of vectors) {
    const what = JSON.stringify(c);
    if ('error' in c) {
      assert.ok(urlNeedsVersion(c.public_id), `an unversioned URL has two readings: ${what}`);
      continue;
    }
    if (c.version === null) assert.ok(!urlNeedsVersion(c.public_id), `the server reads no version here: ${what}`);
    // What the playground builds: the version only where the rule asks for it (or the vector gives one).
    const version = c.version ?? (urlNeedsVersion(c.public_id) ? 1 : null);
    assert.equal(deliveryPath(c.public_id, c.transform, version), c.path, what);
  }
  assert.ok(vectors.some((c) => /^v\d{19}\//.test(c.public_id)), 'the vectors cover the 19-digit bound');
});
