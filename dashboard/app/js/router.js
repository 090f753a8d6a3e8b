// History-API routing under /dashboard/: maps a path to a view and keeps links, back/forward and reloads working.

export const BASE = '/dashboard';

const routes = [];
let renderRoute = null;

/** Registers a route: `pattern` is a path under /dashboard (e.g. '/assets/*'); '*' captures the rest. */
export function route(pattern, view) { routes.push({ pattern, view }); }

/** Finds the route for a location path; returns { view, params } or null. */
export function match(pathname) {
  let p = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  if (p === '') p = '/';
  for (const r of routes) {
    if (r.pattern.endsWith('*')) {
      const prefix = r.pattern.slice(0, -1);
      if (p.startsWith(prefix) && p.length > prefix.length) {
        // public_ids can hold '/', so the rest is kept whole and each segment decoded.
        // A trailing slash (typed or pasted) is dropped; public_ids never end in '/'.
        const rest = p.slice(prefix.length).replace(/\/$/, '').split('/').map(decodeURIComponent).join('/');
        return { view: r.view, params: { rest } };
      }
    } else if (r.pattern === p || `${r.pattern}/` === p) {
      return { view: r.view, params: {} };
    }
  }
  return null;
}

/**
 * The dashboard address of an asset. Dotted public_ids (`logo.png`) need nothing special: the
 * server's 404 for missing files applies only inside the folders the app ships (js/, the root).
 */
export function assetHref(publicId) {
  return `${BASE}/assets/${publicId.split('/').map(encodeURIComponent).join('/')}`;
}

/** Moves to a path (absolute, under /dashboard/) without reloading. */
export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  if (renderRoute) renderRoute();
}

/** Starts routing: `render()` is called for the current location now and on every change. */
export function startRouter(render) {
  renderRoute = render;
  window.addEventListener('popstate', render);
  // Same-tab links under /dashboard/ are handled here, so views stay client-side; modified clicks
  // (new tab, download) keep the browser's behaviour.
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = e.target.closest && e.target.closest('a[href]');
    if (!a || a.target || a.hasAttribute('download')) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin) return;
    // In-page anchors (the skip link): move focus to the target ourselves, because a fragment
    // navigation would fire popstate and re-render the view.
    if (url.hash && url.pathname === location.pathname && url.search === location.search) {
      const target = document.getElementById(decodeURIComponent(url.hash.slice(1)));
      if (target) {
        e.preventDefault();
        if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
        target.focus();
        target.scrollIntoView({ block: 'start' });
      }
      return;
    }
    if (!url.pathname.startsWith(`${BASE}/`)) return;
    e.preventDefault();
    if (url.pathname + url.search !== location.pathname + location.search) navigate(url.pathname + url.search);
  });
  render();
}
