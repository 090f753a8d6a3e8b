// One asset: preview, metadata, editing tags/folder/visibility, delete with confirmation, and the transform playground.

import { api, encodeId } from '../api.js';
import { h, mount, field, confirmDialog, toast, timeEl, errorBox, describeError, formatBytes } from '../ui.js';
import { BASE, navigate } from '../router.js';
import { previewImg } from '../thumbs.js';
import { playground } from './playground.js';

export async function render(main, { params }) {
  const publicId = params.rest;
  document.title = `${publicId} · img-cloud`;
  let asset;
  try {
    asset = await api('GET', `/v1/assets/${encodeId(publicId)}`);
  } catch (e) {
    if (e.status === 401) throw e;
    mount(main, h('p', {}, h('a', { href: `${BASE}/` }, '← Library')), h('h1', {}, publicId),
      errorBox(e.status === 404 ? 'This asset does not exist (or was deleted).' : describeError(e, 'Loading the asset')));
    return undefined;
  }

  const previewBox = h('div', { class: 'preview', id: 'asset-preview' });
  const meta = h('dl', { class: 'meta', id: 'asset-meta' });
  const tagsIn = h('input', { type: 'text', name: 'tags', autocomplete: 'off' });
  const folderIn = h('input', { type: 'text', name: 'folder', autocomplete: 'off', spellcheck: 'false' });
  const visIn = h('select', { name: 'visibility' }, h('option', { value: 'public' }, 'Public'), h('option', { value: 'private' }, 'Private'));
  const editErr = h('div', { class: 'form-error', role: 'alert' });
  const saveBtn = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save changes');
  const editForm = h('form', { class: 'edit-form', 'aria-labelledby': 'edit-h' },
    h('h2', { id: 'edit-h' }, 'Edit'),
    field('Tags', tagsIn, 'Comma-separated; leave empty for none.').wrap,
    field('Folder', folderIn, 'Slash-separated, e.g. marketing/2026; empty for the root.').wrap,
    field('Visibility', visIn, 'Private assets are delivered only to you, admins, and signed URLs.').wrap,
    editErr,
    h('div', { class: 'actions' }, saveBtn,
      h('button', { type: 'button', class: 'btn btn-danger', onclick: remove }, 'Delete asset…')));
  const pg = h('div', { id: 'playground-slot' });
  let pgCleanup = null;

  function fill(a) {
    asset = a;
    tagsIn.value = a.tags.join(', ');
    folderIn.value = a.folder;
    visIn.value = a.visibility;
    mount(previewBox, previewImg(a, 640));
    const row = (k, v) => [h('dt', {}, k), h('dd', { dataset: { field: k.toLowerCase() } }, v)];
    mount(meta,
      row('Dimensions', `${a.width} × ${a.height} px`),
      row('Format', a.format.toUpperCase()),
      row('Size', `${formatBytes(a.bytes)} (${a.bytes.toLocaleString()} bytes)`),
      row('Version', String(a.version)),
      row('Owner', a.owner_email || `user ${a.owner}`),
      row('Created', timeEl(a.created_at)),
      row('Updated', timeEl(a.updated_at)),
      row('Folder', a.folder || h('span', { class: 'muted' }, '(root)')),
      row('Tags', a.tags.length ? h('span', { class: 'tag-list' }, a.tags.map((t) => h('span', { class: 'pill' }, t))) : h('span', { class: 'muted' }, 'none')),
      row('Visibility', h('span', { class: a.visibility === 'private' ? 'pill pill-private' : 'pill pill-ok' }, a.visibility === 'private' ? 'Private' : 'Public')),
      row('Delivery URL', h('code', { class: 'wrap-anywhere' }, a.url)));
    if (pgCleanup) pgCleanup();
    const p = playground(a);
    pgCleanup = p.cleanup;
    mount(pg, p.node);
  }

  editForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    editErr.textContent = '';
    saveBtn.disabled = true;
    const body = {
      tags: tagsIn.value.split(',').map((t) => t.trim()).filter(Boolean),
      folder: folderIn.value.trim(),
      visibility: visIn.value,
    };
    try {
      const updated = await api('PATCH', `/v1/assets/${encodeId(asset.public_id)}`, { body });
      fill(updated);
      toast('Changes saved.');
    } catch (err) {
      editErr.textContent = describeError(err, 'Saving');
    } finally {
      saveBtn.disabled = false;
    }
  });

  async function remove() {
    const ok = await confirmDialog({
      title: 'Delete this asset?',
      message: `"${asset.public_id}" and every cached size of it will be deleted. Its URLs will answer 404. This cannot be undone.`,
      confirmLabel: 'Delete asset',
      danger: true,
    });
    if (!ok) return;
    try {
      await api('DELETE', `/v1/assets/${encodeId(asset.public_id)}`);
      toast(`Deleted ${asset.public_id}.`);
      navigate(`${BASE}/`);
    } catch (err) {
      toast(describeError(err, 'Deleting'), 'error');
    }
  }

  mount(main,
    h('p', { class: 'breadcrumb' }, h('a', { href: `${BASE}/` }, '← Library')),
    h('h1', { class: 'wrap-anywhere' }, asset.public_id),
    h('div', { class: 'asset-layout' },
      h('section', { class: 'card', 'aria-labelledby': 'preview-h' }, h('h2', { id: 'preview-h' }, 'Preview'), previewBox),
      h('div', { class: 'asset-side' },
        h('section', { class: 'card', 'aria-labelledby': 'meta-h' }, h('h2', { id: 'meta-h' }, 'Details'), meta),
        h('section', { class: 'card' }, editForm))),
    pg);
  fill(asset);
  return () => { if (pgCleanup) pgCleanup(); };
}

