// Entry point: the page shell (header, nav, sign out), the route table and rendering of the current view.

import { api, setUnauthenticatedHandler } from './js/api.js';
import { h, mount, toast, errorBox, describeError } from './js/ui.js';
import { route, match, startRouter, navigate, BASE } from './js/router.js';
import { session, loadSession, isAdmin } from './js/session.js';
import * as loginView from './js/views/login.js';
import * as libraryView from './js/views/library.js';
import * as assetView from './js/views/asset.js';
import * as keysView from './js/views/keys.js';
import * as webhooksView from './js/views/webhooks.js';
import * as usageView from './js/views/usage.js';
import * as usersView from './js/views/users.js';
import * as accountView from './js/views/account.js';

route('/login', loginView);
route('/', libraryView);
route('/assets/*', assetView);
route('/keys', keysView);
route('/webhooks', webhooksView);
route('/usage', usageView);
route('/users', usersView);
route('/account', accountView);

const NAV = [
  { path: '/', label: 'Library' },
  { path: '/keys', label: 'API keys' },
  { path: '/webhooks', label: 'Webhooks' },
  { path: '/usage', label: 'Usage' },
  { path: '/users', label: 'Users', admin: true },
  { path: '/account', label: 'Account' },
];

const main = document.getElementById('main');
const header = document.getElementById('site-header');
let cleanup = null;
let renderSeq = 0;
let firstRender = true;

function renderShell(currentPath) {
  if (!session.user) { header.hidden = true; return; }
  header.hidden = false;
  const rel = currentPath.slice(BASE.length) || '/';
  const items = NAV.filter((n) => !n.admin || isAdmin()).map((n) => {
    const active = n.path === '/' ? (rel === '/' || rel.startsWith('/assets/')) : rel.startsWith(n.path);
    return h('li', {}, h('a', { href: `${BASE}${n.path === '/' ? '/' : n.path}`, 'aria-current': active ? 'page' : null }, n.label));
  });
  mount(document.getElementById('main-nav'), h('ul', {}, items));
  mount(document.getElementById('whoami'),
    h('span', { class: 'who' }, session.user.email, session.user.role === 'admin' ? h('span', { class: 'badge' }, 'admin') : null),
    h('button', { type: 'button', class: 'btn btn-small', onclick: signOut }, 'Sign out'));
}

async function signOut() {
  try { await api('POST', '/v1/auth/logout'); } catch (e) { toast(describeError(e, 'Signing out'), 'error'); return; }
  session.user = null;
  // Messages about the previous account must not greet whoever signs in next on this screen.
  document.getElementById('toasts').replaceChildren();
  toast('Signed out.');
  navigate(`${BASE}/login`);
}

async function render() {
  const seq = ++renderSeq;
  if (cleanup) { try { cleanup(); } catch { /* a view's teardown must not block the next one */ } cleanup = null; }
  const path = location.pathname;
  if (path === BASE || path === `${BASE}/index.html`) { navigate(`${BASE}/`, { replace: true }); return; }
  const m = match(path);
  const isLogin = m && m.view === loginView;
  if (!session.user && !isLogin) {
    const next = location.pathname + location.search;
    navigate(`${BASE}/login${next && next !== `${BASE}/` ? `?next=${encodeURIComponent(next)}` : ''}`, { replace: true });
    return;
  }
  if (session.user && isLogin) { navigate(`${BASE}/`, { replace: true }); return; }
  renderShell(path);
  main.replaceChildren();
  if (!m) {
    document.title = 'Not found · img-cloud';
    mount(main, h('h1', {}, 'Page not found'), h('p', {}, 'There is no dashboard page at this address. ', h('a', { href: `${BASE}/` }, 'Go to the library')));
  } else {
    try {
      const ret = await m.view.render(main, { params: m.params, query: new URLSearchParams(location.search), user: session.user });
      if (seq !== renderSeq) { if (typeof ret === 'function') ret(); return; }
      if (typeof ret === 'function') cleanup = ret;
    } catch (e) {
      if (seq !== renderSeq) return;
      if (e && e.status === 401) return;
      mount(main, h('h1', {}, 'Something went wrong'), errorBox(describeError(e, 'Loading this page')));
    }
  }
  // Move focus to the new page's heading so keyboard and screen-reader users land on the content.
  if (!firstRender) {
    const h1 = main.querySelector('h1');
    if (h1) { h1.setAttribute('tabindex', '-1'); h1.focus({ preventScroll: true }); }
    window.scrollTo(0, 0);
  }
  firstRender = false;
}

setUnauthenticatedHandler(() => {
  if (!session.user) return;
  session.user = null;
  toast('Your session has ended. Please sign in again.', 'error');
  navigate(`${BASE}/login?next=${encodeURIComponent(location.pathname + location.search)}`);
});

async function boot() {
  try {
    await loadSession();
  } catch (e) {
    mount(main, h('h1', {}, 'img-cloud'), errorBox(describeError(e, 'Contacting the server')));
    return;
  }
  startRouter(render);
}

boot();
