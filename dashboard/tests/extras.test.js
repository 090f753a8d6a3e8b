'use strict';
// Serving and keyboard checks beyond the main scenario: redirects, deep-link reloads, the
// rate-limited sign-in message, the skip link, and dialogs that trap focus and close on Escape.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

let browser;
before(async () => { browser = await h.launch(); });
after(async () => { if (browser) await browser.close(); });

async function signIn(P) {
  P.allow(401, '/v1/auth/me');
  await P.page.goto('/dashboard/login');
  await P.page.getByLabel('Email').fill(h.ADMIN_EMAIL);
  await P.page.getByLabel('Password').fill(h.ADMIN_PASSWORD);
  await P.page.getByRole('button', { name: 'Sign in' }).click();
  await P.page.getByRole('heading', { name: 'Media library', level: 1 }).waitFor();
  P.disallowAll();
}

test('serving, deep links and keyboard use', { timeout: 90000 }, async (t) => {
  const server = await h.startServer();
  const { base } = server;
  try {
    await t.test('/ and /dashboard redirect to /dashboard/; app routes serve the app, with the strict CSP', async () => {
      const root = await fetch(`${base}/`, { redirect: 'manual' });
      assert.equal(root.status, 302);
      assert.equal(new URL(root.headers.get('location'), base).pathname, '/dashboard/');
      const bare = await fetch(`${base}/dashboard`, { redirect: 'manual' });
      assert.equal(bare.status, 308);
      assert.equal(new URL(bare.headers.get('location'), base).pathname, '/dashboard/');
      for (const p of ['/dashboard/', '/dashboard/keys', '/dashboard/assets/some/deep/id']) {
        const res = await fetch(base + p);
        assert.equal(res.status, 200, p);
        assert.match(res.headers.get('content-type'), /text\/html/);
        assert.match(res.headers.get('content-security-policy'), /script-src 'self'/);
        const html = await res.text();
        assert.match(html, /<script type="module" src="\/dashboard\/app.js"><\/script>/);
        assert.doesNotMatch(html, /<script>|\son[a-z]+=/i, 'no inline script or handlers');
      }
      const js = await fetch(`${base}/dashboard/app.js`);
      assert.equal(js.status, 200);
      assert.match(js.headers.get('content-type'), /^text\/javascript/);
    });

    const P = await h.openPage(browser, base, 'extras');
    const { page } = P;

    await t.test('a deep link survives a reload', async () => {
      await signIn(P);
      await page.goto('/dashboard/keys');
      await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
      await page.reload();
      await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
      const link = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys' });
      assert.equal(await link.getAttribute('aria-current'), 'page');
      // An asset whose public_id ends like a file name also reloads into the app.
      const cookie = await h.apiLogin(base, h.ADMIN_EMAIL, h.ADMIN_PASSWORD);
      const form = new FormData();
      form.append('file', new Blob([h.makePng(50, 40, 5)], { type: 'image/png' }), 'x.png');
      form.append('public_id', 'brand/logo.v2.png');
      const up = await fetch(`${base}/v1/upload`, { method: 'POST', headers: { cookie, origin: base }, body: form });
      assert.equal(up.status, 201, await up.clone().text());
      await page.goto('/dashboard/');
      await page.locator('li.tile[data-public-id="brand/logo.v2.png"] a').click();
      await page.getByRole('heading', { name: 'brand/logo.v2.png', level: 1 }).waitFor();
      await page.reload();
      await page.getByRole('heading', { name: 'brand/logo.v2.png', level: 1 }).waitFor();
      assert.equal(await page.locator('#asset-meta [data-field="dimensions"]').innerText(), '50 × 40 px');
      P.allow(404, '/v1/assets/');
      await page.goto('/dashboard/assets/no/such/asset');
      await page.getByText('This asset does not exist').waitFor();
      await P.checkPage('asset-missing');
      P.disallowAll();
      await page.goto('/dashboard/nowhere');
      await page.getByRole('heading', { name: 'Page not found' }).waitFor();
      await P.checkPage('not-found');
    });

    await t.test('keyboard: skip link, then a dialog traps focus, closes on Escape and gives focus back', async () => {
      await page.goto('/dashboard/keys');
      await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');
      await page.keyboard.press('Enter');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
      // Create a key with the keyboard only.
      await page.getByLabel('Key name').focus();
      await page.keyboard.type('keyboard key');
      await page.keyboard.press('Enter');
      const secret = page.getByRole('dialog', { name: 'Your new API key' });
      await secret.waitFor();
      const inDialog = () => page.evaluate(() => Boolean(document.activeElement && document.activeElement.closest('[role="dialog"]')));
      assert.ok(await inDialog(), 'focus moves into the dialog');
      for (let i = 0; i < 8; i++) { await page.keyboard.press('Tab'); assert.ok(await inDialog(), `Tab ${i + 1} stays in the dialog`); }
      for (let i = 0; i < 8; i++) { await page.keyboard.press('Shift+Tab'); assert.ok(await inDialog(), `Shift+Tab ${i + 1} stays in the dialog`); }
      await page.keyboard.press('Escape');
      await secret.waitFor({ state: 'detached' });
      assert.equal(await page.evaluate(() => document.activeElement.getAttribute('name')), 'name', 'focus is back on the form');
      // The revoke confirmation: Escape cancels (the key stays active) and focus returns to its button.
      const revoke = page.getByRole('button', { name: /^Revoke key keyboard key/ });
      await revoke.focus();
      await page.keyboard.press('Enter');
      const confirm = page.getByRole('dialog', { name: 'Revoke this key?' });
      await confirm.waitFor();
      assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Cancel', 'the safe choice has focus');
      for (let i = 0; i < 5; i++) { await page.keyboard.press('Tab'); assert.ok(await inDialog()); }
      await page.keyboard.press('Escape');
      await confirm.waitFor({ state: 'detached' });
      assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), await revoke.getAttribute('aria-label'));
      assert.equal(await page.locator('tr', { hasText: 'keyboard key' }).getByText('Active').count(), 1);
      // The focus ring is visible on a focused control.
      const outline = await revoke.evaluate((el) => { el.focus(); const s = getComputedStyle(el); return `${s.outlineStyle} ${s.outlineWidth}`; });
      assert.match(outline, /^solid [1-9]/);
      await P.assertClean('keyboard');
    });
    await P.context.close();
  } finally {
    await server.stop();
  }
});

test('a rate-limited sign-in says how many seconds to wait', { timeout: 60000 }, async () => {
  const server = await h.startServer({ IMGCLOUD_RATE_LIMIT__LOGIN_PER_IP_PER_MINUTE: '2' });
  try {
    const P = await h.openPage(browser, server.base, 'ratelimit');
    const { page } = P;
    P.allow(401, '/v1/auth/me');
    P.allow(401, '/v1/auth/login');
    P.allow(429, '/v1/auth/login');
    await page.goto('/dashboard/login');
    await page.getByLabel('Email').fill(h.ADMIN_EMAIL);
    const err = page.locator('#login-error');
    for (let i = 0; i < 2; i++) {
      await page.getByLabel('Password').fill(`wrong ${i}`);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await err.getByText('Wrong email or password').waitFor();
      await page.evaluate(() => { document.getElementById('login-error').textContent = ''; });
    }
    await page.getByLabel('Password').fill(h.ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await err.getByText(/Too many sign-in attempts\. Wait \d+ seconds?/).waitFor();
    const secs = Number(await err.getAttribute('data-retry-after'));
    assert.ok(secs >= 1 && secs <= 60, `seconds to wait: ${secs}`);
    assert.ok(await page.getByRole('button', { name: 'Sign in' }).isDisabled(), 'the button waits too');
    await P.checkPage('login-rate-limited');
    await P.context.close();
  } finally {
    await server.stop();
  }
});

test('upload errors per file: 413 over the size cap, 429 with the seconds to wait', { timeout: 60000 }, async () => {
  const server = await h.startServer({ IMGCLOUD_UPLOAD__MAX_BYTES: '30000', IMGCLOUD_RATE_LIMIT__UPLOAD_PER_IP_PER_MINUTE: '2' });
  try {
    const P = await h.openPage(browser, server.base, 'upload-limits');
    const { page } = P;
    await signIn(P);
    const row = (name) => page.locator(`li.upload-item[data-file="${name}"]`);
    P.allow(413, '/v1/upload');
    P.allow(429, '/v1/upload');
    await page.locator('#upload-files').setInputFiles([{ name: 'huge.png', mimeType: 'image/png', buffer: h.makePng(300, 300, 6) }]);
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await row('huge.png').and(page.locator('[data-state="error"]')).waitFor();
    assert.match(await row('huge.png').locator('.upload-status').innerText(), /^Too large \(\d+(\.\d)? kB\): upload exceeds the size cap of 30000 bytes/);
    await page.locator('#upload-files').setInputFiles([
      { name: 'one.png', mimeType: 'image/png', buffer: h.makePng(20, 20, 1) },
      { name: 'two.png', mimeType: 'image/png', buffer: h.makePng(20, 20, 2) },
    ]);
    await page.getByRole('button', { name: 'Upload 2 files' }).click();
    await page.waitForFunction(() => [...document.querySelectorAll('li.upload-item')].every((li) => li.dataset.state === 'done' || li.dataset.state === 'error'));
    const states = await page.locator('li.upload-item').evaluateAll((lis) => lis.map((li) => [li.dataset.file, li.dataset.state, li.querySelector('.upload-status').innerText]));
    const limited = states.filter(([, , text]) => /^Rate-limited: too many uploads\. Try again in \d+ seconds?\./.test(text));
    assert.equal(limited.length, 1, JSON.stringify(states));
    assert.equal(states.filter(([, state]) => state === 'done').length, 1, JSON.stringify(states));
    await P.checkPage('upload-413-429');
    await P.context.close();
  } finally {
    await server.stop();
  }
});
