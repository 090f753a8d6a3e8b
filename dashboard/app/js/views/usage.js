// Usage: the caller's storage, assets, bandwidth and requests; every user with totals for admins; and 30-day bar charts drawn as inline SVG.

import { api } from '../api.js';
import { h, mount, errorBox, describeError, formatBytes } from '../ui.js';
import { isAdmin } from '../session.js';

const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}, ...children) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) n.setAttribute(k, String(v));
  for (const c of children) if (c !== null && c !== undefined) n.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return n;
}

function figure(label, value, key) {
  return h('div', { class: 'stat', dataset: { stat: key } }, h('div', { class: 'stat-label' }, label), h('div', { class: 'stat-value' }, value));
}

/** Rounds a maximum up to a "nice" axis top (1, 2, 5 × 10^n). */
function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function shortDate(iso) {
  const [, m, d] = iso.split('-').map(Number);
  return new Date(Date.UTC(2000, m - 1, d)).toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
}

/**
 * A bar chart of `days[key]`. Each bar has data-date, a <title> and an aria-label with the exact
 * figure; today's bar (the last, UTC) is highlighted and labelled "today".
 */
function barChart(days, key, { title, fmt, width }) {
  // Drawn at the container's own width so 12px labels stay 12px on a phone.
  const W = Math.round(Math.max(320, Math.min(960, width || 720)));
  const H = W < 500 ? 200 : 240;
  const pad = { l: 64, r: 12, t: 16, b: 44 };
  const iw = W - pad.l - pad.r;
  const ih = H - pad.t - pad.b;
  const max = niceMax(Math.max(0, ...days.map((d) => d[key])));
  const bw = iw / days.length;
  const today = days.length ? days[days.length - 1].date : '';
  const titleId = `chart-${key}-title`;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-labelledby': titleId, 'data-metric': key, preserveAspectRatio: 'xMidYMid meet' },
    s('title', { id: titleId }, `${title}, last ${days.length} days (UTC)`));
  for (const frac of [0, 0.5, 1]) {
    const y = pad.t + ih - frac * ih;
    svg.append(s('line', { x1: pad.l, x2: W - pad.r, y1: y, y2: y, class: 'grid-line' }));
    svg.append(s('text', { x: pad.l - 8, y: y + 4, 'text-anchor': 'end', class: 'axis-label' }, fmt(max * frac)));
  }
  days.forEach((d, i) => {
    const v = d[key];
    const bh = v > 0 ? Math.max(2, (v / max) * ih) : 0;
    const x = pad.l + i * bw + bw * 0.15;
    const isToday = d.date === today;
    const label = `${d.date}${isToday ? ' (today)' : ''}: ${fmt(v)}`;
    const g = s('g', { class: isToday ? 'bar today' : 'bar', 'data-date': d.date, 'data-value': v, role: 'img', 'aria-label': label },
      s('title', {}, label),
      // A full-height transparent hit area keeps empty days hoverable for their tooltip.
      s('rect', { x: pad.l + i * bw, y: pad.t, width: bw, height: ih, class: 'bar-hit' }),
      s('rect', { x, y: pad.t + ih - bh, width: bw * 0.7, height: bh, class: 'bar-fill' }));
    svg.append(g);
    const every = W < 500 ? 14 : 7;
    if (i === 0 || i === days.length - 1 || i % every === 0) {
      if (i !== days.length - 1 && days.length - 1 - i < (W < 500 ? 8 : 4)) return;
      svg.append(s('text', { x: pad.l + i * bw + bw / 2, y: H - pad.b + 18, 'text-anchor': 'middle', class: isToday ? 'axis-label today-label' : 'axis-label' }, isToday ? 'today' : shortDate(d.date)));
    }
  });
  const last = days[days.length - 1];
  return h('figure', { class: 'chart-figure' }, svg,
    h('figcaption', {}, `${title}. Today (${today}): `, h('strong', { class: 'today-value', dataset: { metric: key } }, last ? fmt(last[key]) : '—'),
      `; ${days.length}-day total: ${fmt(days.reduce((a, d) => a + d[key], 0))}.`));
}

export async function render(main) {
  document.title = 'Usage · img-cloud';
  const admin = isAdmin();
  const mine = h('div', { class: 'stats', id: 'my-usage' });
  const charts = h('div', { class: 'charts', id: 'usage-charts' });
  const everyone = h('div', { id: 'all-usage' });
  const scopeAll = h('input', { type: 'checkbox', id: 'chart-all' });
  scopeAll.addEventListener('change', () => loadDaily());

  async function loadSummary() {
    try {
      const u = await api('GET', '/v1/usage/summary');
      mount(mine,
        figure('Storage', formatBytes(u.storage_bytes), 'storage_bytes'),
        figure('Assets', u.asset_count.toLocaleString(), 'asset_count'),
        figure('Bandwidth delivered', formatBytes(u.bandwidth_bytes), 'bandwidth_bytes'),
        figure('Image requests', u.requests.toLocaleString(), 'requests'));
    } catch (e) { mount(mine, errorBox(describeError(e, 'Loading usage'))); }
  }

  let daily = null;
  function drawCharts() {
    if (!daily) return;
    const width = charts.clientWidth;
    mount(charts,
      barChart(daily, 'bandwidth_bytes', { title: 'Bandwidth per day', fmt: formatBytes, width }),
      barChart(daily, 'requests', { title: 'Image requests per day', fmt: (n) => Math.round(n).toLocaleString(), width }));
  }

  async function loadDaily() {
    try {
      const d = await api('GET', '/v1/usage/daily', { query: { days: 30, all: admin && scopeAll.checked ? 'true' : '' } });
      daily = d.days;
      drawCharts();
    } catch (e) { daily = null; mount(charts, errorBox(describeError(e, 'Loading daily usage'))); }
  }

  let lastWidth = 0;
  let resizeTimer = null;
  const onResize = () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (Math.abs(charts.clientWidth - lastWidth) > 40) { lastWidth = charts.clientWidth; drawCharts(); } }, 150);
  };
  window.addEventListener('resize', onResize);

  async function loadAll() {
    try {
      const { users, totals } = await api('GET', '/v1/usage/summary', { query: { all: 'true' } });
      const cols = [['storage_bytes', 'Storage', formatBytes], ['asset_count', 'Assets', (n) => n.toLocaleString()], ['bandwidth_bytes', 'Bandwidth', formatBytes], ['requests', 'Requests', (n) => n.toLocaleString()]];
      mount(everyone, h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
        h('caption', { class: 'visually-hidden' }, 'Usage of every user'),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'User'), cols.map(([, l]) => h('th', { scope: 'col', class: 'num' }, l)))),
        h('tbody', {}, users.map((u) => h('tr', {}, h('th', { scope: 'row', 'data-label': 'User' }, u.email), cols.map(([k, l, f]) => h('td', { class: 'num', 'data-label': l }, f(u[k])))))),
        h('tfoot', {}, h('tr', {}, h('th', { scope: 'row' }, 'Total'), cols.map(([k, l, f]) => h('td', { class: 'num', 'data-label': l }, f(totals[k]))))))));
    } catch (e) { mount(everyone, errorBox(describeError(e, 'Loading everyone\'s usage'))); }
  }

  mount(main,
    h('h1', {}, 'Usage'),
    h('section', { 'aria-labelledby': 'mine-h' }, h('h2', { id: 'mine-h' }, 'Your usage'), mine),
    h('section', { class: 'card', 'aria-labelledby': 'daily-h' },
      h('h2', { id: 'daily-h' }, 'Last 30 days'),
      admin ? h('label', { for: 'chart-all', class: 'check' }, scopeAll, ' Show every user combined') : null,
      charts),
    admin ? h('section', { 'aria-labelledby': 'all-h' }, h('h2', { id: 'all-h' }, 'Every user'), everyone) : null);
  lastWidth = charts.clientWidth;
  await Promise.all([loadSummary(), loadDaily(), admin ? loadAll() : null]);
  return () => { window.removeEventListener('resize', onResize); clearTimeout(resizeTimer); };
}
