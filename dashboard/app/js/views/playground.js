// The transform playground: controls for every transform key, the delivery URL (signed for private assets) and the live result with its bytes and format.

import { api, deliveryPath, errorFrom, urlNeedsVersion } from '../api.js';
import { h, field, copyButton, errorBox, describeError, formatBytes, uid } from '../ui.js';

const CROPS = ['fit', 'fill', 'cover', 'contain', 'inside', 'outside', 'thumb'];
const FORMATS = ['auto', 'jpg', 'png', 'webp', 'avif', 'gif'];
const TTLS = [[300, '5 minutes'], [3600, '1 hour'], [86400, '1 day'], [604800, '7 days (longest)']];

/** Numbers as the grammar wants them: plain decimal, no trailing zeros, at most 2 decimals. */
function num(v, decimals = 0) {
  const n = Number(v);
  if (v === '' || !Number.isFinite(n)) return null;
  const s = decimals ? String(Math.round(n * 10 ** decimals) / 10 ** decimals) : String(Math.trunc(n));
  return s === '-0' ? '0' : s;
}

/** Returns { node, cleanup } for `asset`. */
export function playground(asset) {
  const isPrivate = asset.visibility === 'private';
  const base = asset.url.includes('/v1/image/') ? asset.url.slice(0, asset.url.indexOf('/v1/image/')) : location.origin;
  const c = {
    w: h('input', { type: 'number', min: '1', max: '4000', step: '1', value: String(Math.min(asset.width || 400, 400)), inputmode: 'numeric' }),
    h: h('input', { type: 'number', min: '1', max: '4000', step: '1', value: '', inputmode: 'numeric' }),
    c: h('select', {}, h('option', { value: '' }, '(default: fit)'), CROPS.map((m) => h('option', { value: m }, m))),
    f: h('select', {}, h('option', { value: '' }, '(source format)'), FORMATS.map((m) => h('option', { value: m, selected: m === 'webp' }, m))),
    q: h('input', { type: 'number', min: '1', max: '100', step: '1', value: '', placeholder: 'default', inputmode: 'numeric' }),
    dpr: h('select', {}, h('option', { value: '' }, '1 (default)'), ['1.5', '2', '2.5', '3'].map((d) => h('option', { value: d }, d))),
    gr: h('input', { type: 'checkbox' }),
    bl: h('input', { type: 'number', min: '0.3', max: '25', step: '0.1', value: '', placeholder: 'none', inputmode: 'decimal' }),
    r: h('input', { type: 'number', min: '-360', max: '360', step: '1', value: '', placeholder: '0', inputmode: 'numeric' }),
    bgOn: h('input', { type: 'checkbox' }),
    bg: h('input', { type: 'color', value: '#ffffff' }),
  };
  const ttl = h('select', {}, TTLS.map(([s, label]) => h('option', { value: String(s), selected: s === 3600 }, label)));
  for (const [k, el] of Object.entries(c)) el.name = `pg-${k}`;

  const urlOut = h('input', { type: 'text', readonly: true, class: 'mono', id: uid('pg-url'), spellcheck: 'false' });
  urlOut.addEventListener('focus', () => urlOut.select());
  const transformOut = h('code', { class: 'pg-transform' });
  const openLink = h('a', { href: '#', target: '_blank', rel: 'noopener', class: 'btn btn-small' }, 'Open');
  const result = h('figure', { class: 'pg-result', id: 'pg-result', 'aria-live': 'polite', 'aria-busy': 'false' });
  const expiresNote = h('p', { class: 'hint' });

  let timer = null;
  let controller = null;
  let objectUrl = null;
  let seq = 0;

  function transform() {
    const parts = [];
    const add = (k, v) => { if (v !== null && v !== '' && v !== undefined) parts.push(`${k}_${v}`); };
    add('w', num(c.w.value));
    add('h', num(c.h.value));
    add('c', c.c.value);
    add('q', num(c.q.value));
    add('f', c.f.value);
    add('dpr', c.dpr.value);
    if (c.gr.checked) parts.push('gr_1');
    add('bl', num(c.bl.value, 2));
    add('r', num(c.r.value));
    if (c.bgOn.checked) add('bg', c.bg.value.replace('#', '').toLowerCase());
    return parts.join(',');
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(update, 350);
  }

  async function update() {
    const my = ++seq;
    if (controller) controller.abort();
    controller = new AbortController();
    const t = transform();
    transformOut.textContent = t || '(no transform: the original, metadata stripped)';
    result.setAttribute('aria-busy', 'true');
    let url;
    let fetchPath;
    try {
      if (isPrivate) {
        const signed = await api('POST', '/v1/image/sign', { body: { public_id: asset.public_id, transform: t, ttl_seconds: Number(ttl.value) }, signal: controller.signal });
        if (my !== seq) return;
        url = signed.url;
        const u = new URL(signed.url, location.origin);
        // Fetched by path from this origin: the configured public URL may be a proxy the page's CSP does not allow.
        fetchPath = u.pathname + u.search;
        expiresNote.textContent = `Signed URL, valid until ${new Date(signed.expires_at).toLocaleString()}.`;
      } else {
        // The docs' unversioned form, except for a public_id that starts with `v<digits>/`: the server
        // may read that segment as a version of another asset, so its URL names the version.
        fetchPath = deliveryPath(asset.public_id, t, urlNeedsVersion(asset.public_id) ? asset.version : null);
        url = base + fetchPath;
        expiresNote.textContent = '';
      }
    } catch (e) {
      if (e.name === 'AbortError' || my !== seq) return;
      showError(describeError(e, 'Signing the URL'));
      return;
    }
    urlOut.value = url;
    openLink.href = url;
    try {
      const res = await fetch(fetchPath, { credentials: 'same-origin', signal: controller.signal });
      if (!res.ok) {
        const err = errorFrom(res.status, await res.text(), res.headers.get('retry-after'));
        if (my === seq) showError(describeError(err, 'Rendering'));
        return;
      }
      const type = (res.headers.get('content-type') || '').split(';')[0];
      const blob = await res.blob();
      if (my !== seq) return;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
      objectUrl = URL.createObjectURL(blob);
      const img = h('img', { src: objectUrl, alt: `Result of ${t || 'no transform'} on ${asset.public_id}` });
      const caption = h('figcaption', {}, 'Loading…');
      img.addEventListener('load', () => {
        result.dataset.width = String(img.naturalWidth);
        result.dataset.height = String(img.naturalHeight);
        caption.replaceChildren(
          h('span', { class: 'pg-fact', dataset: { fact: 'type' } }, type || 'unknown type'), ' · ',
          h('span', { class: 'pg-fact', dataset: { fact: 'dims' } }, `${img.naturalWidth} × ${img.naturalHeight} px`), ' · ',
          h('span', { class: 'pg-fact', dataset: { fact: 'bytes' } }, `${formatBytes(blob.size)} (${blob.size.toLocaleString()} bytes)`));
      });
      img.addEventListener('error', () => { caption.textContent = `${type}, ${blob.size} bytes: this browser cannot display the format.`; });
      result.dataset.contentType = type;
      result.dataset.bytes = String(blob.size);
      result.dataset.url = url;
      delete result.dataset.width;
      delete result.dataset.height;
      result.replaceChildren(h('div', { class: 'pg-img' }, img), caption);
    } catch (e) {
      if (e.name === 'AbortError' || my !== seq) return;
      showError('The image could not be fetched: the server could not be reached.');
    } finally {
      if (my === seq) result.setAttribute('aria-busy', 'false');
    }
  }

  function showError(message) {
    result.setAttribute('aria-busy', 'false');
    for (const k of ['contentType', 'bytes', 'width', 'height', 'url']) delete result.dataset[k];
    result.replaceChildren(errorBox(message));
  }

  for (const el of [...Object.values(c), ttl]) {
    el.addEventListener('input', schedule);
    el.addEventListener('change', schedule);
  }

  const ctl = (label, el, hint) => field(label, el, hint).wrap;
  const check = (label, el) => { el.id = uid('pg'); return h('div', { class: 'field check-field' }, h('label', { for: el.id, class: 'check' }, el, ` ${label}`)); };
  const node = h('section', { class: 'card playground', 'aria-labelledby': 'pg-h' },
    h('h2', { id: 'pg-h' }, 'Transform playground'),
    h('div', { class: 'pg-layout' },
      h('form', { class: 'pg-controls', 'aria-label': 'Transform options', onsubmit: (e) => { e.preventDefault(); update(); } },
        ctl('Width (w)', c.w, '1–4000 px'),
        ctl('Height (h)', c.h, '1–4000 px'),
        ctl('Crop mode (c)', c.c),
        ctl('Format (f)', c.f),
        ctl('Quality (q)', c.q, '1–100'),
        ctl('Pixel ratio (dpr)', c.dpr, '1–3'),
        ctl('Blur sigma (bl)', c.bl, '0.3–25'),
        ctl('Rotate degrees (r)', c.r, '−360–360'),
        check('Greyscale (gr)', c.gr),
        h('div', { class: 'field bg-field' }, check('Background (bg)', c.bgOn), ctl('Background colour', c.bg)),
        isPrivate ? ctl('Signed URL lifetime', ttl, 'This asset is private, so the URL is signed and expires.') : null,
        h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn' }, 'Refresh'))),
      h('div', { class: 'pg-output' },
        h('div', { class: 'field' }, h('label', { for: urlOut.id }, isPrivate ? 'Signed delivery URL' : 'Delivery URL'),
          h('div', { class: 'with-button' }, urlOut, copyButton(() => urlOut.value, 'delivery URL'), openLink)),
        h('p', { class: 'hint' }, 'Transform: ', transformOut),
        expiresNote,
        result)));
  update();
  return {
    node,
    cleanup: () => { clearTimeout(timer); if (controller) controller.abort(); if (objectUrl) URL.revokeObjectURL(objectUrl); },
  };
}
