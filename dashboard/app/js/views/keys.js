// API keys: list the caller's keys, mint one (secret shown once, with copy buttons) and revoke with confirmation.

import { api } from '../api.js';
import { h, mount, field, openDialog, confirmDialog, copyButton, toast, timeEl, errorBox, describeError } from '../ui.js';

export async function render(main) {
  document.title = 'API keys · img-cloud';
  const listWrap = h('div', { class: 'table-wrap' });
  const name = h('input', { type: 'text', name: 'name', maxlength: '100', placeholder: 'e.g. laptop, CI, website', required: true });
  const createErr = h('div', { class: 'form-error', role: 'alert' });
  const createBtn = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create new key');
  const form = h('form', { class: 'inline-form', 'aria-label': 'Create an API key' },
    field('Key name', name).wrap, createBtn, createErr);

  async function load() {
    try {
      const { api_keys: keys } = await api('GET', '/v1/api-keys');
      mount(listWrap, keys.length === 0
        ? h('p', { class: 'empty' }, 'No API keys yet. Create one to upload from scripts and SDKs.')
        : table(keys));
    } catch (e) {
      mount(listWrap, errorBox(describeError(e, 'Loading your keys')));
    }
  }

  function table(keys) {
    return h('table', { class: 'data' },
      h('caption', { class: 'visually-hidden' }, 'Your API keys'),
      h('thead', {}, h('tr', {}, ['Name', 'Key ID', 'Created', 'Last used', 'Status', h('span', { class: 'visually-hidden' }, 'Actions')].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, keys.map((k) => h('tr', { dataset: { keyId: k.key_id } },
        h('td', { 'data-label': 'Name' }, k.name),
        h('td', { 'data-label': 'Key ID' }, h('code', {}, k.key_id)),
        h('td', { 'data-label': 'Created' }, timeEl(k.created_at)),
        h('td', { 'data-label': 'Last used' }, k.last_used_at ? timeEl(k.last_used_at) : h('span', { class: 'muted' }, 'never')),
        h('td', { 'data-label': 'Status' }, k.revoked_at ? h('span', { class: 'pill pill-revoked' }, 'Revoked ', timeEl(k.revoked_at)) : h('span', { class: 'pill pill-ok' }, 'Active')),
        h('td', { class: 'row-actions' }, k.revoked_at ? null
          : h('button', { type: 'button', class: 'btn btn-small btn-danger', 'aria-label': `Revoke key ${k.name} (${k.key_id})`, onclick: () => revoke(k) }, 'Revoke'))))));
  }

  async function revoke(k) {
    const ok = await confirmDialog({
      title: 'Revoke this key?',
      message: `Revoking "${k.name}" (${k.key_id}) stops it working at once: every request made with it will be refused with 401. This cannot be undone.`,
      confirmLabel: 'Revoke key',
      danger: true,
    });
    if (!ok) return;
    try {
      await api('POST', `/v1/api-keys/${encodeURIComponent(k.id)}/revoke`);
      toast(`Key ${k.key_id} revoked.`);
      await load();
    } catch (e) {
      toast(describeError(e, 'Revoking the key'), 'error');
    }
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    createErr.textContent = '';
    if (!name.value.trim()) { createErr.textContent = 'Give the key a name, so you can tell your keys apart later.'; name.focus(); return; }
    createBtn.disabled = true;
    try {
      const key = await api('POST', '/v1/api-keys', { body: { name: name.value.trim() } });
      name.value = '';
      await load();
      await showSecret(key);
      name.focus();
    } catch (err) {
      createErr.textContent = describeError(err, 'Creating the key');
    } finally {
      createBtn.disabled = false;
    }
  });

  mount(main,
    h('h1', {}, 'API keys'),
    h('p', { class: 'lede' }, 'Keys let services and the SDKs act as you: send them as ', h('code', {}, 'Authorization: ApiKey <key_id>:<key_secret>'), '.'),
    h('section', { class: 'card', 'aria-labelledby': 'new-key-h' }, h('h2', { id: 'new-key-h' }, 'Create a key'), form),
    h('section', { 'aria-labelledby': 'keys-h' }, h('h2', { id: 'keys-h' }, 'Your keys'), listWrap));
  await load();
}

/** The once-only display of a new key's secret. */
function showSecret(key) {
  return openDialog({
    title: 'Your new API key',
    className: 'dialog-wide',
    build: (close) => [
      h('p', { class: 'warning', role: 'note' }, h('strong', {}, 'Copy the secret now. '), 'It is shown only this once and cannot be shown again; if you lose it, revoke this key and create another.'),
      secretRow('Key ID', key.key_id, 'new-key-id', 'key ID'),
      secretRow('Key secret', key.key_secret, 'new-key-secret', 'key secret'),
      h('p', { class: 'hint' }, 'Use them as ', h('code', {}, `Authorization: ApiKey ${key.key_id}:<key_secret>`), ', or as keyId/keySecret in the SDKs.'),
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn btn-primary', onclick: () => close(true) }, 'I have saved the secret')),
    ],
  });
}

function secretRow(label, value, id, what) {
  const input = h('input', { type: 'text', id, readonly: true, value, class: 'mono', spellcheck: 'false' });
  input.addEventListener('focus', () => input.select());
  return h('div', { class: 'field secret-row' }, h('label', { for: id }, label), h('div', { class: 'with-button' }, input, copyButton(() => value, what)));
}
