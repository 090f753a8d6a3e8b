// Webhooks: the caller's endpoints (all of them for an admin) with their state; a disabled endpoint shows why, and can be turned back on or removed.

import { api } from '../api.js';
import { h, mount, confirmDialog, toast, timeEl, errorBox, describeError } from '../ui.js';

export async function render(main) {
  document.title = 'Webhooks · img-cloud';
  const listWrap = h('div', { class: 'table-wrap' });

  async function load() {
    try {
      const { webhooks } = await api('GET', '/v1/webhooks');
      mount(listWrap, webhooks.length === 0
        ? h('p', { class: 'empty' }, 'No webhook endpoints yet. Register one with POST /v1/webhooks.')
        : table(webhooks));
    } catch (e) {
      mount(listWrap, errorBox(describeError(e, 'Loading your webhooks')));
    }
  }

  function status(w) {
    if (w.enabled) return h('span', { class: 'pill pill-ok' }, 'Active');
    return h('div', { class: 'webhook-disabled' },
      h('span', { class: 'pill pill-revoked' }, 'Disabled ', timeEl(w.disabled_at)),
      h('p', { class: 'disabled-reason', role: 'note' }, w.disabled_reason));
  }

  function table(webhooks) {
    return h('table', { class: 'data' },
      h('caption', { class: 'visually-hidden' }, 'Your webhook endpoints'),
      h('thead', {}, h('tr', {}, ['URL', 'Events', 'Waiting', 'Status', h('span', { class: 'visually-hidden' }, 'Actions')].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, webhooks.map((w) => h('tr', { dataset: { webhookId: w.id } },
        h('td', { 'data-label': 'URL' }, h('code', {}, w.url)),
        h('td', { 'data-label': 'Events' }, w.events.join(', ')),
        h('td', { 'data-label': 'Waiting' }, String(w.pending)),
        h('td', { 'data-label': 'Status' }, status(w)),
        h('td', { class: 'row-actions' },
          w.enabled ? null : h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Re-enable ${w.url}`, onclick: () => enable(w) }, 'Re-enable'),
          h('button', { type: 'button', class: 'btn btn-small btn-danger', 'aria-label': `Delete ${w.url}`, onclick: () => remove(w) }, 'Delete'))))));
  }

  async function enable(w) {
    try {
      await api('PATCH', `/v1/webhooks/${encodeURIComponent(w.id)}`, { body: { enabled: true } });
      toast('Endpoint enabled: it gets events from now on.');
      await load();
    } catch (e) {
      toast(describeError(e, 'Enabling the endpoint'), 'error');
    }
  }

  async function remove(w) {
    const ok = await confirmDialog({ title: 'Delete this endpoint?', message: `${w.url} will get no more events.`, confirmLabel: 'Delete endpoint', danger: true });
    if (!ok) return;
    try {
      await api('DELETE', `/v1/webhooks/${encodeURIComponent(w.id)}`);
      toast('Endpoint deleted.');
      await load();
    } catch (e) {
      toast(describeError(e, 'Deleting the endpoint'), 'error');
    }
  }

  mount(main,
    h('h1', {}, 'Webhooks'),
    h('p', { class: 'lede' }, 'Endpoints that hear of your assets\' changes. One that keeps failing, or lets too many events pile up, is disabled and says why here.'),
    h('section', { 'aria-labelledby': 'hooks-h' }, h('h2', { id: 'hooks-h' }, 'Your endpoints'), listWrap));
  await load();
}
