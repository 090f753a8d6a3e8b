// The media library: filters (folder with sub-folders, tags, visibility, public_id prefix), the thumbnail grid with cursor paging, and the upload panel.

import { api } from '../api.js';
import { h, mount, field, errorBox, describeError, formatBytes } from '../ui.js';
import { BASE, assetHref } from '../router.js';
import { thumbImg } from '../thumbs.js';
import { uploadPanel } from './upload.js';

const PAGE = 40;

export async function render(main, { query }) {
  document.title = 'Library · img-cloud';
  const state = {
    prefix: query.get('q') || '',
    folder: query.get('folder') || '',
    sub: query.get('sub') !== '0',
    tags: new Set((query.get('tags') || '').split(',').filter(Boolean)),
    visibility: query.get('visibility') || '',
  };
  let cursor = null;
  let loading = false;
  let generation = 0;
  let observer = null;

  const search = h('input', { type: 'search', name: 'q', value: state.prefix, placeholder: 'public_id starts with…', autocomplete: 'off', spellcheck: 'false' });
  const folderSel = h('select', { name: 'folder' });
  const subBox = h('input', { type: 'checkbox', id: 'filter-sub', checked: state.sub });
  const visSel = h('select', { name: 'visibility' },
    h('option', { value: '' }, 'Any'),
    h('option', { value: 'public', selected: state.visibility === 'public' }, 'Public'),
    h('option', { value: 'private', selected: state.visibility === 'private' }, 'Private'));
  const tagBoxes = h('div', { class: 'tag-choices' });
  const pickerError = h('div', {});

  // /v1/folders lists every folder with its parents: `count` is directly inside, `total` with sub-folders.
  function fillFolders(folders) {
    mount(folderSel, h('option', { value: '' }, 'All folders'),
      folders.map((f) => h('option', { value: f.folder, selected: f.folder === state.folder }, `${f.folder} (${f.total})`)));
    if (state.folder && !folders.some((f) => f.folder === state.folder)) folderSel.append(h('option', { value: state.folder, selected: true }, state.folder));
  }

  function fillTags(tagList) {
    mount(tagBoxes, tagList.length === 0
      ? h('p', { class: 'muted' }, 'No tags yet.')
      : tagList.map((t) => {
        const id = `tag-${t.tag.replace(/[^A-Za-z0-9_-]/g, '_')}`;
        const box = h('input', { type: 'checkbox', id, value: t.tag, checked: state.tags.has(t.tag) });
        box.addEventListener('change', () => { if (box.checked) state.tags.add(t.tag); else state.tags.delete(t.tag); reload(); });
        return h('label', { for: id, class: 'tag-choice' }, box, ` ${t.tag} `, h('span', { class: 'muted' }, `(${t.count})`));
      }));
  }

  /** (Re)loads the folder and tag pickers, keeping what is selected; uploads add new ones. */
  async function loadPickers() {
    const [foldersRes, tagsRes] = await Promise.all([
      api('GET', '/v1/folders').catch((e) => ({ error: e })),
      api('GET', '/v1/tags').catch((e) => ({ error: e })),
    ]);
    fillFolders(foldersRes.folders || []);
    fillTags(tagsRes.tags || []);
    if (panel) panel.setFolders(foldersRes.folders || []);
    const err = foldersRes.error || tagsRes.error;
    mount(pickerError, err ? errorBox(describeError(err, 'Loading folders and tags')) : null);
  }

  const filters = h('form', { class: 'filters card', role: 'search', 'aria-label': 'Filter assets' },
    field('Search by public_id prefix', search).wrap,
    h('div', { class: 'field' }, h('label', { for: 'filter-folder' }, 'Folder'), Object.assign(folderSel, { id: 'filter-folder' }),
      h('label', { for: 'filter-sub', class: 'check' }, subBox, ' Include sub-folders')),
    field('Visibility', visSel).wrap,
    h('fieldset', { class: 'field tags-field' }, h('legend', {}, 'Tags (all must match)'), tagBoxes),
    h('div', { class: 'filter-actions' }, h('button', { type: 'submit', class: 'btn' }, 'Apply'), h('button', { type: 'button', class: 'btn btn-link', onclick: resetFilters }, 'Reset')));
  filters.append(pickerError);

  const grid = h('ul', { class: 'grid', id: 'asset-grid', 'aria-label': 'Assets' });
  const status = h('p', { class: 'grid-status', role: 'status', 'aria-live': 'polite' });
  // One slot for a failed load: a retry or a filter change replaces it instead of stacking boxes.
  const loadError = h('div', { class: 'load-error' });
  const moreBtn = h('button', { type: 'button', class: 'btn', hidden: true, onclick: () => loadPage() }, 'Load more');
  const sentinel = h('div', { class: 'sentinel', 'aria-hidden': 'true' });

  filters.addEventListener('submit', (e) => { e.preventDefault(); reload(); });
  let searchTimer = null;
  search.addEventListener('input', () => { clearTimeout(searchTimer); searchTimer = setTimeout(reload, 300); });
  folderSel.addEventListener('change', reload);
  subBox.addEventListener('change', reload);
  visSel.addEventListener('change', reload);

  function resetFilters() {
    search.value = '';
    folderSel.value = '';
    subBox.checked = true;
    visSel.value = '';
    state.tags.clear();
    for (const b of tagBoxes.querySelectorAll('input[type=checkbox]')) b.checked = false;
    reload();
  }

  function syncState() {
    state.prefix = search.value.trim();
    state.folder = folderSel.value;
    state.sub = subBox.checked;
    state.visibility = visSel.value;
    // Filters live in the address, so a reload or a shared link shows the same view.
    const qs = new URLSearchParams();
    if (state.prefix) qs.set('q', state.prefix);
    if (state.folder) qs.set('folder', state.folder);
    if (!state.sub) qs.set('sub', '0');
    if (state.tags.size) qs.set('tags', [...state.tags].join(','));
    if (state.visibility) qs.set('visibility', state.visibility);
    const s = qs.toString();
    history.replaceState(null, '', `${BASE}/${s ? `?${s}` : ''}`);
  }

  function reload() {
    syncState();
    generation += 1;
    cursor = null;
    grid.replaceChildren();
    loadPage(true);
  }

  async function loadPage(first = false) {
    if (loading && !first) return;
    loading = true;
    const gen = generation;
    moreBtn.hidden = true;
    mount(loadError);
    status.textContent = 'Loading…';
    const q = { limit: PAGE, cursor, prefix: state.prefix, visibility: state.visibility, tags: [...state.tags].join(',') };
    if (state.folder) q[state.sub ? 'folder_prefix' : 'folder'] = state.folder;
    try {
      const res = await api('GET', '/v1/assets', { query: q });
      if (gen !== generation) return;
      for (const a of res.assets) grid.append(card(a));
      cursor = res.next_cursor;
      const n = grid.children.length;
      status.textContent = n === 0 ? 'No assets match these filters.' : `Showing ${n} asset${n === 1 ? '' : 's'}${cursor ? '; more are available' : ''}.`;
      moreBtn.hidden = !cursor;
    } catch (e) {
      if (gen !== generation) return;
      status.textContent = '';
      mount(loadError, errorBox(h('span', {}, describeError(e, 'Loading assets'), ' ',
        h('button', { type: 'button', class: 'btn btn-small', onclick: () => loadPage(grid.children.length === 0) }, 'Try again'))));
    } finally {
      if (gen === generation) loading = false;
    }
  }

  function card(a) {
    return h('li', { class: 'tile', dataset: { publicId: a.public_id } },
      h('a', { href: assetHref(a.public_id), class: 'tile-link' },
        h('span', { class: 'tile-img' }, thumbImg(a, 200)),
        h('span', { class: 'tile-caption' },
          h('span', { class: 'tile-id' }, a.public_id),
          h('span', { class: 'tile-meta' }, `${a.format.toUpperCase()} · ${a.width}×${a.height} · ${formatBytes(a.bytes)}`),
          a.visibility === 'private' ? h('span', { class: 'pill pill-private' }, 'Private') : null)));
  }

  // A batch finishing several files reloads once; new tags and folders show up in the pickers.
  let uploadTimer = null;
  const panel = uploadPanel({ onUploaded: () => { clearTimeout(uploadTimer); uploadTimer = setTimeout(() => { loadPickers(); reload(); }, 250); } });
  await loadPickers();

  mount(main,
    h('h1', {}, 'Media library'),
    panel,
    h('div', { class: 'library' },
      filters,
      h('section', { class: 'results', 'aria-labelledby': 'results-h' },
        h('h2', { id: 'results-h', class: 'visually-hidden' }, 'Assets'),
        status, grid, loadError, h('div', { class: 'actions center' }, moreBtn), sentinel)));

  // Infinite scroll: when the sentinel below the grid comes into view, fetch the next page; the
  // "Load more" button stays as the keyboard and no-IntersectionObserver path.
  if ('IntersectionObserver' in window) {
    observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && cursor && !loading) loadPage();
    }, { rootMargin: '400px' });
    observer.observe(sentinel);
  }
  syncState();
  await loadPage(true);
  return () => { if (observer) observer.disconnect(); clearTimeout(searchTimer); clearTimeout(uploadTimer); generation += 1; };
}
