// Shared helpers for the k6 scripts in this folder.
//
// Every script measures only the requests it tags `phase: main` (setup traffic is excluded), and
// computes throughput over the measured window: from the start of the first main iteration to the
// end of the last one (k6's own `rate` divides by the whole run, setup included).
import { Counter, Trend } from 'k6/metrics';

export const windowTs = new Trend('window_ts'); // Date.now() at each iteration's start and end
export const resp503 = new Counter('resp_503');
export const resp4xx = new Counter('resp_4xx');
export const resp5xx = new Counter('resp_5xx_other');
export const respNet = new Counter('resp_network_error');
export const bodyBytes = new Counter('body_bytes'); // Content-Length of timed 2xx responses
export const resp2xx = new Counter('resp_2xx_with_length'); // the responses body_bytes counts

export function env(name, def) {
  const v = __ENV[name];
  return v === undefined || v === '' ? def : v;
}

export function intEnv(name, def) {
  const v = parseInt(env(name, String(def)), 10);
  if (!Number.isFinite(v)) throw new Error(`${name} must be an integer`);
  return v;
}

// BASE_URL must point at the loopback interface: these scripts never load anything else.
export function baseUrl() {
  const u = env('BASE_URL', 'http://127.0.0.1:8080').replace(/\/+$/, '');
  assertLoopback(u);
  return u;
}

export function assertLoopback(u) {
  const m = /^https?:\/\/([^/:?#]+)(:\d+)?(\/|\?|$)/.exec(u);
  if (!m || m[1] !== '127.0.0.1') {
    throw new Error(`refusing to load ${u}: only http(s)://127.0.0.1 targets are allowed`);
  }
}

export function authHeader() {
  const a = env('AUTH', '');
  if (!/^ApiKey ck_[^:]+:cs_.+$/.test(a)) {
    throw new Error('AUTH must be an "ApiKey ck_..:cs_.." header value');
  }
  return a;
}

export function list(name, sep) {
  return env(name, '')
    .split(sep || ',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

// Options shared by every script: a bounded constant-VU scenario plus always-passing thresholds,
// which make k6 keep the `phase:main` sub-metrics that handleSummary reads.
export function options(defaultVus, extraThresholds) {
  const thresholds = {
    'http_req_duration{phase:main}': ['max>=0'],
    'http_req_failed{phase:main}': ['rate>=0'],
    'http_reqs{phase:main}': ['count>=0'],
  };
  for (const k of extraThresholds || []) thresholds[k] = k.startsWith('http_req_failed') ? ['rate>=0'] : k.startsWith('http_req_duration') ? ['max>=0'] : ['count>=0'];
  return {
    scenarios: {
      main: {
        executor: 'constant-vus',
        vus: intEnv('VUS', defaultVus),
        duration: env('DURATION', '20s'),
        gracefulStop: env('GRACEFUL_STOP', '10s'),
      },
    },
    setupTimeout: env('SETUP_TIMEOUT', '120s'),
    summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(50)', 'p(90)', 'p(95)', 'p(99)'],
    thresholds,
    noConnectionReuse: false,
    userAgent: 'img-cloud-loadtest/k6',
  };
}

// Counts a response by status class; returns true for 2xx.
export function tally(res) {
  const s = res.status;
  if (s >= 200 && s < 300) {
    const cl = parseInt(res.headers['Content-Length'] || '', 10);
    if (Number.isFinite(cl)) {
      bodyBytes.add(cl);
      resp2xx.add(1);
    }
  }
  if (s === 0) respNet.add(1);
  else if (s === 503) resp503.add(1);
  else if (s >= 500) resp5xx.add(1);
  else if (s >= 400) resp4xx.add(1);
  return s >= 200 && s < 300;
}

export function markStart() {
  windowTs.add(Date.now());
}
export const markEnd = markStart;

function metricVals(data, name) {
  const m = data.metrics[name];
  return m ? m.values : {};
}

function round(x, d) {
  if (x === undefined || x === null || !Number.isFinite(x)) return null;
  const f = Math.pow(10, d);
  return Math.round(x * f) / f;
}

// Builds the compact result object for a set of tagged sub-metrics (default: phase:main).
export function stats(data, sel) {
  const s = sel || 'phase:main';
  const w = metricVals(data, 'window_ts');
  const windowS = w.max && w.min ? (w.max - w.min) / 1000 : null;
  const reqs = metricVals(data, `http_reqs{${s}}`).count || 0;
  const dur = metricVals(data, `http_req_duration{${s}}`);
  const failed = metricVals(data, `http_req_failed{${s}}`);
  // body_bytes is only added for timed requests (tally), so it needs no tag selection.
  const received = sel ? null : metricVals(data, 'body_bytes').count || 0;
  const counted = sel ? 0 : metricVals(data, 'resp_2xx_with_length').count || 0;
  return {
    requests: reqs,
    window_s: round(windowS, 3),
    rps: windowS ? round(reqs / windowS, 1) : null,
    p50_ms: round(dur['p(50)'], 2),
    p95_ms: round(dur['p(95)'], 2),
    p99_ms: round(dur['p(99)'], 2),
    avg_ms: round(dur.avg, 2),
    max_ms: round(dur.max, 2),
    error_rate: round(failed.rate || 0, 5),
    errors: failed.passes || 0, // for a Rate metric, "passes" counts true values, i.e. failed requests
    body_mb_s: windowS && received !== null ? round(received / windowS / 1e6, 2) : null,
    mean_body_bytes: counted ? round(received / counted, 0) : null,
  };
}

export function statusCounts(data) {
  const c = (n) => (data.metrics[n] ? data.metrics[n].values.count : 0);
  return { s503: c('resp_503'), s4xx: c('resp_4xx'), s5xx_other: c('resp_5xx_other'), network: c('resp_network_error') };
}

export function fmt(name, st) {
  return (
    `${name}: ${st.rps} req/s over ${st.window_s}s (${st.requests} reqs), ` +
    `p50 ${st.p50_ms} ms, p95 ${st.p95_ms} ms, p99 ${st.p99_ms} ms, ` +
    `errors ${(100 * st.error_rate).toFixed(2)}% (${st.errors})`
  );
}

// Standard handleSummary: prints compact line(s) and writes JSON to __ENV.SUMMARY when set.
export function summarize(data, name, defaultVus, extra) {
  const st = stats(data);
  const out = Object.assign(
    {
      scenario: name,
      label: env('LABEL', name),
      base_url: env('BASE_URL', ''),
      vus: intEnv('VUS', defaultVus),
      duration: env('DURATION', '20s'),
      status_counts: statusCounts(data),
    },
    st,
    extra || {},
  );
  let text = fmt(out.label, st);
  const sc = out.status_counts;
  if (sc.s503 || sc.s4xx || sc.s5xx_other || sc.network) {
    text += ` [503: ${sc.s503}, 4xx: ${sc.s4xx}, other 5xx: ${sc.s5xx_other}, network: ${sc.network}]`;
  }
  if (out.lines) {
    text += '\n' + out.lines.join('\n');
    delete out.lines;
  }
  const res = { stdout: text + '\n' };
  const path = env('SUMMARY', '');
  if (path) res[path] = JSON.stringify(out, null, 2);
  return res;
}
