'use strict';
// Browser-test harness: starts the real imgcloud binary, drives Debian's Chromium through Playwright,
// fails on console errors, failed requests, unexpected HTTP errors and CSP violations, runs axe-core
// on every page and saves desktop + 390 px screenshots.

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const crypto = require('node:crypto');
const readline = require('node:readline');
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const ADMIN_EMAIL = 'admin@example.test';
const ADMIN_PASSWORD = 'correct horse battery staple';
const SHOTS_DIR = process.env.DASHBOARD_SCREENSHOTS || path.join(REPO_ROOT, 'target', 'dashboard-screenshots');
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

function findBinary() {
  const candidates = [process.env.IMGCLOUD_BIN, path.join(REPO_ROOT, 'target', 'debug', 'imgcloud')].filter(Boolean);
  for (const c of candidates) if (fs.existsSync(c)) return c;
  throw new Error(`imgcloud binary not found (tried ${candidates.join(', ')}); run cargo build or set IMGCLOUD_BIN`);
}

const children = new Set();
process.on('exit', () => { for (const c of children) { try { c.kill('SIGKILL'); } catch { /* gone */ } } });

/** Starts the server on a free port with a temp data dir and a known first admin; resolves to { base, stop }. */
async function startServer(extraEnv = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgcloud-dash-'));
  const env = {
    PATH: process.env.PATH || '/usr/bin:/bin',
    IMGCLOUD_LISTEN: '127.0.0.1:0',
    IMGCLOUD_DATA_DIR: path.join(dir, 'data'),
    IMGCLOUD_ADMIN_EMAIL: ADMIN_EMAIL,
    IMGCLOUD_ADMIN_PASSWORD: ADMIN_PASSWORD,
    IMGCLOUD_AUTH__BCRYPT_COST: '4',
    ...extraEnv,
  };
  const child = spawn(findBinary(), [], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-8000); });
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
    const done = () => { children.delete(child); fs.rmSync(dir, { recursive: true, force: true }); resolve(); };
    if (child.exitCode !== null) { done(); return; }
    child.once('exit', done);
    child.kill('SIGTERM');
  });
  return { base, stop, serverLog: () => stderr };
}

/** Cookie-session login from the test itself (for API-side checks); returns the Cookie header. */
async function apiLogin(base, email, password) {
  const res = await fetch(`${base}/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }),
  });
  assert.equal(res.status, 200, `login of ${email} failed: ${res.status}`);
  return res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
}

async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
  });
}

/**
 * A page that records every problem: console errors, page errors, failed requests, HTTP errors
 * the test did not declare with `allow(status, urlPart)`, and CSP violations (seen by the page's
 * own securitypolicyviolation event and by Chromium's console report).
 */
async function openPage(browser, base, name) {
  const context = await browser.newContext({ viewport: DESKTOP, baseURL: base });
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile || ''}:${e.lineNumber || ''}`);
    });
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const problems = [];
  const allowed = [];
  const allowedUrls = new Set();
  const isAllowed = (status, url) => allowed.some((a) => a.status === status && url.includes(a.urlPart));
  page.on('console', (msg) => {
    if (msg.type() !== 'error' && !/Content Security Policy/i.test(msg.text())) return;
    const text = msg.text();
    const loc = msg.location() && msg.location().url;
    // Chromium echoes every HTTP error response as a console error; those are judged by status below.
    const m = /^Failed to load resource: the server responded with a status of (\d+)/.exec(text);
    if (m && loc && (allowedUrls.has(loc) || isAllowed(Number(m[1]), loc))) return;
    problems.push(`console ${msg.type()}: ${text}${loc ? ` (${loc})` : ''}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => {
    const why = req.failure() ? req.failure().errorText : 'unknown';
    // The page aborts its own superseded playground fetches, and navigation cancels lazy images: not failures of the server.
    if (why === 'net::ERR_ABORTED') return;
    problems.push(`request failed: ${req.method()} ${req.url()} (${why})`);
  });
  page.on('response', (res) => {
    const status = res.status();
    if (status < 400) return;
    if (isAllowed(status, res.url())) { allowedUrls.add(res.url()); return; }
    problems.push(`HTTP ${status}: ${res.request().method()} ${res.url()}`);
  });
  const api = {
    page,
    context,
    name,
    problems,
    /** Declares an expected HTTP error (e.g. the wrong-password 401) for URLs containing urlPart. */
    allow(status, urlPart) { allowed.push({ status, urlPart }); },
    /** Drops every allow() rule: later errors of that kind fail the test again. */
    disallowAll() { allowed.length = 0; },
    async assertClean(where) {
      const csp = await page.evaluate(() => window.__cspViolations || []).catch(() => []);
      const all = [...problems, ...csp.map((c) => `CSP violation: ${c}`)];
      assert.deepEqual(all, [], `problems on ${where}:\n${all.join('\n')}`);
    },
    /** axe-core, screenshots at desktop and 390 px, then the problem check. */
    async checkPage(label) {
      await page.waitForLoadState('networkidle').catch(() => {});
      await waitImages(page);
      await axeCheck(page, `${label} (desktop)`);
      fs.mkdirSync(SHOTS_DIR, { recursive: true });
      await page.screenshot({ path: path.join(SHOTS_DIR, `${name}-${label}-desktop.png`), fullPage: true });
      await page.setViewportSize(PHONE);
      await page.waitForTimeout(400);
      await waitImages(page);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `${label}: the page scrolls sideways at 390 px (${overflow}px too wide)`);
      await axeCheck(page, `${label} (390 px)`);
      await page.screenshot({ path: path.join(SHOTS_DIR, `${name}-${label}-390.png`), fullPage: true });
      await page.setViewportSize(DESKTOP);
      await api.assertClean(label);
    },
  };
  return api;
}

/** Waits until every image that has started loading has finished (lazy ones off-screen are left alone). */
async function waitImages(page) {
  await page.waitForFunction(() => [...document.images].every((img) => img.complete || img.loading === 'lazy'), null, { timeout: 15000 }).catch(() => {});
}

async function axeCheck(page, label) {
  const has = await page.evaluate(() => typeof window.axe !== 'undefined');
  // Evaluated through the DevTools protocol, so the page's script-src 'self' does not block it
  // (an inline <script> would be), and the CSP under test stays unchanged.
  if (!has) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `axe on ${label}: ${JSON.stringify(bad, null, 2)}`);
}

// ---- test images -------------------------------------------------------------------------------

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
/** An RGB PNG with a gradient tinted by `seed`, so images differ. */
function makePng(w, h, seed = 0) {
  const rows = [];
  for (let y = 0; y < h; y++) {
    const r = Buffer.alloc(1 + w * 3);
    for (let x = 0; x < w; x++) {
      r[1 + x * 3] = (x * 3 + seed * 70) & 255;
      r[2 + x * 3] = (y * 4 + seed * 30) & 255;
      r[3 + x * 3] = ((x + y) * 2 + seed * 110) & 255;
    }
    rows.push(r);
  }
  const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

/** An RGB PNG of random pixels: it does not compress, so its size on the wire is about w*h*3 bytes. */
function makeNoisePng(w, h) {
  const rows = [];
  for (let y = 0; y < h; y++) rows.push(Buffer.concat([Buffer.from([0]), crypto.randomBytes(w * 3)]));
  const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(rows), { level: 1 })), chunk('IEND', Buffer.alloc(0))]);
}

/** Uploads from the test itself with a session cookie (the Origin header passes the CSRF check). */
async function apiUpload(base, cookie, { file = 'x.png', png = makePng(8, 8), ...fields }) {
  const form = new FormData();
  form.append('file', new Blob([png], { type: 'image/png' }), file);
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  const res = await fetch(`${base}/v1/upload`, { method: 'POST', headers: { cookie, origin: base }, body: form });
  assert.equal(res.status, 201, await res.clone().text());
  return res.json();
}

/** Width and height from a PNG, JPEG, WebP or GIF header; the format name too. */
function imageInfo(buf) {
  if (buf.length > 24 && buf.readUInt32BE(0) === 0x89504e47) return { format: 'png', width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
  if (buf.slice(0, 6).toString('latin1').startsWith('GIF8')) return { format: 'gif', width: buf.readUInt16LE(6), height: buf.readUInt16LE(8) };
  if (buf.slice(0, 4).toString('latin1') === 'RIFF' && buf.slice(8, 12).toString('latin1') === 'WEBP') {
    const kind = buf.slice(12, 16).toString('latin1');
    if (kind === 'VP8 ') return { format: 'webp', width: buf.readUInt16LE(26) & 0x3fff, height: buf.readUInt16LE(28) & 0x3fff };
    if (kind === 'VP8L') {
      const b = buf.readUInt32LE(21);
      return { format: 'webp', width: (b & 0x3fff) + 1, height: ((b >>> 14) & 0x3fff) + 1 };
    }
    if (kind === 'VP8X') return { format: 'webp', width: buf.readUIntLE(24, 3) + 1, height: buf.readUIntLE(27, 3) + 1 };
  }
  if (buf[0] === 0xff && buf[1] === 0xd8) {
    let i = 2;
    while (i < buf.length - 9) {
      if (buf[i] !== 0xff) { i += 1; continue; }
      const marker = buf[i + 1];
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { format: 'jpg', width: buf.readUInt16BE(i + 7), height: buf.readUInt16BE(i + 5) };
      }
      i += 2 + buf.readUInt16BE(i + 2);
    }
  }
  throw new Error(`unrecognised image (${buf.slice(0, 16).toString('hex')})`);
}

function todayUtc() { return new Date().toISOString().slice(0, 10); }

module.exports = {
  REPO_ROOT, ADMIN_EMAIL, ADMIN_PASSWORD, SHOTS_DIR, DESKTOP, PHONE,
  startServer, apiLogin, apiUpload, launch, openPage, makePng, makeNoisePng, imageInfo, todayUtc, findBinary, execFileSync,
};
