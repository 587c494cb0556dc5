// The relay's live dashboard (served on the admin port at /dashboard/): polls /dashboard/data once a
// second and draws the samples with uPlot. No inline script or style anywhere (the page's CSP
// forbids them); the admin token, when the relay has one, is asked for and kept for this tab only.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const POLL_MS = 1000;
const CLUSTER_MS = 5000;
const KEEP = 300; // five minutes, as the relay keeps
const PATHS = ['p2p', 'turn', 'relay'];
const COLORS = ['#1565c0', '#c62828', '#2e7d32', '#ef6c00', '#6a1b9a', '#00838f', '#8d6e63', '#546e7a'];
const MB = 1024 * 1024;

/** Each chart: its series, each read from one sample (null: not known, drawn as a gap). */
const CHARTS = [
  { id: 'connections', title: 'Connections', series: [
    ['connections', s => s.connections], ['rooms loaded', s => s.rooms]] },
  { id: 'messages', title: 'Messages per second', series: [
    ['in', s => s.messagesIn], ['out', s => s.messagesOut]] },
  { id: 'delivery', title: 'Delivery latency (ms, last minute)', series: [
    ['p50', s => s.deliveryP50], ['p99', s => s.deliveryP99]] },
  { id: 'lag', title: 'Event-loop lag (ms, last minute)', series: [
    ['p99', s => s.lagP99], ['max', s => s.lagMax]] },
  { id: 'memory', title: 'Memory (MB)', series: [
    ['heap used', s => mb(s.heapUsed)], ['heap max', s => mb(s.heapMax)], ['RSS', s => mb(s.rss)]] },
  { id: 'pool', title: 'Database pool', series: [
    ['in use', s => s.dbInUse], ['waiting', s => s.dbWaiting]] },
  { id: 'writes', title: 'Write batches per second', series: [
    ['flushes', s => s.flushes], ['rows', s => s.rowsWritten]] },
  { id: 'storage', title: 'Storage breaker and retry queue', series: [
    ['breaker open', s => s.breakerOpen], ['queued', s => s.pending]] },
  { id: 'paths', title: 'P2P path mix (pairs counted)', series: PATHS.map(p => [p, s => s.paths?.[p]?.total ?? 0]) },
];

const state = { token: sessionStorage.getItem('switchboard.adminToken'), after: 0, samples: [], charts: new Map(),
  errorCodes: [] };
const $ = id => document.getElementById(id);

function mb(bytes) {
  return bytes == null ? null : bytes / MB;
}

function panel(id, title) {
  const el = document.createElement('div');
  el.className = 'panel';
  el.id = `panel-${id}`;
  const h = document.createElement('h2');
  const name = document.createElement('span');
  name.textContent = title;
  const latest = document.createElement('span');
  latest.className = 'latest';
  h.append(name, latest);
  el.append(h);
  $('charts').append(el);
  return el;
}

function makeChart(def) {
  const el = state.charts.get(def.id)?.el ?? panel(def.id, def.title);
  state.charts.get(def.id)?.plot.destroy();
  const opts = {
    width: Math.max(300, el.clientWidth - 16),
    height: 180,
    legend: { live: false },
    scales: { x: { time: true }, y: { range: (u, min, max) => [Math.min(0, min ?? 0), Math.max(1, (max ?? 1) * 1.1)] } },
    series: [{}, ...def.series.map(([label], i) => ({ label, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: false }))],
    axes: [{}, { size: 60 }],
  };
  const plot = new uPlot(opts, columns(def), el);
  state.charts.set(def.id, { def, el, plot });
}

function columns(def) {
  const xs = state.samples.map(s => s.t / 1000);
  return [xs, ...def.series.map(([, read]) => state.samples.map(s => num(read(s))))];
}

function num(v) {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Errors by code: a series per code the relay has ever sent, rebuilt when a new one appears. */
function errorsChart() {
  const codes = new Set(state.errorCodes);
  for (const s of state.samples) for (const code of Object.keys(s.errors ?? {})) codes.add(code);
  const sorted = [...codes].sort();
  const def = { id: 'errors', title: 'Errors per second by code', series: sorted.length
    ? sorted.map(code => [code, s => s.errors?.[code]?.rate ?? 0])
    : [['none', () => 0]] };
  if (!state.charts.has('errors') || sorted.join() !== state.errorCodes.join()) {
    state.errorCodes = sorted;
    makeChart(def);
  }
  return def;
}

function render() {
  for (const def of CHARTS) {
    if (!state.charts.has(def.id)) makeChart(def);
    const { plot, el } = state.charts.get(def.id);
    plot.setData(columns(def));
    showLatest(el, def);
  }
  const errors = errorsChart();
  state.charts.get('errors').plot.setData(columns(errors));
  showLatest(state.charts.get('errors').el, errors);
  errorTable();
}

/** The newest values in the panel's title, and as data-last for tests and scripts. */
function showLatest(el, def) {
  const last = state.samples.at(-1);
  if (!last) return;
  const values = Object.fromEntries(def.series.map(([label, read]) => [label, num(read(last))]));
  el.dataset.last = JSON.stringify(values);
  el.querySelector('.latest').textContent = Object.entries(values)
    .map(([label, v]) => `${label} ${v == null ? '–' : round(v)}`).join(' · ');
}

function round(v) {
  return Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 100) / 100;
}

function errorTable() {
  const last = state.samples.at(-1);
  const body = $('errors').tBodies[0];
  body.replaceChildren(...Object.entries(last?.errors ?? {}).map(([code, e]) =>
    row([code, e.rate == null ? '–' : round(e.rate), e.total])));
}

function steeringTable(steering) {
  const body = $('steering').tBodies[0];
  body.replaceChildren(...(steering?.pairs ?? []).map(p => row([p.pair, p.steered,
    p.totals?.p2p ?? 0, p.totals?.turn ?? 0, p.totals?.relay ?? 0,
    p.recent.rate == null ? '–' : `${Math.round(p.recent.rate * 100)} % of ${p.recent.samples}`])));
}

function row(cells) {
  const tr = document.createElement('tr');
  for (const c of cells) {
    const td = document.createElement('td');
    td.textContent = String(c);
    tr.append(td);
  }
  return tr;
}

function setStatus(kind, text) {
  $('status').dataset.state = kind;
  $('status').textContent = text;
}

async function get(path) {
  const headers = state.token ? { authorization: `Bearer ${state.token}` } : {};
  const res = await fetch(path, { headers, cache: 'no-store' });
  if (res.status === 401) {
    const err = new Error('unauthorized');
    err.unauthorized = true;
    throw err;
  }
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

async function poll() {
  try {
    const data = await get(`/dashboard/data?after=${state.after}`);
    for (const s of data.samples) {
      state.samples.push(s);
      state.after = s.seq;
    }
    if (state.samples.length > KEEP) state.samples.splice(0, state.samples.length - KEEP);
    steeringTable(data.steering);
    render();
    setStatus('live', 'live');
  } catch (e) {
    if (e.unauthorized) {
      askToken();
      return; // polling resumes once a token is given
    }
    setStatus('error', `no data: ${e.message}`);
  }
  setTimeout(poll, POLL_MS);
}

async function cluster() {
  try {
    const c = await get('/cluster');
    $('node').textContent = `node ${c.node}`;
    $('cluster').hidden = !c.clustered;
    $('members').replaceChildren(...c.members.map(m => {
      const li = document.createElement('li');
      li.textContent = m.node + (m.port ? ` (:${m.port})` : '');
      li.dataset.self = String(m.self);
      return li;
    }));
  } catch (e) {
    if (e.unauthorized) return; // the data poll asks for the token, then restarts this
    // any other failure: the data poll's status says what is wrong
  }
  setTimeout(cluster, CLUSTER_MS);
}

function askToken() {
  setStatus('unauthorized', 'admin token needed');
  $('token-form').hidden = false;
  $('token').focus();
}

$('token-form').addEventListener('submit', event => {
  event.preventDefault();
  state.token = $('token').value;
  sessionStorage.setItem('switchboard.adminToken', state.token);
  $('token-form').hidden = true;
  poll();
  cluster();
});

// #token=... (a fragment never reaches a server or a log): taken once, then removed from the address
const fromFragment = new URLSearchParams(location.hash.slice(1)).get('token');
if (fromFragment) {
  state.token = fromFragment;
  sessionStorage.setItem('switchboard.adminToken', fromFragment);
  history.replaceState(null, '', location.pathname);
}

window.addEventListener('resize', () => {
  for (const { plot, el } of state.charts.values()) plot.setSize({ width: Math.max(300, el.clientWidth - 16), height: 180 });
});

poll();
cluster();
