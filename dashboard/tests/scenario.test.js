'use strict';
// The end-to-end scenario, in one browser session against the real server: sign-in, keys,
// uploads, library, asset editing and deletion, playground, usage chart, revocation, users (roles,
// password resets, refusals, deletion), changing one's own password, and sign-out.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const h = require('./harness');

let server;
let browser;

before(async () => {
  server = await h.startServer();
  browser = await h.launch();
});
after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

const BOB = { email: 'bob@example.test', password: 'bob has a long password', next: 'bob chose a new password' };
const CAROL = { email: 'carol@example.test', password: 'carol has a password', reset: 'set by the admin for carol' };

test('the issue scenario, end to end', { timeout: 300000 }, async (t) => {
  const base = server.base;
  const P = await h.openPage(browser, base, 'scenario');
  const { page } = P;
  let keyId;
  let keySecret;

  await t.test('sign in: a wrong password is refused clearly, the right one opens the library', async () => {
    P.allow(401, '/v1/auth/me'); // the session probe before signing in
    await page.goto('/dashboard/');
    await page.waitForURL(/\/dashboard\/login/);
    await page.getByRole('heading', { name: 'Sign in to img-cloud' }).waitFor();
    await P.checkPage('login');
    P.allow(401, '/v1/auth/login');
    await page.getByLabel('Email').fill(h.ADMIN_EMAIL);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#login-error', { hasText: 'Wrong email or password' }).waitFor();
    await P.checkPage('login-wrong-password');
    P.disallowAll();
    await page.getByLabel('Password').fill(h.ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Media library', level: 1 }).waitFor();
    assert.match(page.url(), /\/dashboard\/$/);
    await P.checkPage('library-empty');
  });

  await t.test('API keys: create one, read key_id and secret from the page, upload with it', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    await page.getByLabel('Key name').fill('e2e laptop');
    await page.getByRole('button', { name: 'Create new key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Your new API key' });
    await dialog.waitFor();
    await dialog.getByText('shown only this once').waitFor();
    assert.equal(await dialog.getByRole('button', { name: 'Copy key ID' }).count(), 1);
    assert.equal(await dialog.getByRole('button', { name: 'Copy key secret' }).count(), 1);
    keyId = await page.locator('#new-key-id').inputValue();
    keySecret = await page.locator('#new-key-secret').inputValue();
    assert.match(keyId, /^ck_/);
    assert.match(keySecret, /^cs_/);
    await dialog.getByRole('button', { name: 'Copy key secret' }).click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), keySecret, 'the copy button copies the secret');
    await P.checkPage('keys-new-secret');
    await dialog.getByRole('button', { name: 'I have saved the secret' }).click();
    await dialog.waitFor({ state: 'detached' });
    const row = page.locator(`tr[data-key-id="${keyId}"]`);
    await row.getByText('Active').waitFor();
    assert.equal(await row.getByText('e2e laptop').count(), 1);
    assert.equal(await page.getByText(keySecret).count(), 0, 'the secret is not shown again in the list');

    const form = new FormData();
    form.append('file', new Blob([h.makePng(640, 480, 1)], { type: 'image/png' }), 'sunset.png');
    form.append('public_id', 'samples/sunset');
    form.append('folder', 'samples');
    form.append('tags', 'e2e,api');
    const res = await fetch(`${base}/v1/upload`, { method: 'POST', headers: { authorization: `ApiKey ${keyId}:${keySecret}` }, body: form });
    assert.equal(res.status, 201, await res.clone().text());
    assert.equal((await res.json()).public_id, 'samples/sunset');
    await page.reload();
    await page.locator(`tr[data-key-id="${keyId}"] time`).nth(1).waitFor(); // "last used" is now a time
    await P.checkPage('keys');
  });

  await t.test('upload three files through the page: one works, the SVG gets 415, the repeated public_id offers overwrite', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Library' }).click();
    await page.getByRole('heading', { name: 'Media library', level: 1 }).waitFor();
    await page.locator('li.tile[data-public-id="samples/sunset"]').waitFor();
    await page.locator('#upload-files').setInputFiles([
      { name: 'red-square.png', mimeType: 'image/png', buffer: h.makePng(400, 400, 2) },
      { name: 'logo.svg', mimeType: 'image/svg+xml', buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>') },
      { name: 'sunset-v2.png', mimeType: 'image/png', buffer: h.makePng(300, 200, 3) },
    ]);
    await page.getByLabel('Tags').first().fill('page, batch');
    await page.getByLabel('public_id for sunset-v2.png (optional)').fill('samples/sunset');
    P.allow(415, '/v1/upload');
    P.allow(409, '/v1/upload');
    const kinds = [];
    const onRequest = (r) => { if (r.url().endsWith('/v1/upload')) kinds.push(r.resourceType()); };
    page.on('request', onRequest);
    await page.getByRole('button', { name: 'Upload 3 files' }).click();
    const row = (name) => page.locator(`li.upload-item[data-file="${name}"]`);
    await row('red-square.png').and(page.locator('[data-state="done"]')).waitFor();
    await row('logo.svg').and(page.locator('[data-state="error"]')).waitFor();
    await row('sunset-v2.png').and(page.locator('[data-state="error"]')).waitFor();
    assert.match(await row('logo.svg').locator('.upload-status').innerText(), /^Unsupported file type \(the server said: SVG is not accepted\)\. Upload JPEG, PNG, WebP, AVIF, GIF, TIFF or BMP\.$/);
    assert.match(await row('sunset-v2.png').locator('.upload-status').innerText(), /already exists/);
    assert.equal(await row('red-square.png').locator('progress').evaluate((p) => p.value), 100);
    await P.checkPage('upload-errors');
    P.disallowAll();
    await row('sunset-v2.png').getByRole('button', { name: 'Overwrite samples/sunset with sunset-v2.png' }).click();
    await row('sunset-v2.png').and(page.locator('[data-state="done"]')).waitFor();
    assert.match(await row('sunset-v2.png').locator('.upload-status').innerText(), /Replaced: samples\/sunset/);
    const cookie = await h.apiLogin(base, h.ADMIN_EMAIL, h.ADMIN_PASSWORD);
    const a = await (await fetch(`${base}/v1/assets/samples/sunset`, { headers: { cookie } })).json();
    assert.equal(a.width, 300, 'the overwrite replaced the original');
    assert.equal(a.height, 200);
    page.off('request', onRequest);
    assert.deepEqual(kinds, ['xhr', 'xhr', 'xhr', 'xhr'], 'uploads go by XMLHttpRequest, for its upload progress');
    // The batch's tags joined the tag filter without a reload.
    const filters = page.getByRole('search', { name: 'Filter assets' });
    await filters.getByLabel('batch').waitFor();
  });

  await t.test('thumbnails appear, served by our transform URLs with a DPR srcset', async () => {
    const tiles = page.locator('#asset-grid li.tile');
    await page.waitForFunction(() => document.querySelectorAll('#asset-grid li.tile').length === 2);
    const n = await tiles.count();
    for (let i = 0; i < n; i++) {
      const img = tiles.nth(i).locator('img');
      await img.scrollIntoViewIfNeeded();
      await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle(), { timeout: 15000 });
      const src = await img.getAttribute('src');
      const srcset = await img.getAttribute('srcset');
      assert.match(src, /^\/v1\/image\/w_200,h_200,c_thumb,f_auto\//);
      assert.match(srcset, /dpr_2\S* 2x/);
      assert.equal(await img.getAttribute('loading'), 'lazy');
    }
    await P.checkPage('library');
  });

  let shownUrl;
  await t.test('asset page: edit tags, flip to private, the preview still shows', async () => {
    await page.locator('li.tile[data-public-id^="red-square-"] a').click();
    await page.getByRole('heading', { name: /^red-square-[0-9a-f]{12}$/, level: 1 }).waitFor();
    const meta = page.locator('#asset-meta');
    assert.equal(await meta.locator('[data-field="dimensions"]').innerText(), '400 × 400 px');
    assert.equal(await meta.locator('[data-field="format"]').innerText(), 'PNG');
    assert.equal(await meta.locator('[data-field="folder"]').innerText(), '(root)');
    await page.getByLabel('Tags', { exact: true }).fill('red, edited');
    await page.getByLabel('Folder', { exact: true }).fill('colours/red');
    await page.getByLabel('Visibility', { exact: true }).selectOption('private');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await meta.locator('[data-field="visibility"]', { hasText: 'Private' }).waitFor();
    assert.match(await meta.locator('[data-field="tags"]').innerText(), /^red\s*edited$/);
    assert.equal(await meta.locator('[data-field="folder"]').innerText(), 'colours/red');
    const cookie = await h.apiLogin(base, h.ADMIN_EMAIL, h.ADMIN_PASSWORD);
    const id = await page.getByRole('heading', { level: 1 }).innerText();
    const stored = await (await fetch(`${base}/v1/assets/${id}`, { headers: { cookie } })).json();
    assert.equal(stored.folder, 'colours/red');
    assert.deepEqual(stored.tags, ['red', 'edited']);
    const preview = page.locator('#asset-preview img');
    await page.waitForFunction((el) => el.complete && el.naturalWidth > 0 && el.src.includes('vis=private'), await preview.elementHandle(), { timeout: 15000 });
    const src = await preview.getAttribute('src');
    // The preview is served through the owner's session; anonymous requests are refused.
    const viaSession = await page.evaluate(async (u) => (await fetch(u, { cache: 'no-store' })).status, src);
    assert.equal(viaSession, 200);
    assert.equal((await fetch(base + src)).status, 401);
    await P.checkPage('asset-private');
  });

  await t.test('playground: the signed URL, fetched by the test, returns the shown format and size', async () => {
    await page.getByLabel('Width (w)').fill('120');
    await page.getByLabel('Format (f)').selectOption('png');
    await page.getByLabel('Signed URL lifetime').selectOption('300');
    await page.waitForFunction(() => {
      const r = document.getElementById('pg-result');
      return r && r.dataset.width && r.dataset.url && r.dataset.url.includes('w_120,f_png');
    }, null, { timeout: 20000 });
    const shown = await page.locator('#pg-result').evaluate((r) => ({ ...r.dataset }));
    shownUrl = await page.getByLabel('Signed delivery URL').inputValue();
    assert.equal(shownUrl, shown.url);
    assert.match(shownUrl, /\/v1\/image\/w_120,f_png\/red-square-[0-9a-f]{12}\?expires=\d+&sig=/);
    const caption = await page.locator('#pg-result figcaption').innerText();
    assert.match(caption, /image\/png/);
    assert.match(caption, /120 × 120 px/);
    const res = await fetch(shownUrl); // no cookie: the signature alone grants access
    assert.equal(res.status, 200);
    const buf = Buffer.from(await res.arrayBuffer());
    assert.equal(res.headers.get('content-type').split(';')[0], shown.contentType);
    assert.equal(String(buf.length), shown.bytes);
    const info = h.imageInfo(buf);
    assert.equal(info.format, 'png');
    assert.equal(String(info.width), shown.width);
    assert.equal(String(info.height), shown.height);
    assert.equal(info.width, 120);
    // An invalid combination shows the API's own 400 message.
    P.allow(400, '/v1/image/sign');
    P.allow(400, '/v1/image/');
    await page.getByLabel('Width (w)').fill('4000');
    await page.getByLabel('Height (h)').fill('4000');
    await page.getByLabel('Pixel ratio (dpr)').selectOption('2');
    await page.locator('#pg-result .error-box').waitFor({ timeout: 20000 });
    assert.match(await page.locator('#pg-result .error-box').innerText(), /4000|16/);
    P.disallowAll();
    await page.getByLabel('Pixel ratio (dpr)').selectOption('');
    await page.getByLabel('Height (h)').fill('');
    await page.getByLabel('Width (w)').fill('120');
    await page.waitForFunction(() => document.getElementById('pg-result').dataset.width === '120', null, { timeout: 20000 });

    // The other controls: each lands in the URL, and the result fetched by the page and by the test shows it.
    const resultFor = async (transform) => {
      await page.waitForFunction((t) => {
        const r = document.getElementById('pg-result');
        return r.dataset.width && r.dataset.url && r.dataset.url.includes(`/v1/image/${t}/`);
      }, transform, { timeout: 20000 });
      const shownNow = await page.locator('#pg-result').evaluate((r) => ({ ...r.dataset }));
      assert.equal(await page.getByLabel('Signed delivery URL').inputValue(), shownNow.url);
      const got = await fetch(shownNow.url);
      assert.equal(got.status, 200);
      const bytes = Buffer.from(await got.arrayBuffer());
      assert.equal(got.headers.get('content-type').split(';')[0], shownNow.contentType);
      assert.equal(String(bytes.length), shownNow.bytes);
      const info = h.imageInfo(bytes);
      assert.deepEqual([String(info.width), String(info.height)], [shownNow.width, shownNow.height]);
      return { ...shownNow, format: info.format };
    };
    // Pixels of the result the page shows (drawn from its blob, so the canvas is not tainted).
    const pixelsAt = (points) => page.locator('#pg-result img').evaluate((img, pts) => {
      const canvas = document.createElement('canvas');
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const g = canvas.getContext('2d');
      g.drawImage(img, 0, 0);
      return pts.map(([x, y]) => [...g.getImageData(x, y, 1, 1).data]);
    }, points);
    // r and bg: a 45° turn fills the corners with the background colour.
    await page.getByLabel('Rotate degrees (r)').fill('45');
    await page.getByLabel('Background (bg)').check();
    await page.getByLabel('Background colour').fill('#ff0000');
    const turned = await resultFor('w_120,f_png,r_45,bg_ff0000');
    assert.equal(turned.format, 'png');
    const [corner] = await pixelsAt([[1, 1]]);
    assert.deepEqual(corner, [255, 0, 0, 255], 'the corner is the chosen background');
    // q, gr and bl: a greyscale, blurred JPEG whose size follows the quality.
    await page.getByLabel('Rotate degrees (r)').fill('');
    await page.getByLabel('Background (bg)').uncheck();
    await page.getByLabel('Format (f)').selectOption('jpg');
    await page.getByLabel('Quality (q)').fill('30');
    await page.getByLabel('Greyscale (gr)').check();
    await page.getByLabel('Blur sigma (bl)').fill('2');
    const low = await resultFor('w_120,q_30,f_jpg,gr_1,bl_2');
    assert.equal(low.format, 'jpg');
    assert.equal(low.contentType, 'image/jpeg');
    assert.match(await page.locator('#pg-result figcaption').innerText(), /image\/jpeg · 120 × 120 px/);
    for (const [r, g, b] of await pixelsAt([[10, 10], [60, 60], [110, 30]])) {
      assert.ok(Math.abs(r - g) <= 6 && Math.abs(g - b) <= 6, `greyscale pixel: ${r},${g},${b}`);
    }
    await page.getByLabel('Quality (q)').fill('95');
    const high = await resultFor('w_120,q_95,f_jpg,gr_1,bl_2');
    assert.ok(Number(high.bytes) > Number(low.bytes), `q_95 (${high.bytes} B) is larger than q_30 (${low.bytes} B)`);
    await P.checkPage('asset-playground');
  });

  await t.test('usage: the chart shows today\'s bandwidth', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Usage' }).click();
    await page.getByRole('heading', { name: 'Usage', level: 1 }).waitFor();
    const today = h.todayUtc();
    const bar = page.locator(`svg[data-metric="bandwidth_bytes"] g.bar[data-date="${today}"]`);
    await bar.waitFor();
    assert.ok(Number(await bar.getAttribute('data-value')) > 0, 'today\'s bandwidth bar is above zero');
    assert.match(await bar.getAttribute('aria-label'), new RegExp(`^${today} \\(today\\): [\\d.]+ (B|kB|MB)$`));
    assert.ok(Number(await page.locator(`svg[data-metric="requests"] g.bar[data-date="${today}"]`).getAttribute('data-value')) > 0);
    assert.equal(await page.locator('svg[data-metric="bandwidth_bytes"] g.bar').count(), 30);
    assert.notEqual(await page.locator('.today-value[data-metric="bandwidth_bytes"]').innerText(), '0 B');
    assert.match(await page.locator('[data-stat="asset_count"] .stat-value').innerText(), /^2$/);
    await page.locator('#all-usage table tfoot').waitFor();
    await P.checkPage('usage');
  });

  await t.test('deleting an asset asks first; then it is gone from the grid and the API answers 404', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Library' }).click();
    await page.locator('li.tile[data-public-id="samples/sunset"] a').click();
    await page.getByRole('heading', { name: 'samples/sunset', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Delete asset…' }).click();
    let dialog = page.getByRole('dialog', { name: 'Delete this asset?' });
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /"samples\/sunset" and every cached size of it will be deleted/);
    await P.checkPage('asset-delete-confirm');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    const cookie = await h.apiLogin(base, h.ADMIN_EMAIL, h.ADMIN_PASSWORD);
    assert.equal((await fetch(`${base}/v1/assets/samples/sunset`, { headers: { cookie } })).status, 200, 'Cancel keeps it');
    await page.getByRole('button', { name: 'Delete asset…' }).click();
    dialog = page.getByRole('dialog', { name: 'Delete this asset?' });
    await dialog.getByRole('button', { name: 'Delete asset' }).click();
    await page.getByRole('heading', { name: 'Media library', level: 1 }).waitFor();
    await page.waitForFunction(() => {
      const ids = [...document.querySelectorAll('#asset-grid li.tile')].map((li) => li.dataset.publicId);
      return ids.length === 1 && ids[0].startsWith('red-square-');
    });
    assert.equal(await page.locator('li.tile[data-public-id="samples/sunset"]').count(), 0);
    assert.equal((await fetch(`${base}/v1/assets/samples/sunset`, { headers: { cookie } })).status, 404);
    assert.equal((await fetch(`${base}/v1/image/samples/sunset`)).status, 404);
  });

  await t.test('revoking the key (with confirmation) makes it answer 401', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    await page.getByRole('button', { name: `Revoke key e2e laptop (${keyId})` }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke this key?' });
    await dialog.waitFor();
    await P.checkPage('keys-revoke-confirm');
    await dialog.getByRole('button', { name: 'Revoke key' }).click();
    await page.locator(`tr[data-key-id="${keyId}"]`).getByText('Revoked').waitFor();
    const res = await fetch(`${base}/v1/assets`, { headers: { authorization: `ApiKey ${keyId}:${keySecret}` } });
    assert.equal(res.status, 401);
  });

  await t.test('users: create, the last admin stays, change a role, reset a password, refuse and then delete', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    const form = page.locator('form.grid-form');
    for (const u of [BOB, CAROL]) {
      await form.getByLabel('Email').fill(u.email);
      await form.getByLabel('Password').fill(u.password);
      await form.getByLabel('Role').selectOption('user');
      await form.getByRole('button', { name: 'Create user' }).click();
      await page.locator(`tr[data-email="${u.email}"]`).waitFor();
    }
    P.allow(409, '/v1/users/');
    P.allow(400, '/v1/users/');
    P.allow(403, '/v1/users/');
    await page.getByRole('button', { name: `Delete ${h.ADMIN_EMAIL}` }).click();
    await page.getByRole('dialog', { name: `Delete ${h.ADMIN_EMAIL}?` }).getByRole('button', { name: 'Delete user' }).click();
    const refusal = page.getByRole('dialog', { name: 'The user was not deleted' });
    await refusal.waitFor();
    assert.match(await refusal.locator('.error-box').innerText(), /admin/i);
    await P.checkPage('users-refusal');
    await refusal.getByRole('button', { name: 'OK' }).click();
    await refusal.waitFor({ state: 'detached' });
    P.disallowAll();

    const cookie = await h.apiLogin(base, h.ADMIN_EMAIL, h.ADMIN_PASSWORD);
    const roleOf = async (email) => (await (await fetch(`${base}/v1/users`, { headers: { cookie } })).json()).users.find((u) => u.email === email);
    await page.getByLabel(`Role of ${CAROL.email}`).selectOption('admin');
    await page.locator('.toast', { hasText: `${CAROL.email} is now an admin.` }).waitFor();
    assert.equal((await roleOf(CAROL.email)).role, 'admin');
    await page.getByLabel(`Role of ${CAROL.email}`).selectOption('user');
    await page.locator('.toast', { hasText: `${CAROL.email} is now a user.` }).waitFor();
    assert.equal((await roleOf(CAROL.email)).role, 'user');

    await page.getByRole('button', { name: `Reset password of ${CAROL.email}` }).click();
    const reset = page.getByRole('dialog', { name: `Reset password of ${CAROL.email}` });
    await reset.getByLabel('New password').fill(CAROL.reset);
    await P.checkPage('users-reset-password');
    await reset.getByRole('button', { name: 'Set password' }).click();
    await reset.waitFor({ state: 'detached' });
    await page.locator('.toast', { hasText: `Password of ${CAROL.email} changed.` }).waitFor();
    const old = await fetch(`${base}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: CAROL.email, password: CAROL.password }) });
    assert.equal(old.status, 401, 'the old password no longer works');
    const carol = await h.apiLogin(base, CAROL.email, CAROL.reset); // she signs in with the new one

    // Carol uploads; now she cannot be deleted, and the dialog says why and what to do.
    await h.apiUpload(base, carol, { public_id: 'carols/one', png: h.makePng(30, 20, 7) });
    const carolId = (await roleOf(CAROL.email)).id;
    P.allow(409, '/v1/users/');
    await page.getByRole('button', { name: `Delete ${CAROL.email}` }).click();
    await page.getByRole('dialog', { name: `Delete ${CAROL.email}?` }).getByRole('button', { name: 'Delete user' }).click();
    const owns = page.getByRole('dialog', { name: 'The user was not deleted' });
    await owns.waitFor();
    assert.equal(await owns.locator('.error-box').innerText(),
      `${CAROL.email} still owns 1 asset: delete it first (GET /v1/assets?owner=${carolId} lists it), then delete the user`);
    await P.checkPage('users-owns-assets');
    await owns.getByRole('button', { name: 'OK' }).click();
    await owns.waitFor({ state: 'detached' });
    P.disallowAll();
    assert.equal((await fetch(`${base}/v1/assets/carols/one`, { method: 'DELETE', headers: { cookie, origin: base } })).status, 204);
    await page.getByRole('button', { name: `Delete ${CAROL.email}` }).click();
    await page.getByRole('dialog', { name: `Delete ${CAROL.email}?` }).getByRole('button', { name: 'Delete user' }).click();
    await page.locator('.toast', { hasText: `Deleted ${CAROL.email}.` }).waitFor();
    await page.locator(`tr[data-email="${CAROL.email}"]`).waitFor({ state: 'detached' });
    const gone = await fetch(`${base}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: CAROL.email, password: CAROL.reset }) });
    assert.equal(gone.status, 401, 'a deleted user cannot sign in');
    await P.checkPage('users');
  });

  await t.test('sign out, then the new user sees only their own assets and no Users section', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to img-cloud' }).waitFor();
    await page.getByLabel('Email').fill(BOB.email);
    await page.getByLabel('Password').fill(BOB.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Media library', level: 1 }).waitFor();
    // Drag and drop: a real DataTransfer carrying a File, dropped on the zone.
    const png = h.makePng(120, 90, 4).toString('base64');
    await page.locator('#dropzone').evaluate((zone, b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'bobs-cat.png', { type: 'image/png' }));
      for (const type of ['dragenter', 'dragover', 'drop']) zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
    }, png);
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.locator('li.upload-item[data-file="bobs-cat.png"][data-state="done"]').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('#asset-grid li.tile').length === 1
      && document.querySelector('#asset-grid li.tile').dataset.publicId.startsWith('bobs-cat-'));
    await page.waitForTimeout(400);
    assert.equal(await page.locator('#asset-grid li.tile').count(), 1, 'bob sees only his own asset');
    const nav = page.getByRole('navigation', { name: 'Main' });
    assert.equal(await nav.getByRole('link', { name: 'Users' }).count(), 0);
    assert.equal(await nav.getByRole('link', { name: 'Library' }).count(), 1);
    await P.checkPage('library-user');
    await page.goto('/dashboard/users');
    await page.getByText('Only administrators can manage users.').waitFor();
    const cookie = await h.apiLogin(base, BOB.email, BOB.password);
    assert.equal((await fetch(`${base}/v1/users`, { headers: { cookie } })).status, 403, 'the API refuses him too');
    await page.goto('/dashboard/account');
    await page.getByRole('heading', { name: 'Account', level: 1 }).waitFor();
    await P.checkPage('account');
    // Change his own password, then sign in with the new one (the old one is refused).
    await page.getByLabel('Current password').fill(BOB.password);
    await page.getByLabel('New password', { exact: true }).fill(BOB.next);
    await page.getByLabel('New password again').fill(BOB.next);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.locator('.toast', { hasText: 'Password changed.' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to img-cloud' }).waitFor();
    P.allow(401, '/v1/auth/login');
    await page.getByLabel('Email').fill(BOB.email);
    await page.getByLabel('Password').fill(BOB.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#login-error', { hasText: 'Wrong email or password' }).waitFor();
    P.disallowAll();
    await page.getByLabel('Password').fill(BOB.next);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Media library', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to img-cloud' }).waitFor();
    P.allow(401, '/v1/auth/me');
    await page.goto('/dashboard/');
    await page.waitForURL(/\/dashboard\/login/);
    await P.assertClean('after sign-out');
  });
  await P.context.close();
});
