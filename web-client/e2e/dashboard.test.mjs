// The admin port's live dashboard in Chromium, against the real jar with two event loops and an
// admin token: the page loads under its strict CSP with no violation and no console error, its
// charts move while a bounded load of WebSocket clients chats (and settle when they leave), errors
// show by code, and the data stays behind the admin token. SWITCHBOARD_UPDATE_SCREENSHOT=1 also
// writes docs/dashboard.png (always written under web-client/target/).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, startRelay, suiteOptions, until } from './harness.mjs';

const opts = suiteOptions();
const ADMIN_TOKEN = 'e2e-dashboard-token-0123456789';
const CLIENTS = 10;
const SEND_EVERY_MS = 100;
const LOAD_MS = 8000;
const here = dirname(fileURLToPath(import.meta.url));

describe('live dashboard in Chromium', opts, () => {
  let relay;
  let browser;
  let context;
  let page;
  const consoleErrors = [];

  before(async () => {
    relay = await startRelay({ SWITCHBOARD_ADMIN_TOKEN: ADMIN_TOKEN, SWITCHBOARD_EVENT_LOOPS: '2',
      SWITCHBOARD_P2P_ENABLED: 'false' });
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    page = await context.newPage();
    page.on('console', msg => { if (msg.type() === 'error') consoleErrors.push(msg.text()); });
    page.on('pageerror', err => consoleErrors.push(`page error: ${err.message}`));
    await page.addInitScript(() => {
      globalThis.cspViolations = [];
      document.addEventListener('securitypolicyviolation',
        e => globalThis.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await relay?.stop();
  });

  /** The newest values a chart shows (its data-last), or null before the first sample. */
  function latest(id) {
    return page.evaluate(chart => {
      const last = document.getElementById(`panel-${chart}`)?.dataset.last;
      return last ? JSON.parse(last) : null;
    }, id);
  }

  test('data and cluster answer only with the admin token; the page itself holds none', async () => {
    const admin = `http://127.0.0.1:${relay.adminPort}`;
    assert.equal((await fetch(`${admin}/dashboard/data`)).status, 401);
    assert.equal((await fetch(`${admin}/dashboard/data`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status, 401);
    const data = await fetch(`${admin}/dashboard/data`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(data.status, 200);
    assert.ok((await data.json()).samples.length >= 1);
    const html = await fetch(`${admin}/dashboard/`);
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-security-policy'), /default-src 'self'/);
    assert.doesNotMatch(html.headers.get('content-security-policy'), /unsafe/);
  });

  test('without a token the page asks for one, then shows live data', async () => {
    const p = await context.newPage();
    p.on('pageerror', err => console.error('[page error]', err));
    await p.goto(`http://127.0.0.1:${relay.adminPort}/dashboard`);
    await p.waitForSelector('#token-form:not([hidden])');
    assert.equal(await p.textContent('#status'), 'admin token needed');
    await p.fill('#token', ADMIN_TOKEN);
    await p.click('#token-form button');
    await until(p, () => document.getElementById('status').dataset.state === 'live');
    await p.close();
  });

  test('charts move under load, with no CSP violation or console error', async () => {
    await page.goto(`http://127.0.0.1:${relay.adminPort}/dashboard/#token=${ADMIN_TOKEN}`);
    await until(page, () => document.getElementById('status').dataset.state === 'live');
    assert.ok(!page.url().includes('token'), 'the token leaves the address bar');
    await until(page, () => document.getElementById('panel-messages')?.dataset.last);
    const idle = await latest('connections');
    assert.equal(idle.connections, 0);

    // The load: CLIENTS raw WebSockets in one page on the relay's public origin, all in one room,
    // each sending every SEND_EVERY_MS for LOAD_MS; bounded in count and time.
    const load = await context.newPage();
    await load.goto(`${relay.base}/sdk/switchboard.js`);
    const loadDone = load.evaluate(async ({ ws, clients, every, duration }) => {
      const open = url => new Promise((resolveOpen, rejectOpen) => {
        const s = new WebSocket(url);
        const seen = [];
        s.onmessage = e => seen.push(JSON.parse(e.data));
        s.onerror = () => rejectOpen(new Error('socket failed'));
        s.onopen = () => resolveOpen({ s, seen });
      });
      const waitFor = (c, pred) => new Promise(r => {
        const tick = () => (c.seen.some(pred) ? r() : setTimeout(tick, 20));
        tick();
      });
      const socks = [];
      for (let i = 0; i < clients; i++) {
        const c = await open(ws);
        c.s.send(JSON.stringify({ t: 'hello' }));
        await waitFor(c, f => f.t === 'welcome');
        c.s.send(JSON.stringify({ t: 'join', id: 1, room: 'dash-load' }));
        await waitFor(c, f => f.id === 1);
        socks.push(c);
      }
      // an error frame by code: a send to a room this client never joined
      socks[0].s.send(JSON.stringify({ t: 'send', id: 2, room: 'not-joined', cid: 'x', body: 'x' }));
      let n = 0;
      const end = Date.now() + duration;
      while (Date.now() < end) {
        for (const c of socks) c.s.send(JSON.stringify({ t: 'send', room: 'dash-load', cid: `m${n++}`, body: 'load' }));
        await new Promise(r => setTimeout(r, every));
      }
      globalThis.socks = socks;
      return n;
    }, { ws: relay.ws, clients: CLIENTS, every: SEND_EVERY_MS, duration: LOAD_MS });

    const busy = await until(page, clients => {
      const last = id => JSON.parse(document.getElementById(`panel-${id}`)?.dataset.last ?? 'null');
      const c = last('connections');
      const m = last('messages');
      const w = last('writes');
      return c?.connections >= clients && m?.in > 0 && m?.out > m.in && w?.rows > 0 ? { c, m, w } : null;
    }, CLIENTS, 20_000);
    assert.ok(busy.m.in > 0 && busy.m.out > 0, JSON.stringify(busy));
    // the screenshot while the load runs (docs/operations.md shows it)
    mkdirSync(resolve(here, '../target'), { recursive: true });
    await page.screenshot({ path: resolve(here, '../target/dashboard.png'), fullPage: true });
    if (process.env.SWITCHBOARD_UPDATE_SCREENSHOT === '1') {
      await page.screenshot({ path: join(here, '../../docs/dashboard.png'), fullPage: true });
    }
    await until(page, () => [...document.querySelectorAll('#errors td')].some(td => td.textContent === 'not_joined'));
    await until(page, () => JSON.parse(document.getElementById('panel-delivery').dataset.last).p99 > 0);
    const memory = await latest('memory');
    assert.ok(memory['heap used'] > 0 && memory['heap max'] >= memory['heap used'] && memory.RSS > 0, JSON.stringify(memory));
    const lag = await latest('lag');
    assert.ok(lag.p99 != null, JSON.stringify(lag));

    const sent = await loadDone;
    assert.ok(sent > 0);
    await load.evaluate(() => globalThis.socks.forEach(c => c.s.close()));
    // and back: the connections chart follows the clients out, the rate falls to zero
    await until(page, () => {
      const last = id => JSON.parse(document.getElementById(`panel-${id}`).dataset.last);
      return last('connections').connections === 0 && last('messages').in === 0;
    }, undefined, 15_000);
    await load.close();

    assert.deepEqual(await page.evaluate(() => globalThis.cspViolations), []);
    assert.deepEqual(consoleErrors, []);
  });
});

async function freePort() {
  const s = createServer();
  await new Promise(r => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise(r => s.close(r));
  return port;
}

describe('dashboard of a cluster in Chromium', opts, () => {
  let db;
  const relays = [];
  let browser;

  before(async () => {
    // the shared Postgres: a third relay's embedded one, as in failover.test.mjs
    const pgPort = await freePort();
    db = await startRelay({ SWITCHBOARD_STORE_EMBEDDED_PORT: String(pgPort), SWITCHBOARD_P2P_ENABLED: 'false' });
    const password = readFileSync(join(db.dataDir, 'pg-password'), 'utf8').trim();
    const members = [await freePort(), await freePort()];
    relays.push(...await Promise.all(members.map(port => startRelay({
      DATABASE_URL: `postgres://postgres:${password}@127.0.0.1:${pgPort}/postgres`, SWITCHBOARD_P2P_ENABLED: 'false',
      SWITCHBOARD_CLUSTER_MEMBERS: members.map(m => `127.0.0.1:${m}`).join(','), SWITCHBOARD_CLUSTER_PORT: String(port),
    }))));
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await Promise.all(relays.map(r => r.stop()));
    await db?.stop();
  });

  test('the header lists both members, this relay marked', async () => {
    const page = await browser.newPage();
    const errors = [];
    page.on('console', msg => { if (msg.type() === 'error') errors.push(msg.text()); });
    await page.goto(`http://127.0.0.1:${relays[0].adminPort}/dashboard/`);
    const shown = await until(page, () => {
      const items = [...document.querySelectorAll('#members li')];
      return !document.getElementById('cluster').hidden && items.length === 2
        ? items.map(li => li.dataset.self) : null;
    }, undefined, 30_000);
    assert.deepEqual(shown.sort(), ['false', 'true']);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
