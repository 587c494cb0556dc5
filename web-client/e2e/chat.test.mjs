// Two real Chromium users chat through the demo page against the real relay jar.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, newUser, startRelay, suiteOptions, until } from './harness.mjs';

const opts = suiteOptions();

/** Opens the demo as a new user; resolves once it joined `room`. */
async function openDemo(browser, relay, room, query = {}) {
  const user = await newUser(browser, relay);
  const q = new URLSearchParams({ room, ice: 'loopback', ...query });
  await user.page.goto(`/?${q}`);
  await user.page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
  return user;
}

async function type(page, text) {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
}

/** The rows the page shows, in screen order: {cid, body, path, seq}. */
function rows(page) {
  return page.$$eval('#canvas .row', els => els
    .map(el => ({ top: new DOMMatrix(getComputedStyle(el).transform).m42, cid: el.dataset.cid,
      body: el.firstChild.textContent, path: el.dataset.path, seq: el.dataset.seq }))
    .sort((a, b) => a.top - b.top)
    .map(({ top, ...row }) => row));
}

async function waitForRow(page, body, timeout = 15_000) {
  await page.waitForFunction(b => [...document.querySelectorAll('#canvas .row')].some(r => r.firstChild.textContent === b),
    body, { timeout, polling: 50 });
  return (await rows(page)).find(r => r.body === body);
}

/** How the demo currently reaches `peerUser` in the shown room: 'p2p'|'turn'|'relay'|'connecting'. */
function peerPath(page) {
  return page.$eval('#peers', ul => ul.firstElementChild?.dataset.path ?? null);
}

describe('chat in Chromium', opts, () => {
  let relay;
  let browser;

  before(async () => {
    relay = await startRelay();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await relay?.stop();
  });

  test('two browsers chat over a DataChannel; the server stores the message once, from the sync batch', async () => {
    const room = 'e2e-p2p';
    // A long upload delay and sync interval: while they run the server has never seen the message,
    // so Bob can only have received it over the DataChannel.
    const alice = await openDemo(browser, relay, room, { sync: '600000', seqDelay: '600000' });
    const bob = await openDemo(browser, relay, room);
    await until(alice.page, () => document.querySelector('#peers li')?.dataset.path === 'p2p', null, 20_000);
    await until(bob.page, () => document.querySelector('#peers li')?.dataset.path === 'p2p', null, 20_000);

    await type(alice.page, '안녕 over the DataChannel 👋');
    const got = await waitForRow(bob.page, '안녕 over the DataChannel 👋');
    assert.equal(got.path, 'p2p');
    assert.equal((await relay.history(room)).messages.length, 0, 'the server has not seen it yet');
    const stats = await bob.page.evaluate(() => globalThis.switchboardDemo.client.stats());
    assert.equal(stats.received.p2p, 1);
    assert.equal(stats.received.relay, 0);

    await alice.page.evaluate(() => globalThis.switchboardDemo.client.sync());
    await until(alice.page, cid => globalThis.switchboardDemo.rooms.get('e2e-p2p').room.messages
      .find(m => m.cid === cid)?.status === 'stored', got.cid);
    const stored = (await relay.history(room)).messages;
    assert.deepEqual(stored.map(m => [m.cid, m.body]), [[got.cid, '안녕 over the DataChannel 👋']]);
    // Bob learns the seq from the server's fanout of the batch, without a second row.
    await until(bob.page, () => document.querySelector('#canvas .row')?.dataset.seq === '1');
    assert.equal((await rows(bob.page)).length, 1);
    await alice.context.close();
    await bob.context.close();
  });

  test('P2P blocked: the same chat works over the relay and the failed attempt is reported', async () => {
    // A relay of its own: outcomes count once per pair of client addresses and learning window, and
    // every browser here is 127.0.0.1, whose pair the first test already counted on the shared relay.
    const relay = await startRelay();
    const room = 'e2e-blocked';
    const alice = await openDemo(browser, relay, room, { ice: 'none', p2pTimeout: '1500' });
    const bob = await openDemo(browser, relay, room, { ice: 'none', p2pTimeout: '1500' });
    // Steered to p2p (both profiled, loopback), yet no candidate ever reaches the other side: the
    // attempt times out and the pair falls back to the relay.
    for (const u of [alice, bob]) {
      await until(u.page, r => {
        const peer = globalThis.switchboardDemo.rooms.get(r)?.room?.peers()[0];
        return peer?.mode === 'p2p' && peer.path === 'relay';
      }, room, 20_000);
    }
    await type(alice.page, 'over the relay');
    const got = await waitForRow(bob.page, 'over the relay');
    assert.equal(got.path, 'relay');
    await type(bob.page, 'and back');
    assert.equal((await waitForRow(alice.page, 'and back')).path, 'relay');
    const stats = await alice.page.evaluate(() => globalThis.switchboardDemo.client.stats());
    assert.deepEqual([stats.sent.p2p, stats.sent.relay], [0, 1]);
    const steering = await relay.admin('/steering');
    const counted = steering.pairs.find(p => p.steered === 'p2p');
    assert.equal(counted?.totals.relay, 1, JSON.stringify(steering));
    await alice.context.close();
    await bob.context.close();
    await relay.stop();
  });

  test('offline: five messages written offline arrive once each, in order, and are stored once', async () => {
    const room = 'e2e-offline';
    const alice = await openDemo(browser, relay, room, { p2p: 'off' });
    const bob = await openDemo(browser, relay, room, { p2p: 'off' });
    // Bob's room showed before its joined came in: Alice, in that joined's peers, is drawn too.
    await until(bob.page, () => document.querySelectorAll('#peers li').length === 1);
    await alice.context.setOffline(true);
    await alice.page.waitForSelector('#banner:not([hidden])');
    const bodies = [1, 2, 3, 4, 5].map(i => `offline ${i} 오프라인`);
    for (const body of bodies) await type(alice.page, body);
    await waitForRow(alice.page, bodies[4]);
    const shown = await rows(alice.page);
    assert.deepEqual(shown.map(r => r.body), bodies, 'shown at once');
    assert.ok(shown.every(r => r.seq === ''), 'none has a seq while offline');
    await alice.context.setOffline(false);
    for (const body of bodies) await waitForRow(bob.page, body, 30_000);
    assert.deepEqual((await rows(bob.page)).map(r => r.body), bodies);
    await until(alice.page, () => [...document.querySelectorAll('#canvas .row')].every(r => r.dataset.meta.endsWith('✓✓')));
    const stored = (await relay.history(room)).messages;
    assert.deepEqual(stored.map(m => m.body), bodies);
    assert.deepEqual(stored.map(m => m.seq), [1, 2, 3, 4, 5]);
    await alice.context.close();
    await bob.context.close();
  });

  test('rooms: the hash or the field picks the room, never lobby; leave takes it off for good', async () => {
    const { context, page } = await newUser(browser, relay);
    const joined = () => page.evaluate(() => [...globalThis.switchboardDemo.client.rooms.keys()].sort());
    const listed = () => page.$$eval('#rooms li', els => els.map(el => el.dataset.room));
    const current = () => page.evaluate(() => ({ title: document.getElementById('room-title').textContent, hash: location.hash }));
    await page.goto('/?p2p=off#e2e-rooms-a');
    await page.waitForSelector('body[data-ready="true"]');
    assert.deepEqual(await joined(), ['e2e-rooms-a'], 'the hash chose the room; lobby was not joined');
    assert.deepEqual(await listed(), ['e2e-rooms-a']);
    // The field joins another room and shows it; both are listed.
    await page.fill('#join-room', 'e2e-rooms-b');
    await page.press('#join-room', 'Enter');
    await until(page, () => document.getElementById('room-title').textContent === 'e2e-rooms-b');
    assert.deepEqual(await current(), { title: 'e2e-rooms-b', hash: '#e2e-rooms-b' });
    await until(page, () => globalThis.switchboardDemo.client.rooms.get('e2e-rooms-b')?.joined === true);
    assert.deepEqual(await listed(), ['e2e-rooms-a', 'e2e-rooms-b']);
    // Editing the hash switches back, without joining anything else.
    await page.evaluate(() => { location.hash = 'e2e-rooms-a'; });
    await until(page, () => document.getElementById('room-title').textContent === 'e2e-rooms-a');
    assert.deepEqual(await joined(), ['e2e-rooms-a', 'e2e-rooms-b']);
    // Leave: off the list, out of the client, the other room shown.
    await page.click('#leave');
    await until(page, () => document.querySelectorAll('#rooms li').length === 1);
    assert.deepEqual(await listed(), ['e2e-rooms-b']);
    assert.deepEqual(await joined(), ['e2e-rooms-b']);
    assert.deepEqual(await current(), { title: 'e2e-rooms-b', hash: '#e2e-rooms-b' });
    // A reload brings back what is listed, and neither the left room nor lobby.
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    await until(page, () => globalThis.switchboardDemo.client.rooms.get('e2e-rooms-b')?.joined === true);
    assert.deepEqual(await joined(), ['e2e-rooms-b']);
    assert.deepEqual(await listed(), ['e2e-rooms-b']);
    // Leaving the last room leaves none, also after a reload.
    await page.click('#leave');
    await until(page, () => document.querySelectorAll('#rooms li').length === 0);
    assert.equal(await page.isHidden('#leave'), true);
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForSelector('#conn[data-state="open"]');
    assert.deepEqual(await joined(), []);
    assert.deepEqual(await listed(), []);
    await context.close();
  });

  test('the reconnect banner pushes the page down: it covers neither header nor composer', async () => {
    const alice = await openDemo(browser, relay, 'e2e-banner', { p2p: 'off' });
    const boxes = () => alice.page.evaluate(() => Object.fromEntries(['#banner', '.brand', '.chat-head', '.composer', '#viewport']
      .map(sel => [sel, document.querySelector(sel).getBoundingClientRect().toJSON()])));
    await alice.page.waitForSelector('#banner', { state: 'hidden' }); // connected
    const before = await boxes();
    await alice.context.setOffline(true);
    await alice.page.waitForSelector('#banner:not([hidden])');
    const b = await boxes();
    const banner = b['#banner'];
    assert.ok(banner.height > 0, JSON.stringify(banner));
    for (const sel of ['.brand', '.chat-head', '.composer', '#viewport']) {
      const box = b[sel];
      assert.ok(box.top >= banner.bottom - 0.5, `${sel} ${JSON.stringify(box)} under the banner ${JSON.stringify(banner)}`);
    }
    // The composer stays on screen (the app shrank by the banner's height instead of overflowing).
    const height = await alice.page.evaluate(() => innerHeight);
    assert.ok(b['.composer'].bottom <= height + 0.5, JSON.stringify(b['.composer']));
    assert.ok(Math.abs(b['.chat-head'].top - before['.chat-head'].top - banner.height) < 1);
    await alice.context.setOffline(false);
    await alice.page.waitForSelector('#banner', { state: 'hidden' });
    assert.equal((await boxes())['.chat-head'].top, before['.chat-head'].top);
    await alice.context.close();
  });

  test('reload: history shows from IndexedDB before the network answers', async () => {
    const room = 'e2e-reload';
    const alice = await openDemo(browser, relay, room, { p2p: 'off' });
    const bodies = ['first', 'second', 'third'];
    for (const body of bodies) await type(alice.page, body);
    await until(alice.page, () => [...document.querySelectorAll('#canvas .row')].every(r => r.dataset.meta.endsWith('✓✓')));
    // The socket is now answered by nobody: whatever shows comes from the page's own cache.
    await alice.page.routeWebSocket(/\/ws$/, () => {});
    await alice.page.reload();
    for (const body of bodies) await waitForRow(alice.page, body, 10_000);
    assert.notEqual(await alice.page.$eval('#conn', el => el.dataset.state), 'open');
    await alice.context.close();
  });

  test('reload: own messages render as mine (right side, "me", ✓✓) from the cache and after welcome', async () => {
    const room = 'e2e-reload-mine';
    const alice = await openDemo(browser, relay, room, { p2p: 'off' });
    const bodies = ['mine 1', 'mine 2'];
    for (const body of bodies) await type(alice.page, body);
    await until(alice.page, () => [...document.querySelectorAll('#canvas .row')].every(r => r.dataset.meta.endsWith('✓✓')));
    const mine = () => alice.page.$$eval('#canvas .row', els => els.map(el => ({
      mine: el.classList.contains('mine'), meta: el.dataset.meta,
      right: el.querySelector('.bubble').getBoundingClientRect().right > el.getBoundingClientRect().width / 2 })));
    // Nobody answers the socket: the rows come from the cache, before any welcome.
    await alice.page.routeWebSocket(/\/ws$/, () => {});
    await alice.page.reload();
    for (const body of bodies) await waitForRow(alice.page, body, 10_000);
    assert.notEqual(await alice.page.$eval('#conn', el => el.dataset.state), 'open');
    for (const row of await mine()) {
      assert.ok(row.mine && row.right, JSON.stringify(row));
      assert.match(row.meta, /^me · .*✓✓$/);
    }
    // And once the server said who we are (the issue saw them as someone else's 8 s later).
    const url = alice.page.url();
    await alice.page.close();
    alice.page = await alice.context.newPage(); // a page without the route, same profile
    await alice.page.goto(url);
    await alice.page.waitForSelector('#conn[data-state="open"]', { timeout: 20_000 });
    for (const body of bodies) await waitForRow(alice.page, body, 10_000);
    for (const row of await mine()) {
      assert.ok(row.mine && row.right, JSON.stringify(row));
      assert.match(row.meta, /^me · .*✓✓$/);
    }
    await alice.context.close();
  });

  test('an HTML or script body renders inert, as text', async () => {
    const room = 'e2e-html';
    const alice = await openDemo(browser, relay, room, { p2p: 'off' });
    const bob = await openDemo(browser, relay, room, { p2p: 'off' });
    const evil = '<img src=x onerror="window.__pwned=1"><b>bold</b><script>window.__pwned=2</script>';
    await type(alice.page, evil);
    const got = await waitForRow(bob.page, evil);
    assert.equal(got.body, evil);
    for (const page of [alice.page, bob.page]) {
      assert.equal(await page.$$eval('#canvas img, #canvas b, #canvas script', els => els.length), 0);
      assert.equal(await page.evaluate(() => globalThis.__pwned), undefined);
    }
    await alice.context.close();
    await bob.context.close();
  });
});
