// The upload panel: drag-and-drop or pick many files, per-file public_id and progress bar, and per-file errors (409 overwrite, 413, 415, 429).

import { uploadFile } from '../api.js';
import { h, mount, field, uid, formatBytes } from '../ui.js';
import { assetHref } from '../router.js';

const CONCURRENCY = 3;
// The formats the server decodes (the engine's InputFormat), named once for the picker, its hint
// and the 415 message. The picker filter is only a hint: the server sniffs bytes and answers 415
// for anything else.
const ACCEPT = 'image/jpeg,image/png,image/webp,image/avif,image/gif,image/tiff,image/bmp,.jpg,.jpeg,.png,.webp,.avif,.gif,.tif,.tiff,.bmp';
const FORMATS = 'JPEG, PNG, WebP, AVIF, GIF, TIFF or BMP';

/**
 * Builds the panel; `onUploaded(asset)` runs after each successful upload. The returned element's
 * `setFolders(list)` refreshes the folder suggestions.
 */
export function uploadPanel({ onUploaded, folders = [] }) {
  const queue = [];
  const fileInput = h('input', { type: 'file', id: 'upload-files', multiple: true, accept: ACCEPT, class: 'visually-hidden-input' });
  const folder = h('input', { type: 'text', name: 'folder', list: 'upload-folder-list', placeholder: 'e.g. marketing/2026', autocomplete: 'off' });
  const folderList = h('datalist', { id: 'upload-folder-list' }, folders.map((f) => h('option', { value: f.folder })));
  const tags = h('input', { type: 'text', name: 'tags', placeholder: 'e.g. hero, homepage', autocomplete: 'off' });
  const visibility = h('select', { name: 'visibility' }, h('option', { value: 'public' }, 'Public'), h('option', { value: 'private' }, 'Private'));
  const list = h('ul', { class: 'upload-queue', 'aria-label': 'Files to upload' });
  const startBtn = h('button', { type: 'button', class: 'btn btn-primary', disabled: true, onclick: startAll }, 'Upload');
  const clearBtn = h('button', { type: 'button', class: 'btn', hidden: true, onclick: clearDone }, 'Clear finished');
  const summary = h('p', { class: 'upload-summary', role: 'status', 'aria-live': 'polite' });

  const drop = h('div', { class: 'dropzone', id: 'dropzone' },
    h('p', {}, h('strong', {}, 'Drag and drop images here'), ' or '),
    h('label', { for: 'upload-files', class: 'btn' }, 'Choose files…'),
    fileInput,
    h('p', { class: 'hint' }, `${FORMATS}. Pick several at once.`));

  // Counting enter/leave pairs keeps the highlight steady while the pointer crosses child elements.
  let depth = 0;
  drop.addEventListener('dragenter', (e) => { e.preventDefault(); depth += 1; drop.classList.add('dragover'); });
  drop.addEventListener('dragover', (e) => { e.preventDefault(); if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy'; });
  drop.addEventListener('dragleave', () => { depth = Math.max(0, depth - 1); if (depth === 0) drop.classList.remove('dragover'); });
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    drop.classList.remove('dragover');
    if (e.dataTransfer && e.dataTransfer.files) addFiles(e.dataTransfer.files);
  });
  fileInput.addEventListener('change', () => { addFiles(fileInput.files); fileInput.value = ''; });

  function addFiles(files) {
    for (const file of files) {
      const item = { file, state: 'ready', asset: null, overwrite: false };
      item.row = renderRow(item);
      queue.push(item);
      list.append(item.row);
    }
    refresh();
  }

  function renderRow(item) {
    const idInput = h('input', { type: 'text', class: 'mono', placeholder: 'generated from the file name', autocomplete: 'off', spellcheck: 'false' });
    const idField = field(`public_id for ${item.file.name} (optional)`, idInput);
    idField.wrap.classList.add('field-compact');
    const progress = h('progress', { max: '100', value: '0', 'aria-label': `Upload progress of ${item.file.name}` });
    const status = h('p', { class: 'upload-status', role: 'status' }, 'Ready');
    const actions = h('div', { class: 'upload-actions' });
    item.idInput = idInput;
    item.progress = progress;
    item.status = status;
    item.actions = actions;
    const row = h('li', { class: 'upload-item', dataset: { file: item.file.name, state: 'ready' } },
      h('div', { class: 'upload-head' }, h('span', { class: 'upload-name' }, item.file.name), h('span', { class: 'muted' }, formatBytes(item.file.size))),
      idField.wrap, progress, status, actions);
    setActions(item, [h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Remove ${item.file.name} from the list`, onclick: () => remove(item) }, 'Remove')]);
    return row;
  }

  function setActions(item, nodes) { mount(item.actions, nodes); }

  function setState(item, state, message, kind = '') {
    item.state = state;
    item.row.dataset.state = state;
    item.status.className = `upload-status ${kind}`;
    item.status.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    mount(item.status, message);
  }

  function remove(item) {
    const i = queue.indexOf(item);
    if (i >= 0) queue.splice(i, 1);
    item.row.remove();
    refresh();
  }

  function clearDone() {
    for (const item of [...queue]) if (item.state === 'done') remove(item);
  }

  function refresh() {
    const ready = queue.filter((i) => i.state === 'ready').length;
    startBtn.disabled = ready === 0;
    startBtn.textContent = ready > 1 ? `Upload ${ready} files` : 'Upload';
    clearBtn.hidden = !queue.some((i) => i.state === 'done');
    const done = queue.filter((i) => i.state === 'done').length;
    const failed = queue.filter((i) => i.state === 'error').length;
    const busy = queue.filter((i) => i.state === 'uploading').length;
    summary.textContent = queue.length === 0 ? '' : [
      busy ? `${busy} uploading` : null, ready ? `${ready} ready` : null, done ? `${done} uploaded` : null, failed ? `${failed} failed` : null,
    ].filter(Boolean).join(', ');
  }

  async function startAll() {
    const pending = queue.filter((i) => i.state === 'ready');
    let next = 0;
    const worker = async () => {
      while (next < pending.length) {
        const item = pending[next];
        next += 1;
        await send(item);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, pending.length) }, worker));
  }

  async function send(item) {
    item.idInput.readOnly = true;
    setState(item, 'uploading', 'Uploading…');
    setActions(item, []);
    item.progress.value = 0;
    refresh();
    const fields = {
      public_id: item.idInput.value.trim(),
      folder: folder.value.trim(),
      tags: tags.value.split(',').map((t) => t.trim()).filter(Boolean).join(','),
      visibility: visibility.value,
      overwrite: item.overwrite ? 'true' : '',
    };
    try {
      const asset = await uploadFile(item.file, fields, (loaded, total) => {
        item.progress.value = Math.round((loaded / total) * 100);
      });
      item.progress.value = 100;
      item.asset = asset;
      setState(item, 'done', h('span', {}, item.overwrite ? 'Replaced: ' : 'Uploaded: ', h('a', { href: assetHref(asset.public_id) }, asset.public_id)), 'ok');
      setActions(item, []);
      if (onUploaded) onUploaded(asset);
    } catch (err) {
      item.progress.value = 0;
      failed(item, err, fields.public_id);
    }
    refresh();
  }

  function retry(item, overwrite = false) {
    item.overwrite = overwrite;
    send(item);
  }

  function failed(item, err, publicId) {
    const name = item.file.name;
    const again = (label, overwrite = false) => h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `${label}: ${name}`, onclick: () => retry(item, overwrite) }, label);
    const removeBtn = h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Remove ${name} from the list`, onclick: () => remove(item) }, 'Remove');
    item.idInput.readOnly = false;
    switch (err.status) {
      case 409:
        setState(item, 'error', `An asset with public_id "${publicId}" already exists. Overwrite it with this file, or change the public_id and retry.`, 'error');
        setActions(item, [h('button', { type: 'button', class: 'btn btn-small btn-danger', 'aria-label': `Overwrite ${publicId} with ${name}`, onclick: () => retry(item, true) }, 'Overwrite'), again('Retry'), removeBtn]);
        break;
      case 413:
        setState(item, 'error', `Too large (${formatBytes(item.file.size)}): ${err.message}`, 'error');
        setActions(item, [removeBtn]);
        break;
      case 415:
        setState(item, 'error', `Unsupported file type (the server said: ${err.message}). Upload ${FORMATS}.`, 'error');
        setActions(item, [removeBtn]);
        break;
      case 429: {
        const secs = err.retryAfter ?? 30;
        setState(item, 'error', `Rate-limited: too many uploads. Try again in ${secs} second${secs === 1 ? '' : 's'}.`, 'error');
        const btn = again('Retry');
        btn.disabled = true;
        setTimeout(() => { btn.disabled = false; }, secs * 1000);
        setActions(item, [btn, removeBtn]);
        break;
      }
      case 0:
        setState(item, 'error', `${err.message} Very large files can be cut off by the server's size limit.`, 'error');
        setActions(item, [again('Retry'), removeBtn]);
        break;
      default:
        setState(item, 'error', `Upload failed (HTTP ${err.status}): ${err.message}`, 'error');
        setActions(item, [again('Retry'), removeBtn]);
    }
  }

  const fieldsetId = uid('upl');
  const section = h('section', { class: 'card upload-panel', 'aria-labelledby': fieldsetId },
    h('h2', { id: fieldsetId }, 'Upload'),
    drop,
    h('div', { class: 'upload-options' },
      field('Folder', folder, 'Applies to every file in this batch.').wrap, folderList,
      field('Tags', tags, 'Comma-separated.').wrap,
      field('Visibility', visibility).wrap),
    list,
    h('div', { class: 'actions' }, startBtn, clearBtn),
    summary);
  section.setFolders = (list) => mount(folderList, list.map((f) => h('option', { value: f.folder })));
  return section;
}
