// Failover in Chromium (issue 15): two relays on one Postgres, the SDK given both URLs. Relay A is
// killed with SIGKILL; both users move to relay B, which takes the room over once A's lease runs
// out (leaseMs 1000 here, default 15000), and resume: nothing acked stored is lost, a message
// written while no relay answered is sent from the outbox, and both screens end equal to B's
// history. The page is served by this test (the relays' pages allow connections to their own
// origin only), with the SDK bundled from src/ by esbuild.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { build } from 'esbuild';
import { launchBrowser, startRelay, suiteOptions, until } from './harness.mjs';

const opts = suiteOptions();
const ROOM = 'e2e-failover';
const LEASE_MS = 1000;
const SECRET = 'e2e-failover-shared-secret';

/** Serves a blank page and the SDK bundle on a free loopback port. */
async function startPageServer() {
  const bundle = await build({
    entryPoints: [join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../src/index.js')],
    bundle: true, format: 'esm', target: 'es2022', write: false, logLevel: 'warning',
  });
  const sdk = bundle.outputFiles[0].contents;
  const server = createServer((req, res) => {
    if (req.url === '/sdk.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(sdk);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>failover</title>');
    }
  });
  await new Promise(r => server.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${server.address().port}`, close: () => new Promise(r => server.close(r)) };
}

async function freePort() {
  const s = createServer();
  await new Promise(r => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise(r => s.close(r));
  return port;
}

describe('failover between two relays in Chromium', opts, () => {
  let db;
  let relayA;
  let relayB;
  let pages;
  let browser;

  before(async () => {
    // The shared Postgres: a third relay's embedded one (a relay on DATABASE_URL never takes a room
    // over from a live owner; one on the embedded database would). Nobody connects to this relay.
    const pgPort = await freePort();
    db = await startRelay({ SWITCHBOARD_STORE_EMBEDDED_PORT: String(pgPort), SWITCHBOARD_P2P_ENABLED: 'false' });
    const password = readFileSync(join(db.dataDir, 'pg-password'), 'utf8').trim();
    const shared = {
      DATABASE_URL: `postgres://postgres:${password}@127.0.0.1:${pgPort}/postgres`,
      SWITCHBOARD_STORE_LEASE_MS: String(LEASE_MS), SWITCHBOARD_SECRET: SECRET, SWITCHBOARD_P2P_ENABLED: 'false',
    };
    [relayA, relayB] = await Promise.all([startRelay(shared), startRelay(shared)]);
    pages = await startPageServer();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await pages?.close();
    await Promise.all([relayA?.stop(), relayB?.stop()]);
    await db?.stop();
  });

  /** A user whose page connected with [A, B] and joined the room. */
  async function user() {
    const context = await browser.newContext({ baseURL: pages.base });
    const page = await context.newPage();
    page.on('pageerror', err => console.error('[page error]', err));
    await page.goto('/');
    await page.evaluate(async ({ urls, room }) => {
      const { connect } = await import('/sdk.js');
      const client = await connect(urls, { p2p: false });
      const joined = await client.join(room);
      window.t = { client, room: joined, messages: () => joined.messages.map(m => ({ body: m.body, seq: m.seq, status: m.status })) };
    }, { urls: [relayA.ws, relayB.ws], room: ROOM });
    return page;
  }

  test('the relay in use is killed: both users resume on the other, nothing acked stored is lost', async () => {
    const alice = await user();
    const bob = await user();
    assert.equal(await alice.evaluate(() => window.t.client.url), relayA.ws);
    for (const body of ['one', 'two', 'three']) {
      await alice.evaluate(async b => {
        const m = await window.t.room.send(b);
        await new Promise(r => { const off = window.t.room.on('update', u => { if (u.cid === m.cid && u.status === 'stored') { off(); r(); } }); if (m.status === 'stored') r(); });
      }, body);
    }
    await until(bob, () => window.t.messages().length === 3);

    const killedAt = Date.now();
    await relayA.kill9();
    await until(alice, () => window.t.client.state !== 'open');
    // written while no relay answers: it waits in the outbox and goes out on B
    await alice.evaluate(() => window.t.room.send('written during the failover'));
    // caught up: on B, the room joined again, holding the three and the new one, each with its seq
    const caughtUp = url => window.t.client.url === url && window.t.room.joined
      && window.t.messages().length === 4 && window.t.messages().every(m => m.seq !== null);
    await Promise.all([until(alice, caughtUp, relayB.ws, 20_000), until(bob, caughtUp, relayB.ws, 20_000)]);
    const catchUpMs = Date.now() - killedAt;
    await until(alice, () => window.t.room.messages.every(m => m.status === 'stored'));

    const history = await relayB.history(ROOM, '?limit=50');
    const stored = history.messages.map(m => `${m.seq} ${m.body}`);
    assert.deepEqual(history.messages.map(m => m.body), ['one', 'two', 'three', 'written during the failover']);
    for (const page of [alice, bob]) {
      assert.equal(await page.evaluate(() => window.t.client.url), relayB.ws);
      assert.deepEqual((await page.evaluate(() => window.t.messages())).map(m => `${m.seq} ${m.body}`), stored);
    }
    console.log(`failover in Chromium: leaseMs ${LEASE_MS}, both users caught up on B ${catchUpMs} ms after the kill`);
  });
});
