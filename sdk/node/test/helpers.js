'use strict';
// Test harness: starts the real imgcloud binary (no mocks), mints an API key through the API,
// and makes test images. Mirrors tests/api/helpers.rs.

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const readline = require('node:readline');

const SDK_DIR = path.resolve(__dirname, '..');
const REPO_ROOT = path.resolve(SDK_DIR, '..', '..');
const ADMIN_EMAIL = 'admin@example.test';
const ADMIN_PASSWORD = 'correct horse battery staple';

function findBinary() {
  const candidates = [
    process.env.IMGCLOUD_BIN,
    path.join(REPO_ROOT, 'target', 'debug', 'imgcloud'),
    path.join(REPO_ROOT, 'target', 'release', 'imgcloud'),
  ].filter(Boolean);
  for (const c of candidates) {
    if (fs.existsSync(c)) return c;
  }
  throw new Error(`imgcloud binary not found (tried ${candidates.join(', ')}); build it with cargo build or set IMGCLOUD_BIN`);
}

const servers = new Set();
process.on('exit', () => { for (const s of servers) { try { s.kill('SIGKILL'); } catch { /* gone */ } } });

/** Starts a server; resolves to { base, dir, stop() }. */
async function startServer(extraEnv = {}) {
  const bin = findBinary();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cloudimg-node-'));
  const env = {
    PATH: process.env.PATH || '/usr/bin:/bin',
    IMGCLOUD_LISTEN: '127.0.0.1:0',
    IMGCLOUD_DATA_DIR: path.join(dir, 'data'),
    IMGCLOUD_ADMIN_EMAIL: ADMIN_EMAIL,
    IMGCLOUD_ADMIN_PASSWORD: ADMIN_PASSWORD,
    IMGCLOUD_AUTH__BCRYPT_COST: '4',
    ...extraEnv,
  };
  const child = spawn(bin, [], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  servers.add(child);
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 60 s: ${stderr}`)), 60000);
    const rl = readline.createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      const m = /^(\S+) listening on (http:\/\/\S+)/.exec(line);
      if (m && m[1] !== 'metrics') { clearTimeout(timer); resolve(m[2]); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited (${code}): ${stderr}`)); });
  });
  const stop = () => new Promise((resolve) => {
    if (child.exitCode !== null) { servers.delete(child); resolve(); return; }
    child.once('exit', () => { servers.delete(child); fs.rmSync(dir, { recursive: true, force: true }); resolve(); });
    child.kill('SIGTERM');
  });
  return { base, dir, stop, child };
}

/** Logs in as the admin (cookie session) and mints an API key, as a user would in the dashboard. */
async function mintKey(base, name = 'sdk-tests') {
  const login = await fetch(`${base}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
  });
  if (!login.ok) throw new Error(`login failed: ${login.status} ${await login.text()}`);
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const res = await fetch(`${base}/v1/api-keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, origin: base },
    body: JSON.stringify({ name }),
  });
  if (res.status !== 201 && res.status !== 200) throw new Error(`minting a key failed: ${res.status} ${await res.text()}`);
  const key = await res.json();
  return { keyId: key.key_id, keySecret: key.key_secret };
}

function crc32(buf) {
  let crc = 0xffffffff;
  for (let n = 0; n < buf.length; n++) {
    let c = (crc ^ buf[n]) & 0xff;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crc = (crc >>> 8) ^ c;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
/** A small RGB PNG with a gradient. */
function makePng(w = 64, h = 48) {
  const rows = [];
  for (let y = 0; y < h; y++) {
    const r = Buffer.alloc(1 + w * 3);
    for (let x = 0; x < w; x++) { r[1 + x * 3] = (x * 7) & 255; r[2 + x * 3] = (y * 5) & 255; r[3 + x * 3] = 100; }
    rows.push(r);
  }
  const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

/** Writes a real JPEG to `dest` (a PNG converted by the server's own `imgcloud render`). */
function makeJpeg(dest, w = 64, h = 48) {
  const png = dest + '.src.png';
  fs.writeFileSync(png, makePng(w, h));
  execFileSync(findBinary(), ['render', png, 'f_jpg', dest], { stdio: 'ignore' });
  fs.rmSync(png);
  return dest;
}

/**
 * A directory where the packed SDK is installed like a user would install it (test.sh sets
 * CLOUDIMG_CONSUMER_DIR after `npm pack` + `npm install <tarball>`); otherwise a temp dir linking
 * to this checkout.
 */
function consumerDir() {
  if (process.env.CLOUDIMG_CONSUMER_DIR) return process.env.CLOUDIMG_CONSUMER_DIR;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cloudimg-consumer-'));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(SDK_DIR, path.join(dir, 'node_modules', 'cloudimg'), 'dir');
  fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"consumer","private":true}\n');
  process.env.CLOUDIMG_CONSUMER_DIR = dir;
  return dir;
}

/** The docs' snippet text as kept in test/snippets (the README shows the same text). */
function snippet(name) {
  return fs.readFileSync(path.join(__dirname, 'snippets', name), 'utf8');
}

/** The snippet, unchanged, inside an async wrapper, with only the base URL read from the env. */
function runnable(text, trailer = '') {
  const body = text.split("'https://img-cloud.org'").join('process.env.CLOUDIMG_BASE_URL');
  return `(async () => {\n${body}${trailer}\n})().catch((e) => { console.error(e); process.exit(1); });\n`;
}

module.exports = {
  SDK_DIR, REPO_ROOT, startServer, mintKey, makePng, makeJpeg, consumerDir, snippet, runnable, findBinary,
};
