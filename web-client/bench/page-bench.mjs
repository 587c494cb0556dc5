// Browser benchmark of the demo chat page in Debian's Chromium against the real relay jar:
// first page of a 10,000-message room from the server and from the IndexedDB cache, the page's JS
// heap above an empty page, DOM nodes while scrolling through all history, and the P2P round trip
// between two tabs. Writes bench/results/browser-<UTC timestamp>.json and prints a summary.
//
//   ./mvnw -q package -DskipTests && node web-client/bench/page-bench.mjs [--messages 10000] [--rounds 200] [--runs 5]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { launchBrowser, missingPrerequisite, newUser, startRelay, until } from '../e2e/harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '200' },
    runs: { type: 'string', default: '5' },
    out: { type: 'string' },
  },
});
const MESSAGES = Number(args.messages);
const ROUNDS = Number(args.rounds);
const RUNS = Number(args.runs);
for (const [name, v] of [['messages', MESSAGES], ['rounds', ROUNDS], ['runs', RUNS]]) {
  if (!Number.isInteger(v) || v < 1 || v > 100_000) {
    console.error(`--${name} must be an integer in 1..100000`);
    process.exit(2);
  }
}
const missing = missingPrerequisite();
if (missing) {
  console.error(`cannot run: ${missing}`);
  process.exit(2);
}

const median = xs => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/**
 * Fills a room through a raw WebSocket in a page (the relay's rate limit is lifted for the bench),
 * a window of sends at a time so neither the storage queue nor the outbound queue overflows.
 */
async function fill(page, ws, room, count) {
  return page.evaluate(async ({ ws, room, count }) => {
    const socket = new WebSocket(ws);
    await new Promise((ok, fail) => { socket.onopen = ok; socket.onerror = fail; });
    const words = ['안녕하세요', 'see you at 7', '점심 뭐 먹을까?', 'ok 👍', 'the build is green again', 'ㅋㅋㅋ', 'meeting moved'];
    let acked = 0;
    let waiting = null;
    const failures = [];
    let joined;
    const isJoined = new Promise(ok => { joined = ok; });
    socket.onmessage = e => {
      const f = JSON.parse(e.data);
      if (f.t === 'joined') joined();
      if (f.t === 'ack' && f.stored) acked++;
      if (f.t === 'error') failures.push(f.code);
      if (waiting && (acked >= waiting.until || failures.length)) waiting.ok();
    };
    socket.onclose = e => failures.push(`closed ${e.code}`);
    socket.send(JSON.stringify({ t: 'hello' }));
    socket.send(JSON.stringify({ t: 'join', room }));
    await isJoined;
    for (let sent = 0; sent < count && failures.length === 0;) {
      const end = Math.min(count, sent + 1000);
      for (let i = sent + 1; i <= end; i++) {
        const body = `${i} ${words[i % words.length]} ${words[(i * 7) % words.length]}`;
        socket.send(JSON.stringify({ t: 'send', room, cid: `fill-${i}`, body }));
      }
      sent = end;
      await new Promise((ok, fail) => {
        waiting = { until: sent, ok };
        if (acked >= sent) ok();
        setTimeout(() => fail(new Error(`fill: ${acked}/${sent} acked after 60 s`)), 60_000);
      });
    }
    socket.close();
    if (failures.length) throw new Error(`fill failed: ${failures.slice(0, 5).join(', ')}`);
    return acked;
  }, { ws, room, count });
}

/** Median round trip of `rounds` ping → pong messages between two tabs over their DataChannel. */
async function roundTrips(where, rounds) {
  const room = `bench-rtt-${where}`;
  const users = [await newUser(browser, relay), await newUser(browser, relay)];
  for (const u of users) {
    if (where === 'demo') {
      await u.page.goto(`/?room=${room}&ice=loopback`);
      await until(u.page, () => document.body.dataset.ready === 'true');
      await u.page.evaluate(r => { globalThis.room = globalThis.switchboardDemo.rooms.get(r).room; }, room);
    } else {
      await u.page.goto('/sdk/switchboard.js');
      await u.page.evaluate(async ({ ws, room }) => {
        const { connect } = await import('/sdk/switchboard.js');
        const client = await connect(ws, { iceCandidateFilter: c => !c.candidate || / 127\.0\.0\.1 /.test(c.candidate) });
        globalThis.room = await client.join(room);
      }, { ws: relay.ws, room });
    }
  }
  for (const u of users) await until(u.page, () => globalThis.room.peers()[0]?.path === 'p2p', null, 30_000);
  const [alice, bob] = users;
  await bob.page.evaluate(() => {
    globalThis.room.on('message', m => { if (m.body.startsWith('ping ')) globalThis.room.send(`pong ${m.body.slice(5)}`); });
  });
  const rtts = await alice.page.evaluate(async rounds => {
    const room = globalThis.room;
    const out = [];
    for (let i = 0; i < rounds; i++) {
      const got = new Promise(ok => {
        const fn = m => { if (m.body === `pong ${i}`) { room.off('message', fn); ok(m); } };
        room.on('message', fn);
      });
      const t0 = performance.now();
      await room.send(`ping ${i}`);
      const m = await got;
      out.push({ ms: performance.now() - t0, path: m.path });
    }
    return out;
  }, rounds);
  const ms = rtts.map(x => x.ms);
  const channelRttMs = await alice.page.evaluate(() => globalThis.room.peers()[0]?.rttMs ?? null);
  for (const u of users) await u.context.close();
  return {
    rounds, paths: [...new Set(rtts.map(x => x.path))], medianMs: round(median(ms), 3), p95Ms: round(pct(ms, 0.95), 3),
    maxMs: round(Math.max(...ms), 3), channelRttMs,
  };
}

async function cdp(page) {
  const session = await page.context().newCDPSession(page);
  await session.send('Performance.enable');
  return {
    async heap() {
      await session.send('HeapProfiler.collectGarbage');
      return (await session.send('Runtime.getHeapUsage')).usedSize;
    },
    async nodes() {
      const { metrics } = await session.send('Performance.getMetrics');
      return metrics.find(m => m.name === 'Nodes').value;
    },
    async gc() {
      await session.send('HeapProfiler.collectGarbage');
    },
  };
}

/** ms from the room being opened to its first page painted, as the demo page measures it. */
async function firstPageMs(page, room) {
  return until(page, r => performance.getEntriesByName(`first-page:${r}`)[0]?.duration, room, 30_000);
}

const relay = await startRelay({ SWITCHBOARD_RATE_FRAMES_PER_SECOND: '1000000', SWITCHBOARD_RATE_BURST: '1000000' });
const browser = await launchBrowser();
const result = { when: new Date().toISOString(), messages: MESSAGES, chromium: browser.version(), runs: RUNS };
try {
  const room = 'bench-history';
  {
    const { context, page } = await newUser(browser, relay);
    await page.goto('/sdk/switchboard.js');
    console.error(`filling ${room} with ${MESSAGES} messages…`);
    await fill(page, relay.ws, room, MESSAGES);
    await context.close();
  }

  console.error('first page from the server and from the cache…');
  // First page from the server: a fresh profile has nothing cached.
  const fromServer = [];
  const fromCache = [];
  for (let run = 0; run < RUNS; run++) {
    const { context, page } = await newUser(browser, relay);
    await page.goto(`/?room=${room}&p2p=off`);
    fromServer.push(await firstPageMs(page, room));
    await until(page, () => document.body.dataset.ready === 'true');
    // Same profile again, with the socket answered by nobody: only the cache can fill the page.
    await page.evaluate(() => globalThis.switchboardDemo.client.flushCache?.());
    await page.routeWebSocket(/\/ws$/, () => {});
    await page.reload();
    fromCache.push(await firstPageMs(page, room));
    await context.close();
  }
  result.firstPage = {
    fromServerMs: { median: round(median(fromServer)), all: fromServer.map(x => round(x)) },
    fromCacheMs: { median: round(median(fromCache)), all: fromCache.map(x => round(x)) },
  };

  // Heap above an empty page, and DOM nodes while scrolling from the newest to the oldest message.
  console.error('heap and DOM nodes while scrolling all history…');
  {
    const { context, page } = await newUser(browser, relay);
    await page.goto('about:blank');
    const blank = await cdp(page);
    const emptyHeap = await blank.heap();
    await page.goto(`/?room=${room}&p2p=off`);
    await until(page, () => document.body.dataset.ready === 'true');
    const probe = await cdp(page);
    const openedHeap = await probe.heap();
    // The renderer's count (Performance.getMetrics, after GC: detached nodes still referenced, such
    // as pooled rows, count too) and the nodes in the document.
    const attachedNodes = () => {
      const walker = document.createTreeWalker(document, NodeFilter.SHOW_ALL);
      let n = 0;
      while (walker.nextNode()) n++;
      return n;
    };
    let maxNodes = await probe.nodes();
    let maxAttached = await page.evaluate(attachedNodes);
    let steps = 0;
    const started = Date.now();
    for (; steps < 10_000 && Date.now() - started < 600_000; steps++) {
      const oldest = await page.evaluate(async r => {
        const demo = globalThis.switchboardDemo;
        const entry = demo.rooms.get(r);
        const viewport = document.getElementById('viewport');
        viewport.scrollTop = 0;
        viewport.dispatchEvent(new Event('scroll'));
        await new Promise(ok => setTimeout(ok, 0));
        if (entry.room.window.hasOlder) await entry.room.loadOlder();
        demo.list.setItems([...entry.room.messages]);
        await new Promise(ok => requestAnimationFrame(() => ok()));
        return { seq: entry.room.messages[0]?.seq, more: entry.room.window.hasOlder };
      }, room);
      await probe.gc();
      maxNodes = Math.max(maxNodes, await probe.nodes());
      maxAttached = Math.max(maxAttached, await page.evaluate(attachedNodes));
      if (!oldest.more) break;
    }
    const scrolledHeap = await probe.heap();
    const reachedSeq = await page.evaluate(r => globalThis.switchboardDemo.rooms.get(r).room.messages[0]?.seq, room);
    result.memory = {
      emptyPageHeapMB: round(emptyHeap / 2 ** 20),
      chatPageHeapMB: round(openedHeap / 2 ** 20),
      chatPageHeapAfterScrollMB: round(scrolledHeap / 2 ** 20),
      aboveEmptyMB: round((Math.max(openedHeap, scrolledHeap) - emptyHeap) / 2 ** 20),
    };
    result.scroll = { steps, reachedSeq, maxDomNodes: maxNodes, maxDocumentNodes: maxAttached };
    await context.close();
  }

  // P2P round trip between two tabs: Bob answers every ping over the same DataChannel. Once with
  // the SDK alone on a blank page (IndexedDB storage, as apps get it), once in the demo page, where
  // every message is also rendered (software rendering: --disable-gpu).
  console.error('P2P round trips…');
  result.p2pRoundTrip = {
    sdk: await roundTrips('sdk', ROUNDS),
    demoPage: await roundTrips('demo', ROUNDS),
  };
} finally {
  await browser.close();
  await relay.stop();
}

const out = args.out ?? join(here, '../../bench/results', `browser-${new Date().toISOString().replace(/[-:]|\.\d+/g, '')}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
const ok = (v, target) => (v < target ? '✔' : '✘');
console.log(`
| measure | target | median of ${RUNS} | all runs |
|---|---|---|---|
| first 50 visible, from the server | < 150 ms | ${result.firstPage.fromServerMs.median} ms ${ok(result.firstPage.fromServerMs.median, 150)} | ${result.firstPage.fromServerMs.all.join(', ')} |
| first 50 visible, from the cache | < 50 ms | ${result.firstPage.fromCacheMs.median} ms ${ok(result.firstPage.fromCacheMs.median, 50)} | ${result.firstPage.fromCacheMs.all.join(', ')} |
| JS heap above an empty page | < 5 MB | ${result.memory.aboveEmptyMB} MB ${ok(result.memory.aboveEmptyMB, 5)} | page ${result.memory.chatPageHeapMB} MB, after scrolling ${result.memory.chatPageHeapAfterScrollMB} MB, empty ${result.memory.emptyPageHeapMB} MB |
| DOM nodes, scrolling all ${MESSAGES} | < 200 | ${result.scroll.maxDomNodes} ${ok(result.scroll.maxDomNodes, 200)} | renderer count after GC; ${result.scroll.maxDocumentNodes} in the document; ${result.scroll.steps} pages, oldest seq reached ${result.scroll.reachedSeq} |
| P2P round trip, two tabs (SDK, IndexedDB) | < 5 ms median | ${result.p2pRoundTrip.sdk.medianMs} ms ${ok(result.p2pRoundTrip.sdk.medianMs, 5)} | p95 ${result.p2pRoundTrip.sdk.p95Ms}, max ${result.p2pRoundTrip.sdk.maxMs} ms over ${ROUNDS}, paths ${result.p2pRoundTrip.sdk.paths.join('/')} |
| P2P round trip, two demo pages (rendering each message) | — | ${result.p2pRoundTrip.demoPage.medianMs} ms | p95 ${result.p2pRoundTrip.demoPage.p95Ms}, max ${result.p2pRoundTrip.demoPage.maxMs} ms, paths ${result.p2pRoundTrip.demoPage.paths.join('/')} |

results: ${out}`);
