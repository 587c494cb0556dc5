// Issue 17, "order that does not jump": two Chromium users on real DataChannels type alternately
// every 0.5 s. Each page renders room.messages into a list on every change and logs the rendered
// order with a timestamp. Both must end with the stored order, stored times must be the send times,
// and no message may move once it has been on screen for 300 ms. (With the 2 s sync batch a message
// got its seq up to 2 s late and the other side's later message could be sequenced first.)
//
// A second test runs the same exchange with p2p:false and prints what P2P saves the relay: frames and
// bytes in both directions of each WebSocket (counted in the pages), the relay's own frame counters
// from /metrics, and the DataChannel bytes (RTCPeerConnection stats). Over P2P the relay fans out no
// msg (the peers named in batch.to get a bodiless seqs frame). A third test measures a room of three.
//
// Network: only 127.0.0.1 candidates are signalled (ice filter in the page), no mDNS (harness.mjs).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, startRelay, suiteOptions, until } from './harness.mjs';

const opts = suiteOptions();
const MESSAGES = 20;
const EVERY_MS = 500;
const SETTLE_MS = 300;
const RELAY_EVERY_MS = 100;
/** Three users over P2P: each message still its own upload (well over p2pSeqDelayMs apart). */
const THREE_EVERY_MS = 250;
const BODIES = ['hello', 'hi', '안녕', '<img src=x>', 'multi\nline', '👋 back', 'ok', '좋아요'];

/**
 * Opens a page on the relay's origin with the SDK connected (p2p on or off) and joined to `room`.
 * The page keeps `globalThis.o`: the room, a log of rendered orders, sends, and traffic counters.
 */
async function openUser(browser, relay, room, { p2p }) {
  const context = await browser.newContext({ baseURL: relay.base });
  await context.grantPermissions(['camera', 'microphone'], { origin: relay.base });
  const page = await context.newPage();
  page.on('pageerror', err => console.error('[page error]', err));
  await page.goto('/sdk/switchboard.js');
  await page.evaluate(async ({ ws, room, p2p }) => {
    const sdk = await import('/sdk/switchboard.js');
    const utf8 = new TextEncoder();
    const traffic = { out: { frames: 0, bytes: 0, types: {} }, in: { frames: 0, bytes: 0, types: {} } };
    const count = (dir, text) => {
      const c = traffic[dir];
      c.frames++;
      c.bytes += utf8.encode(text).length;
      const t = JSON.parse(text).t;
      c.types[t] = (c.types[t] ?? 0) + 1;
    };
    class CountedSocket extends WebSocket {
      constructor(url, protocols) {
        super(url, protocols);
        this.addEventListener('message', e => typeof e.data === 'string' && count('in', e.data));
      }

      send(text) {
        count('out', text);
        super.send(text);
      }
    }
    const pcs = [];
    class WatchedPc extends RTCPeerConnection {
      constructor(config) {
        super(config);
        pcs.push(this);
      }
    }
    const client = await sdk.connect(ws, {
      storage: 'memory', p2p, WebSocket: CountedSocket, RTCPeerConnection: WatchedPc,
      iceCandidateFilter: c => !c.candidate || / 127\.0\.0\.1 /.test(c.candidate),
    });
    const r = await client.join(room);
    // The "screen": the window's items rendered in order; every rendered change is logged.
    const list = document.createElement('ol');
    document.body.replaceChildren(list);
    const log = [];
    const render = () => {
      list.replaceChildren(...r.messages.map(m => {
        const li = document.createElement('li');
        li.dataset.cid = m.cid;
        li.textContent = m.body;
        return li;
      }));
      const order = [...list.children].map(li => li.dataset.cid);
      if (log.at(-1)?.order.join() !== order.join()) log.push({ t: performance.now(), order });
    };
    r.on('window', render);
    r.on('update', render);
    const sent = [];
    // How long after its send each own message learned its seq (what the quick upload buys).
    r.on('update', m => {
      const s = m.mine && m.seq != null && sent.find(x => x.cid === m.cid && x.seqMs === undefined);
      if (s) s.seqMs = Date.now() - s.at;
    });
    const dataChannelBytes = async () => {
      const total = { bytesSent: 0, bytesReceived: 0, messagesSent: 0, messagesReceived: 0 };
      for (const pc of pcs) {
        if (pc.connectionState === 'closed') continue;
        for (const s of (await pc.getStats()).values()) {
          if (s.type !== 'data-channel') continue;
          for (const k of Object.keys(total)) total[k] += s[k] ?? 0;
        }
      }
      return total;
    };
    globalThis.o = {
      client, room: r, log, sent, traffic, dataChannelBytes,
      async send(body) {
        const at = Date.now();
        const m = await r.send(body);
        sent.push({ cid: m.cid, at, path: m.path });
        return { cid: m.cid, path: m.path };
      },
      snapshot: () => JSON.parse(JSON.stringify(traffic)),
    };
  }, { ws: relay.ws, room, p2p });
  return { context, page };
}

/** The users send MESSAGES in turn, one every `everyMs`; resolves with what each send returned. */
async function exchange(users, everyMs) {
  const sends = [];
  const start = Date.now();
  for (let i = 0; i < MESSAGES; i++) {
    await sleep(Math.max(0, start + i * everyMs - Date.now())); // pacing, as a person types
    const { page } = users[i % users.length];
    sends.push(await page.evaluate(b => globalThis.o.send(b), `${i}: ${BODIES[i % BODIES.length]}`));
  }
  return sends;
}

/** Waits until the page shows every message with a seq and stored. */
function allStored(page) {
  return until(page, n => globalThis.o.room.messages.length === n
    && globalThis.o.room.messages.every(m => m.seq != null && m.status === 'stored'), MESSAGES, 20_000);
}

/** The relay's frame counters: {frames.in by type, msg frames out}. */
async function relayCounters(relay) {
  const text = await relay.admin('/metrics');
  const sum = name => text.split('\n').filter(l => l.startsWith(name)).reduce((s, l) => s + Number(l.split(' ').at(-1)), 0);
  return { framesIn: sum('switchboard_frames_in_total'), msgOut: sum('switchboard_messages_out_total') };
}

const minus = (a, b) => ({
  frames: a.frames - b.frames, bytes: a.bytes - b.bytes,
  types: Object.fromEntries(Object.keys(a.types).map(t => [t, a.types[t] - (b.types[t] ?? 0)]).filter(([, n]) => n > 0)),
});

describe('P2P order in Chromium', opts, () => {
  let relay;
  let browser;
  const users = [];
  const figures = {};

  before(async () => {
    relay = await startRelay();
    browser = await launchBrowser();
  });

  after(async () => {
    for (const u of users) await u.context.close();
    await browser?.close();
    await relay?.stop();
  });

  /** Runs the exchange of `n` users in `room` and records the traffic it caused (after setup). */
  async function run(room, p2p, everyMs, n = 2) {
    const group = [];
    for (let i = 0; i < n; i++) group.push(await openUser(browser, relay, room, { p2p }));
    users.push(...group);
    const path = p2p ? 'p2p' : 'relay';
    for (const { page } of group) {
      await until(page, ({ p, n }) => globalThis.o.room.peers().length === n - 1
        && globalThis.o.room.peers().every(x => x.path === p), { p: path, n }, 20_000);
    }
    const each = fn => Promise.all(group.map(u => u.page.evaluate(fn)));
    const before = await each(() => globalThis.o.snapshot());
    const dcBefore = await each(() => globalThis.o.dataChannelBytes());
    const relayBefore = await relayCounters(relay);
    const sends = await exchange(group, everyMs);
    for (const { page } of group) await allStored(page);
    const afterTraffic = await each(() => globalThis.o.snapshot());
    const dcAfter = await each(() => globalThis.o.dataChannelBytes());
    const relayAfter = await relayCounters(relay);
    const traffic = afterTraffic.map((t, i) => ({ out: minus(t.out, before[i].out), in: minus(t.in, before[i].in) }));
    const dc = dcAfter.map((d, i) => Object.fromEntries(Object.keys(d).map(k => [k, d[k] - dcBefore[i][k]])));
    const sum = f => traffic.reduce((total, t, i) => total + f(t, dc[i]), 0);
    figures[n === 2 ? path : `${path}${n}`] = {
      relayFramesIn: sum(t => t.out.frames),
      relayBytesIn: sum(t => t.out.bytes),
      relayFramesOut: sum(t => t.in.frames),
      relayBytesOut: sum(t => t.in.bytes),
      metricsFramesIn: relayAfter.framesIn - relayBefore.framesIn,
      metricsMsgOut: relayAfter.msgOut - relayBefore.msgOut,
      dataChannelBytesSent: sum((t, d) => d.bytesSent),
      dataChannelMessagesSent: sum((t, d) => d.messagesSent),
      framesInByType: traffic.map(t => t.out.types),
      framesOutByType: traffic.map(t => t.in.types),
    };
    const [alice, bob] = group;
    return { alice, bob, sends };
  }

  test('two users typing alternately every 0.5 s over DataChannels: one stable order, stored at the send times', async () => {
    const room = 'e2e-order';
    const { alice, bob, sends } = await run(room, true, EVERY_MS);
    assert.deepEqual(sends.map(s => s.path), Array(MESSAGES).fill('p2p'), 'every message went over the DataChannel');
    for (const { page } of [alice, bob]) {
      assert.deepEqual(await page.evaluate(() => globalThis.o.client.stats().received),
        { p2p: MESSAGES / 2, turn: 0, relay: 0 }, 'the other side\'s messages all arrived over the DataChannel');
    }

    const stored = (await relay.history(room, '?limit=100')).messages;
    assert.equal(stored.length, MESSAGES);
    // One order everywhere: the stored one, which is the order the users sent in.
    assert.deepEqual(stored.map(m => m.cid), sends.map(s => s.cid), 'stored in send order');
    for (const { page } of [alice, bob]) {
      const shown = await page.$$eval('ol > li', lis => lis.map(li => li.dataset.cid));
      assert.deepEqual(shown, stored.map(m => m.cid), 'the page ends with the stored order');
    }

    // Stored times are the send times (same machine clock here), within ~1 s, and in send order.
    const sentAt = new Map();
    for (const { page } of [alice, bob]) {
      for (const s of await page.evaluate(() => globalThis.o.sent)) sentAt.set(s.cid, s.at);
    }
    for (const m of stored) {
      const diff = m.ts - sentAt.get(m.cid);
      assert.ok(Math.abs(diff) <= 1000, `${m.cid}: stored ts ${m.ts} is ${diff} ms from its send time`);
    }
    const seqMs = [...sentAt.keys()].length && (await Promise.all([alice, bob].map(u => u.page.evaluate(() => globalThis.o.sent))))
      .flat().map(s => s.seqMs).sort((x, y) => x - y);
    console.log(`own message's seq known after (ms): p50 ${seqMs[Math.floor(seqMs.length / 2)]}, max ${seqMs.at(-1)}`);
    for (let i = 1; i < stored.length; i++) {
      assert.ok(stored[i].ts >= stored[i - 1].ts, `stored ts in send order at ${i}: ${stored[i - 1].ts} then ${stored[i].ts}`);
      assert.ok(stored[i].ts - stored[i - 1].ts >= EVERY_MS / 2, `send times kept apart at ${i} (not upload times)`);
    }

    // Nothing on screen moves once shown for 300 ms: a message's row index stays what it was.
    for (const [who, { page }] of [['alice', alice], ['bob', bob]]) {
      const log = await page.evaluate(() => globalThis.o.log);
      const shownAt = new Map();
      const moves = [];
      for (let i = 0; i < log.length; i++) {
        const { t, order } = log[i];
        for (const cid of order) if (!shownAt.has(cid)) shownAt.set(cid, t);
        if (i === 0) continue;
        const prev = log[i - 1].order;
        order.forEach((cid, index) => {
          const was = prev.indexOf(cid);
          if (was !== -1 && was !== index && t - shownAt.get(cid) >= SETTLE_MS) {
            moves.push(`${cid} (${stored.findIndex(m => m.cid === cid)}) row ${was} → ${index} after ${Math.round(t - shownAt.get(cid))} ms`);
          }
        });
      }
      assert.deepEqual(moves, [], `${who}: messages moved after ${SETTLE_MS} ms on screen`);
    }
  });

  test('what P2P saves the relay: the same exchange with p2p:false', async () => {
    assert.ok(figures.p2p, 'runs after the P2P test');
    // Paced faster: over the relay every message costs the same frames whatever the pace (and the
    // suite's time matters); over P2P, 0.5 s apart, each message is its own upload.
    await run('e2e-order-relay', false, RELAY_EVERY_MS);
    const { p2p, relay: viaRelay } = figures;
    assert.equal(viaRelay.dataChannelBytesSent, 0);
    assert.ok(p2p.dataChannelBytesSent > 0);
    assert.equal(p2p.framesInByType.reduce((n, t) => n + (t.send ?? 0), 0), 0, 'P2P messages reach the relay only in batches');
    assert.equal(viaRelay.framesInByType.reduce((n, t) => n + (t.send ?? 0), 0), MESSAGES);
    // The relay sends no body back out: the peers that had a message over the DataChannel get its
    // seq in a seqs frame (one per upload), not a msg.
    assert.equal(p2p.metricsMsgOut, 0, 'no msg fanned out to peers that hold the messages');
    assert.equal(p2p.framesOutByType.reduce((n, t) => n + (t.msg ?? 0), 0), 0);
    assert.equal(p2p.framesOutByType.reduce((n, t) => n + (t.seqs ?? 0), 0), MESSAGES);
    assert.ok(p2p.relayBytesOut < viaRelay.relayBytesOut, 'the relay sends fewer bytes for P2P chat');
    console.log(`P2P savings, ${MESSAGES} messages between 2 users alternately, one every ${EVERY_MS} ms over P2P`
      + ` (${RELAY_EVERY_MS} ms over the relay); traffic after setup:`);
    console.table(Object.fromEntries(['relayFramesIn', 'relayBytesIn', 'relayFramesOut', 'relayBytesOut', 'metricsFramesIn',
      'metricsMsgOut', 'dataChannelBytesSent', 'dataChannelMessagesSent'].map(k => [k, { p2p: p2p[k], relay: viaRelay[k] }])));
    console.log('frames to the relay by type (alice, bob):', JSON.stringify({ p2p: p2p.framesInByType, relay: viaRelay.framesInByType }));
    console.log('frames from the relay by type (alice, bob):', JSON.stringify({ p2p: p2p.framesOutByType, relay: viaRelay.framesOutByType }));
  });

  test('what P2P saves the relay in a room of three', async () => {
    // Each message now has two DataChannel receivers: the relay's saving on the way out doubles.
    await run('e2e-order-3p2p', true, THREE_EVERY_MS, 3);
    await run('e2e-order-3relay', false, RELAY_EVERY_MS, 3);
    const { p2p3, relay3 } = figures;
    assert.equal(p2p3.metricsMsgOut, 0);
    assert.equal(relay3.metricsMsgOut, 2 * MESSAGES);
    assert.ok(p2p3.relayBytesOut < relay3.relayBytesOut, 'the relay sends fewer bytes for P2P chat');
    console.log(`P2P savings, ${MESSAGES} messages among 3 users in turn, one every ${THREE_EVERY_MS} ms over P2P`
      + ` (${RELAY_EVERY_MS} ms over the relay); traffic after setup:`);
    console.table(Object.fromEntries(['relayFramesIn', 'relayBytesIn', 'relayFramesOut', 'relayBytesOut', 'metricsFramesIn',
      'metricsMsgOut', 'dataChannelBytesSent', 'dataChannelMessagesSent'].map(k => [k, { p2p: p2p3[k], relay: relay3[k] }])));
    console.log('frames from the relay by type (3 users):', JSON.stringify({ p2p: p2p3.framesOutByType, relay: relay3.framesOutByType }));
  });
});
