'use strict';
// Checks beyond the main scenario: redirects, deep-link reloads, the rate-limited sign-in message,
// the skip link, dialogs that trap focus and close on Escape, upload limits, and the library's
// filters, cursor paging, load errors and XHR upload progress.

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

    await t.test('the playground of a public_id starting with v<digits>/ shows that asset, not a version of another', async () => {
      // `shadow` (60x30) exists, so the server reads /v1/image/<t>/v1/shadow as version 1 of it; the
      // playground of `v1/shadow` (30x60) must name its own version to reach it.
      const cookie = await h.apiLogin(base, h.ADMIN_EMAIL, h.ADMIN_PASSWORD);
      for (const [id, w, hh] of [['shadow', 60, 30], ['v1/shadow', 30, 60]]) {
        const form = new FormData();
        form.append('file', new Blob([h.makePng(w, hh, 7)], { type: 'image/png' }), 'x.png');
        form.append('public_id', id);
        const up = await fetch(`${base}/v1/upload`, { method: 'POST', headers: { cookie, origin: base }, body: form });
        assert.equal(up.status, 201, await up.clone().text());
      }
      await page.goto('/dashboard/assets/v1/shadow');
      await page.getByRole('heading', { name: 'v1/shadow', level: 1 }).waitFor();
      await page.getByLabel('Width (w)').fill('20');
      await page.getByLabel('Format (f)').selectOption('png');
      await page.waitForFunction(() => {
        const r = document.getElementById('pg-result');
        return r && r.dataset.height && r.dataset.url && r.dataset.url.includes('w_20,f_png');
      }, null, { timeout: 20000 });
      const shown = await page.locator('#pg-result').evaluate((r) => ({ ...r.dataset }));
      assert.equal(shown.width, '20');
      assert.equal(shown.height, '40', 'the 30x60 asset, not the 60x30 one');
      const url = await page.getByLabel('Delivery URL').inputValue();
      assert.match(url, /\/v1\/image\/w_20,f_png\/v1\/v1\/shadow$/);
      const info = h.imageInfo(Buffer.from(await (await fetch(url)).arrayBuffer()));
      assert.deepEqual([info.width, info.height], [20, 40]);
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

/** Waits until the grid has finished loading and shows exactly `ids` (any order); says what it shows otherwise. */
async function tilesAre(page, ids, why) {
  const want = [...ids].sort();
  const shown = () => page.evaluate(() => {
    const status = document.querySelector('.grid-status');
    const tiles = [...document.querySelectorAll('#asset-grid li.tile')].map((li) => li.dataset.publicId).sort();
    return { loading: !status || status.textContent === 'Loading…', tiles };
  });
  await page.waitForFunction((w) => {
    const status = document.querySelector('.grid-status');
    if (!status || status.textContent === 'Loading…') return false;
    const got = [...document.querySelectorAll('#asset-grid li.tile')].map((li) => li.dataset.publicId).sort();
    return JSON.stringify(got) === JSON.stringify(w);
  }, want, { timeout: 15000 }).catch(async () => {
    assert.deepEqual((await shown()).tiles, want, why);
  });
}

test('library: a parent folder with sub-folders, tags, visibility, prefix search and cursor paging; uploads show XHR progress', { timeout: 150000 }, async (t) => {
  const server = await h.startServer();
  const { base } = server;
  try {
    const cookie = await h.apiLogin(base, h.ADMIN_EMAIL, h.ADMIN_PASSWORD);
    // `archive` and `archive/2023` hold no asset themselves; 41 in `bulk` make the list longer than one page (40).
    const named = [
      { public_id: 'archive/2023/jan/a', folder: 'archive/2023/jan', tags: 'cat' },
      { public_id: 'archive/2023/jan/b', folder: 'archive/2023/jan', tags: 'dog', visibility: 'private' },
      { public_id: 'archive/2024/c', folder: 'archive/2024', tags: 'cat' },
      { public_id: 'trips/beach-1', folder: 'trips', tags: 'sea' },
    ];
    const bulk = Array.from({ length: 41 }, (_, i) => ({ public_id: `bulk/n-${String(i).padStart(2, '0')}`, folder: 'bulk' }));
    for (const [i, a] of [...named, ...bulk].entries()) await h.apiUpload(base, cookie, { png: h.makePng(8, 8, i), ...a });
    const all = [...named, ...bulk].map((a) => a.public_id);

    const P = await h.openPage(browser, base, 'library');
    const { page } = P;
    await signIn(P);
    const listed = [];
    page.on('request', (r) => { if (new URL(r.url()).pathname === '/v1/assets') listed.push(new URL(r.url()).searchParams); });
    const filters = page.getByRole('search', { name: 'Filter assets' });
    const folder = filters.getByLabel('Folder', { exact: true });
    const sub = filters.getByLabel('Include sub-folders');

    await t.test('paging by cursor: "Load more" and scrolling each fetch the next page', async () => {
      await page.waitForFunction(() => document.querySelectorAll('#asset-grid li.tile').length === 40);
      const more = page.getByRole('button', { name: 'Load more' });
      await more.waitFor();
      assert.match(await page.locator('.grid-status').innerText(), /^Showing 40 assets; more are available\.$/);
      // Pressed from the keyboard without scrolling, so the scroll trigger below cannot race it.
      await more.evaluate((b) => b.focus({ preventScroll: true }));
      await page.keyboard.press('Enter');
      await tilesAre(page, all, 'all 45 after "Load more"');
      assert.equal(await more.isHidden(), true, 'no more pages');
      const last = listed[listed.length - 1];
      assert.ok(last.get('cursor'), `the second page asks with the first page's cursor: ${last}`);
      assert.equal(last.get('limit'), '40');
      // Infinite scroll: the same next page arrives when the end of the grid comes into view.
      await filters.getByRole('button', { name: 'Apply' }).click();
      await page.waitForFunction(() => document.querySelectorAll('#asset-grid li.tile').length === 40);
      await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
      await tilesAre(page, all, 'all 45 after scrolling');
      await page.evaluate(() => window.scrollTo(0, 0));
    });

    await t.test('folder filter: a parent that holds only sub-folders can be picked, with and without sub-folders', async () => {
      const options = await folder.locator('option').evaluateAll((os) => os.map((o) => [o.value, o.textContent]));
      assert.deepEqual(options, [
        ['', 'All folders'], ['archive', 'archive (3)'], ['archive/2023', 'archive/2023 (2)'], ['archive/2023/jan', 'archive/2023/jan (2)'],
        ['archive/2024', 'archive/2024 (1)'], ['bulk', 'bulk (41)'], ['trips', 'trips (1)'],
      ]);
      await folder.selectOption('archive');
      await tilesAre(page, ['archive/2023/jan/a', 'archive/2023/jan/b', 'archive/2024/c'], 'archive with sub-folders');
      assert.equal(new URL(page.url()).searchParams.get('folder'), 'archive');
      assert.equal(listed[listed.length - 1].get('folder_prefix'), 'archive');
      await sub.uncheck();
      await tilesAre(page, [], 'archive alone holds nothing');
      assert.equal(await page.locator('.grid-status').innerText(), 'No assets match these filters.');
      assert.equal(new URL(page.url()).searchParams.get('sub'), '0');
      await sub.check();
      await tilesAre(page, ['archive/2023/jan/a', 'archive/2023/jan/b', 'archive/2024/c'], 'sub-folders again');
      // Tags narrow the folder further, and the whole view survives a reload from its address.
      await filters.getByLabel('cat').check();
      await tilesAre(page, ['archive/2023/jan/a', 'archive/2024/c'], 'archive and tag cat');
      assert.equal(new URL(page.url()).search, '?folder=archive&tags=cat');
      await page.reload();
      await tilesAre(page, ['archive/2023/jan/a', 'archive/2024/c'], 'the same after a reload');
      assert.equal(await folder.inputValue(), 'archive');
      assert.equal(await filters.getByLabel('cat').isChecked(), true);
      await P.checkPage('library-filtered');
    });

    await t.test('visibility and public_id prefix filters', async () => {
      await filters.getByRole('button', { name: 'Reset' }).click();
      await page.waitForFunction(() => document.querySelectorAll('#asset-grid li.tile').length === 40);
      await filters.getByLabel('Visibility').selectOption('private');
      await tilesAre(page, ['archive/2023/jan/b'], 'private only');
      await filters.getByLabel('Visibility').selectOption('public');
      await page.waitForFunction(() => document.querySelectorAll('#asset-grid li.tile').length === 40);
      assert.equal(await page.locator('li.tile[data-public-id="archive/2023/jan/b"]').count(), 0);
      await filters.getByLabel('Visibility').selectOption('');
      await filters.getByLabel('Search by public_id prefix').fill('trips/b');
      await tilesAre(page, ['trips/beach-1'], 'prefix trips/b');
      assert.equal(listed[listed.length - 1].get('prefix'), 'trips/b');
      await filters.getByLabel('Search by public_id prefix').fill('archive/2023/');
      await tilesAre(page, ['archive/2023/jan/a', 'archive/2023/jan/b'], 'prefix archive/2023/');
    });

    await t.test('a failing list shows one error box however often it fails, and Try again recovers', async () => {
      P.allow(500, '/v1/assets');
      await page.route((url) => url.pathname === '/v1/assets', (route) => route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ error: 'the catalog is unavailable' }) }));
      for (const v of ['public', 'private', '']) {
        await filters.getByLabel('Visibility').selectOption(v);
        await page.locator('.results .error-box', { hasText: 'the catalog is unavailable' }).waitFor();
      }
      await filters.getByRole('button', { name: 'Apply' }).click();
      await page.locator('.results .error-box').waitFor();
      assert.equal(await page.locator('.results .error-box').count(), 1, 'the boxes do not stack');
      await page.unrouteAll();
      P.disallowAll();
      await page.getByRole('button', { name: 'Try again' }).click();
      await tilesAre(page, ['archive/2023/jan/a', 'archive/2023/jan/b'], 'after Try again');
      assert.equal(await page.locator('.results .error-box').count(), 0);
    });

    await t.test('an upload is an XHR whose progress bar moves through values between 0 and 100; new folders and tags join the pickers', async () => {
      await filters.getByRole('button', { name: 'Reset' }).click();
      await page.waitForFunction(() => document.querySelectorAll('#asset-grid li.tile').length === 40);
      // Every value the page gives a progress bar (the property reflects to the attribute).
      await page.evaluate(() => {
        window.__progress = [];
        new MutationObserver((ms) => { for (const m of ms) if (m.target.tagName === 'PROGRESS') window.__progress.push(Number(m.target.getAttribute('value'))); })
          .observe(document.body, { subtree: true, attributes: true, attributeFilter: ['value'] });
      });
      const uploads = [];
      page.on('request', (r) => { if (r.url().endsWith('/v1/upload')) uploads.push(r.resourceType()); });
      // About 1.1 MB sent at 256 kB/s: the upload lasts seconds, and Chromium reports its progress as it goes.
      const cdp = await P.context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 256 * 1024 });
      await page.locator('#upload-files').setInputFiles([{ name: 'noise.png', mimeType: 'image/png', buffer: h.makeNoisePng(600, 600) }]);
      const panel = page.getByRole('region', { name: 'Upload', exact: true });
      await panel.getByLabel('Folder').fill('fresh/drop');
      await panel.getByLabel('Tags').fill('newtag');
      await page.getByRole('button', { name: 'Upload', exact: true }).click();
      await page.locator('li.upload-item[data-file="noise.png"][data-state="done"]').waitFor({ timeout: 60000 });
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      await cdp.detach();
      assert.deepEqual(uploads, ['xhr'], 'the upload is an XMLHttpRequest (fetch has no upload progress)');
      const seen = await page.evaluate(() => window.__progress);
      const between = seen.filter((v) => v > 0 && v < 100);
      assert.ok(between.length >= 1, `a value between 0 and 100 was shown: ${JSON.stringify(seen)}`);
      assert.deepEqual(between, [...between].sort((a, b) => a - b), 'progress only grows');
      assert.equal(seen[seen.length - 1], 100);
      // The pickers learn the new folder (with its parent) and tag without a page reload.
      await filters.locator('#filter-folder option[value="fresh/drop"]').waitFor({ state: 'attached' });
      assert.equal(await filters.locator('#filter-folder option[value="fresh"]').textContent(), 'fresh (1)');
      await filters.getByLabel('newtag').check();
      await tilesAre(page, [(await page.locator('li.upload-item[data-file="noise.png"] .upload-status a').innerText())], 'the new tag');
      assert.match(await page.locator('#asset-grid li.tile').first().getAttribute('data-public-id'), /^fresh\/drop\/noise-[0-9a-f]{12}$/);
      await P.assertClean('library');
    });
    await P.context.close();
  } finally {
    await server.stop();
  }
});

test('webhooks: a disabled endpoint shows why, and can be turned back on', { timeout: 60000 }, async () => {
  const server = await h.startServer({
    IMGCLOUD_WEBHOOKS__ALLOW_PRIVATE_TARGETS: 'true',
    IMGCLOUD_WEBHOOKS__DISABLE_AFTER_FAILURES: '1',
    IMGCLOUD_WEBHOOKS__DISABLE_AFTER_SECS: '0',
  });
  const { base } = server;
  try {
    const cookie = await h.apiLogin(base, h.ADMIN_EMAIL, h.ADMIN_PASSWORD);
    const headers = { cookie, origin: base, 'content-type': 'application/json' };
    // Port 9 (discard) has no listener here: every delivery is refused.
    const res = await fetch(`${base}/v1/webhooks`, { method: 'POST', headers, body: JSON.stringify({ url: 'http://127.0.0.1:9/dead' }) });
    assert.equal(res.status, 201, await res.clone().text());
    await h.apiUpload(base, cookie, { public_id: 'hooked' });
    let hook;
    for (let i = 0; i < 100; i += 1) {
      ({ webhooks: [hook] } = await (await fetch(`${base}/v1/webhooks`, { headers: { cookie } })).json());
      if (!hook.enabled) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(hook.enabled, false);

    const P = await h.openPage(browser, base, 'webhooks');
    await signIn(P);
    await P.page.getByRole('link', { name: 'Webhooks' }).click();
    await P.page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    const row = P.page.locator(`tr[data-webhook-id="${hook.id}"]`);
    await row.getByText('Disabled').waitFor();
    assert.equal((await row.locator('.disabled-reason').textContent()).trim(), hook.disabled_reason);
    assert.match(hook.disabled_reason, /consecutive deliveries failed/);
    await P.checkPage('webhooks-disabled');
    await row.getByRole('button', { name: /Re-enable/ }).click();
    await row.getByText('Active').waitFor();
    await P.context.close();
  } finally {
    await server.stop();
  }
});
