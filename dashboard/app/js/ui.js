// Shared UI building blocks: the element builder, accessible dialogs, toasts, copy buttons and formatters.

/**
 * Builds an element: h('button', { class: 'btn', onclick: fn, 'aria-label': 'x' }, 'text', child).
 * `on<event>` props become listeners (never inline handlers: the CSP forbids them), `dataset` and
 * `style` objects are merged, `false`/`null` props and children are skipped.
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k === 'style' && typeof v === 'object') Object.assign(node.style, v);
    else if (k === 'value' && 'value' in node) node.value = v;
    else if (k === 'checked' || k === 'selected' || k === 'disabled' || k === 'multiple' || k === 'hidden' || k === 'required') node[k] = Boolean(v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function mount(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

let idCounter = 0;
/** A unique id for label/aria wiring. */
export function uid(prefix = 'id') { idCounter += 1; return `${prefix}-${idCounter}`; }

/** A labelled form field: returns { wrap, input }. `input` is the control element itself. */
export function field(label, control, hint) {
  const id = control.id || uid('f');
  control.id = id;
  const hintNode = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  if (hintNode) control.setAttribute('aria-describedby', hintNode.id);
  const wrap = h('div', { class: 'field' }, h('label', { for: id }, label), control, hintNode);
  return { wrap, input: control };
}

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * Opens a modal dialog. Focus moves into it, Tab/Shift+Tab cycle inside it, Escape closes it,
 * and focus returns to whatever had it before. `build(close)` returns the body nodes.
 * Resolves with the value passed to close() (undefined on Escape or backdrop click).
 */
export function openDialog({ title, build, className = '' }) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const titleId = uid('dlg-title');
    let closed = false;
    const backdrop = h('div', { class: 'dialog-backdrop' });
    const close = (value) => {
      if (closed) return;
      closed = true;
      document.removeEventListener('keydown', onKey, true);
      backdrop.remove();
      for (const n of inerted) n.removeAttribute('inert');
      if (opener && typeof opener.focus === 'function' && document.contains(opener)) opener.focus();
      resolve(value);
    };
    const dialog = h('div', { class: `dialog ${className}`, role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': titleId },
      h('div', { class: 'dialog-head' },
        h('h2', { id: titleId }, title),
        h('button', { type: 'button', class: 'btn-icon', 'aria-label': 'Close dialog', onclick: () => close(undefined) }, '×')),
      h('div', { class: 'dialog-body' }, build(close)));
    backdrop.append(dialog);
    backdrop.addEventListener('mousedown', (e) => { if (e.target === backdrop) close(undefined); });
    function onKey(e) {
      if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); close(undefined); return; }
      if (e.key !== 'Tab') return;
      const items = [...dialog.querySelectorAll(FOCUSABLE)].filter((n) => n.offsetParent !== null || n === document.activeElement);
      if (items.length === 0) { e.preventDefault(); dialog.focus(); return; }
      const first = items[0];
      const last = items[items.length - 1];
      if (!dialog.contains(document.activeElement)) { e.preventDefault(); first.focus(); }
      else if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
    }
    document.addEventListener('keydown', onKey, true);
    // Everything behind the dialog is inert, so screen readers and clicks stay in the dialog too.
    const inerted = [...document.body.children].filter((n) => !n.hasAttribute('inert') && n.id !== 'toasts');
    for (const n of inerted) n.setAttribute('inert', '');
    document.body.append(backdrop);
    dialog.setAttribute('tabindex', '-1');
    const auto = dialog.querySelector('[data-autofocus]') || dialog.querySelector('.dialog-body ' + FOCUSABLE.split(', ').join(', .dialog-body ')) || dialog;
    auto.focus();
  });
}

/** Asks for confirmation; resolves true only when the confirm button is pressed. */
export function confirmDialog({ title, message, confirmLabel = 'Confirm', danger = false }) {
  return openDialog({
    title,
    build: (close) => [
      h('p', {}, message),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'btn', onclick: () => close(false), 'data-autofocus': true }, 'Cancel'),
        h('button', { type: 'button', class: danger ? 'btn btn-danger' : 'btn btn-primary', onclick: () => close(true) }, confirmLabel)),
    ],
  }).then((v) => v === true);
}

/** Shows a short message in the aria-live region; errors stay longer. */
export function toast(message, kind = 'info') {
  const region = document.getElementById('toasts');
  if (!region) return;
  const node = h('div', { class: `toast toast-${kind}` }, message);
  region.append(node);
  setTimeout(() => node.remove(), kind === 'error' ? 8000 : 4000);
}

/** Copies text; falls back to a selected textarea + execCommand where the Clipboard API is unavailable (plain http, older Firefox). */
export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch { /* permission refused: try the fallback */ }
  const ta = h('textarea', { class: 'visually-hidden', 'aria-hidden': 'true', tabindex: '-1' });
  ta.value = text;
  document.body.append(ta);
  ta.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch { ok = false; }
  ta.remove();
  return ok;
}

/** A button that copies `getText()` and says so. `label` names what is copied, for screen readers. */
export function copyButton(getText, label) {
  // The name is "Copy <what>" with only "Copy" visible, so the visible text stays part of the
  // accessible name (WCAG 2.5.3) also while it reads "Copied".
  const word = h('span', {}, 'Copy');
  const btn = h('button', { type: 'button', class: 'btn btn-small' }, word, h('span', { class: 'visually-hidden' }, ` ${label}`));
  btn.addEventListener('click', async () => {
    const ok = await copyText(typeof getText === 'function' ? getText() : getText);
    word.textContent = ok ? 'Copied' : 'Copy failed';
    toast(ok ? `${label[0].toUpperCase()}${label.slice(1)} copied to the clipboard.` : `Could not copy the ${label}; select it and copy by hand.`, ok ? 'info' : 'error');
    setTimeout(() => { word.textContent = 'Copy'; }, 2000);
  });
  return btn;
}

/** 1234567 -> "1.2 MB" (decimal units, like the upload size cap in the docs). */
export function formatBytes(n) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '—';
  const v = Number(n);
  if (v < 1000) return `${v} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let x = v;
  let i = -1;
  do { x /= 1000; i += 1; } while (x >= 1000 && i < units.length - 1);
  return `${x >= 100 ? x.toFixed(0) : x.toFixed(1)} ${units[i]}`;
}

/** An RFC 3339 / SQLite timestamp as a local date and time; "—" for none. */
export function formatDate(s) {
  if (!s) return '—';
  const d = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s.replace(' ', 'T')}Z`);
  if (Number.isNaN(d.getTime())) return s;
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** A <time> element for a timestamp. */
export function timeEl(s) {
  return s ? h('time', { datetime: s }, formatDate(s)) : h('span', { class: 'muted' }, '—');
}

/** An inline error box with role=alert, so screen readers announce it. */
export function errorBox(message) {
  return h('div', { class: 'error-box', role: 'alert' }, message);
}

/** A message for an ApiError a person can act on. */
export function describeError(err, what = 'The request') {
  if (!err) return `${what} failed.`;
  if (err.status === 429) return `${err.message || 'Too many requests.'} Try again in ${err.retryAfter ?? 'a few'} seconds.`;
  if (err.status === 0) return err.message;
  return err.message || `${what} failed (HTTP ${err.status}).`;
}
