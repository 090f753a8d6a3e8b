'use strict';
// The docs' snippets, run literally against the real server from a project where the packed SDK is
// installed, and type-checked with tsc --strict.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');
const h = require('./helpers');

let server;
let key;
let consumer;

test.before(async () => {
  server = await h.startServer();
  key = await h.mintKey(server.base);
  consumer = h.consumerDir();
});
test.after(async () => { if (server) await server.stop(); });

function runSnippet(name, trailer) {
  const dir = fs.mkdtempSync(path.join(consumer, `run-${path.basename(name, '.txt')}-`));
  h.makeJpeg(path.join(dir, 'photo.jpg'));
  h.makeJpeg(path.join(dir, 'hero.jpg'));
  const file = path.join(dir, 'snippet.js');
  fs.writeFileSync(file, h.runnable(h.snippet(name), trailer));
  const res = spawnSync(process.execPath, [file], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, CLOUDIMG_BASE_URL: server.base, CLOUDIMG_KEY_ID: key.keyId, CLOUDIMG_KEY_SECRET: key.keySecret },
    timeout: 60000,
  });
  assert.equal(res.status, 0, `snippet ${name} failed:\n${res.stdout}\n${res.stderr}`);
  return res.stdout;
}

const squash = (s) => s.replace(/\s+/g, '');

test('the snippets kept here are the docs\' snippets and appear verbatim in the README', () => {
  const readme = fs.readFileSync(path.join(h.SDK_DIR, 'README.md'), 'utf8');
  for (const name of ['quickstart.txt', 'sdk.txt']) {
    assert.ok(readme.includes(h.snippet(name)), `README.md must show test/snippets/${name} verbatim`);
  }
  const docs = [process.env.CLOUDIMG_DOCS, path.join(h.REPO_ROOT, '..', 'shared', 'spec', 'img-cloud-docs.txt')]
    .filter(Boolean).find((p) => fs.existsSync(p));
  if (docs) {
    // The docs page lost its indentation and some spaces, so compare with whitespace removed.
    const text = squash(fs.readFileSync(docs, 'utf8'));
    assert.ok(text.includes(squash(h.snippet('quickstart.txt'))), 'quickstart snippet differs from the docs');
    assert.ok(text.includes(squash(h.snippet('sdk.txt'))), 'Node.js SDK snippet differs from the docs');
  }
});

test('Quickstart snippet prints the asset url and the docs\' urlFor output', () => {
  const lines = runSnippet('quickstart.txt').trim().split('\n');
  assert.equal(lines.length, 2, lines.join('\n'));
  const m = new RegExp(`^${server.base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/v1/image/(photo-[0-9a-f]{12})$`).exec(lines[0]);
  assert.ok(m, `first line should be <base>/v1/image/photo-<12 hex>: ${lines[0]}`);
  assert.equal(lines[1], `${server.base}/v1/image/w_400,h_400,c_fill,f_webp/${m[1]}`);
});

test('Node.js SDK snippet runs unchanged: upload, urlFor, signedUrl, update, delete, list', async () => {
  const out = runSnippet('sdk.txt', '\nconsole.log(JSON.stringify({ asset, thumb, signed, assets }));');
  const { asset, thumb, signed, assets } = JSON.parse(out.trim().split('\n').pop());
  assert.match(asset.public_id, /^marketing\/hero-[0-9a-f]{12}$/);
  assert.equal(asset.folder, 'marketing');
  assert.deepEqual(asset.tags, ['hero', 'homepage']);
  assert.equal(asset.visibility, 'public');
  assert.equal(asset.url, `${server.base}/v1/image/${asset.public_id}`);
  assert.equal(thumb, `${server.base}/v1/image/w_400,h_400,c_fill,q_80,f_webp/${asset.public_id}`);
  assert.ok(signed.startsWith(`${server.base}/v1/image/w_200/${asset.public_id}?expires=`), signed);
  assert.match(signed, /&sig=[A-Za-z0-9_-]+$/);
  assert.ok(Array.isArray(assets));
  assert.ok(!assets.some((a) => a.public_id === asset.public_id), 'deleted asset still listed');
  const gone = await fetch(`${server.base}/v1/assets/${asset.public_id}`, {
    headers: { authorization: `ApiKey ${key.keyId}:${key.keySecret}` },
  });
  assert.equal(gone.status, 404);
});

test('ESM import and CommonJS require give the same API', () => {
  const file = path.join(consumer, 'esm-check.mjs');
  fs.writeFileSync(file, [
    "import cloudimg, { createClient, CloudimgError, NotFoundError } from 'cloudimg';",
    "import { createRequire } from 'node:module';",
    'const require = createRequire(import.meta.url);',
    "const cjs = require('cloudimg');",
    "const cli = createClient({ baseUrl: 'https://img-cloud.org' });",
    "console.log(cli.urlFor('photo-3a7f9c81b2e4', { w: 400, h: 400, c: 'fill', f: 'webp' }));",
    'console.log(cjs.createClient === createClient, cloudimg.createClient === createClient, new NotFoundError("x") instanceof CloudimgError, cjs.CloudimgError === CloudimgError);',
  ].join('\n'));
  const out = execFileSync(process.execPath, [file], { cwd: consumer, encoding: 'utf8' });
  assert.equal(out, 'https://img-cloud.org/v1/image/w_400,h_400,c_fill,f_webp/photo-3a7f9c81b2e4\ntrue true true true\n');
});

test("tsc --strict accepts the docs' snippets and the typed API", () => {
  const tscCandidates = [path.join(consumer, 'node_modules', '.bin', 'tsc'), path.join(h.SDK_DIR, 'node_modules', '.bin', 'tsc')];
  const tsc = tscCandidates.find((p) => fs.existsSync(p));
  assert.ok(tsc, `typescript is not installed (run sdk/node/test.sh, which installs it): tried ${tscCandidates.join(', ')}`);
  const dir = fs.mkdtempSync(path.join(consumer, 'typecheck-'));
  fs.writeFileSync(path.join(dir, 'quickstart.js'), h.runnable(h.snippet('quickstart.txt')));
  fs.writeFileSync(path.join(dir, 'sdk.js'), h.runnable(h.snippet('sdk.txt')));
  fs.copyFileSync(path.join(__dirname, 'types', 'usage.ts'), path.join(dir, 'usage.ts'));
  fs.copyFileSync(path.join(__dirname, 'types', 'usage.ts'), path.join(dir, 'usage-esm.mts'));
  const typeRoots = [path.join(consumer, 'node_modules', '@types'), path.join(h.SDK_DIR, 'node_modules', '@types')]
    .filter((p) => fs.existsSync(path.join(p, 'node')));
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true, noEmit: true, allowJs: true, checkJs: true, target: 'es2022', module: 'node16',
      moduleResolution: 'node16', types: ['node'], typeRoots, skipLibCheck: false, lib: ['es2022'],
    },
    files: ['quickstart.js', 'sdk.js', 'usage.ts', 'usage-esm.mts'],
  }, null, 2));
  const res = spawnSync(tsc, ['-p', path.join(dir, 'tsconfig.json')], { encoding: 'utf8' });
  assert.equal(res.status, 0, `tsc --strict failed:\n${res.stdout}${res.stderr}`);
  // And tsc really checks the snippets against our types: a wrong call is rejected.
  fs.writeFileSync(path.join(dir, 'bad.js'), "const cli = require('cloudimg').createClient({ baseUrl: 'x' });\ncli.urlFor(42, { w: 'x', nope: 1 });\n");
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'tsconfig.json'), 'utf8'));
  cfg.files = ['bad.js'];
  fs.writeFileSync(path.join(dir, 'tsconfig.bad.json'), JSON.stringify(cfg));
  const bad = spawnSync(tsc, ['-p', path.join(dir, 'tsconfig.bad.json')], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0, 'tsc should reject a mistyped call');
  assert.match(bad.stdout, /bad\.js/);
});
