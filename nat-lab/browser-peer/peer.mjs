#!/usr/bin/env node
// The NAT lab's browser peer: headless Debian Chromium running the web SDK (served by the relay at
// /sdk/switchboard.js) inside a client namespace, driven by playwright-core from web-client's
// node_modules. Same process contract as io.switchboard.natlab.peer.JavaPeerMain (PeerKind):
//
//   node nat-lab/browser-peer/peer.mjs --relay ws://203.0.113.1:8080/ws --room R --name a|b
//        --host IP [--messages N] [--deadline-ms MS] [--p2p-timeout-ms MS] [--probe-only]
//
// Logs go to stderr; exactly one line `NATLAB-RESULT {json}` goes to stdout; exit 0 when a result
// was printed (even a failed one). Nothing here speaks the protocol itself: the SDK profiles the
// NAT, follows the steer, negotiates the DataChannel and falls back to the relay. The script only
// watches (a WebSocket subclass records the steer and the p2p-result the SDK sends, an
// RTCPeerConnection subclass lets it read the selected candidate pair) and counts messages.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';

const RESULT_PREFIX = 'NATLAB-RESULT ';
const started = Date.now();

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const key = a.slice(2);
    if (key === 'probe-only') args[key] = true;
    else args[key] = argv[++i];
  }
  for (const k of ['relay', 'room', 'name']) if (!args[k]) throw new Error(`--${k} is required`);
  return args;
}

const log = (...parts) => console.error(`[${((Date.now() - started) / 1000).toFixed(3)}s]`, ...parts);
const result = { kind: 'browser' };
let printed = false;
function print() {
  if (printed) return;
  printed = true;
  result.totalMs = Date.now() - started;
  process.stdout.write(RESULT_PREFIX + JSON.stringify(result) + '\n');
}

/** playwright-core from web-client/node_modules (or $PLAYWRIGHT_CORE), never a downloaded browser. */
function playwright() {
  const base = process.env.NATLAB_WEB_CLIENT ?? new URL('../../web-client/', import.meta.url).pathname;
  const require = createRequire(base.endsWith('/') ? base + 'package.json' : base + '/package.json');
  return require(process.env.PLAYWRIGHT_CORE ?? 'playwright-core');
}

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Inside a private network namespace mDNS would be harmless, but real host addresses let the relay
// see "no NAT" (reflexive IP == host IP) and let two hosts on one segment pair directly.
export const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage', '--disable-features=WebRtcHideLocalIpsWithMdns',
];

/** Runs in the page: connect the SDK, follow the pair, exchange messages; returns the result fields. */
async function inPage({ relay, room, name, messages, deadlineMs, p2pTimeoutMs, probeOnly }) {
  const t0 = performance.now();
  const deadline = t0 + deadlineMs;
  const now = () => performance.now();
  const ms = (t) => Math.round(t);
  const out = { events: [] };
  globalThis.__natlab = out;
  const note = (e) => out.events.push(`${ms(now() - t0)} ${e}`);
  const sleep = (d) => new Promise((r) => setTimeout(r, d));
  async function until(what, fn, step = 20) {
    for (;;) {
      const v = fn();
      if (v) return v;
      if (now() > deadline) throw new Error(`deadline: waited for ${what}`);
      await sleep(step);
    }
  }

  // Watch the wire without changing it: the steer (mode, reason, polite) and our p2p-result.
  const steers = [];
  const reports = [];
  class WatchedSocket extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols);
      this.addEventListener('message', (ev) => {
        try {
          const f = JSON.parse(ev.data);
          if (f.t === 'steer') {
            steers.push({ at: now(), frame: f });
            note(`steer ${f.mode} ${f.reason} polite=${f.polite}`);
          } else if (f.t === 'welcome') note('welcome');
          else if (f.t === 'error') note(`server error ${f.code}`);
        } catch { /* not ours to judge */ }
      });
    }
    send(data) {
      try {
        const f = JSON.parse(data);
        if (f.t === 'p2p-result') {
          reports.push({ at: now(), frame: f });
          note(`p2p-result ${f.path} setup=${f.setupMs}`);
        } else if (f.t === 'profile') note(`profile sent ${JSON.stringify(f)}`);
      } catch { /* ignore */ }
      return super.send(data);
    }
  }
  const pcs = [];
  class WatchedPc extends RTCPeerConnection {
    constructor(config) {
      super(config);
      pcs.push(this);
    }
  }

  const sdk = await import('/sdk/switchboard.js');
  const opts = { storage: 'memory', WebSocket: WatchedSocket, RTCPeerConnection: WatchedPc, syncIntervalMs: 500 };
  if (p2pTimeoutMs) opts.p2pConnectTimeoutMs = p2pTimeoutMs;
  const client = await sdk.connect(relay, opts);
  note(`connected as ${client.user}`);
  out.session = client.session;
  out.user = client.user;
  const room0 = client.join(room);

  // The SDK profiles the NAT on its own after the welcome (ClientEvent 'profile').
  await until('the relay\'s profile answer', () => client.profile, 20);
  out.class = client.profile.class;
  out.classMapping = client.profile.mapping;
  out.classFiltering = client.profile.filtering;
  out.probeMs = ms(now() - t0);
  note(`class ${out.class}`);
  const r = await room0;
  if (probeOnly) {
    await client.close();
    return out;
  }

  // Messages: body `m|<from>|<i>` counted by cid; `echo?`/`echo!` for the relay round trip; `done|` last.
  const mine = new Set();
  const seen = new Map(); // cid -> times
  const byPath = { p2p: 0, turn: 0, relay: 0 };
  let duplicates = 0;
  let theirDone = false;
  const echoes = new Map();
  r.on('message', (m) => {
    if (m.mine || typeof m.body !== 'string') return;
    if (m.body.startsWith('m|')) {
      const n = (seen.get(m.cid) ?? 0) + 1;
      seen.set(m.cid, n);
      if (n > 1) duplicates++;
      else byPath[m.path] = (byPath[m.path] ?? 0) + 1;
    } else if (m.body.startsWith('echo?')) {
      r.send('echo!' + m.body.slice(5)).catch(() => {});
    } else if (m.body.startsWith('echo!')) {
      echoes.get(m.body.slice(5))?.();
    } else if (m.body.startsWith('done|')) {
      theirDone = true;
    }
  });
  r.on('peer', (p) => note(`peer ${p.peer} mode=${p.mode} path=${p.path} rtt=${p.rttMs}`));

  const steer = await until('a steer for the other peer', () => steers.at(-1));
  const f = steer.frame;
  out.steer = { mode: f.mode, reason: f.reason, polite: f.polite };
  out.iceServers = (f.iceServers ?? []).flatMap((s) => [].concat(s.urls));
  // Settled: the pair is on a path (not 'connecting') and, for p2p/turn steers, the SDK reported it.
  const settled = await until('the pair to settle on a path', () => {
    const p = r.peers()[0];
    if (!p || p.path === 'connecting' || !p.path) return null;
    if (f.mode !== 'relay' && !reports.length) return null;
    return p;
  });
  const settleMs = now() - steer.at;
  const report = reports.at(-1)?.frame;
  out.sdkPath = settled.path;
  out.path = settled.path === 'p2p' ? 'direct' : settled.path;
  out.settleMs = ms(settleMs);
  // The SDK's own setup time (steer → channel open, or → fallback); a relay steer costs nothing.
  out.setupMs = report && typeof report.setupMs === 'number' ? ms(report.setupMs) : ms(settleMs);
  if (report) out.reported = report;
  note(`settled on ${settled.path} in ${ms(settleMs)} ms`);

  // The selected candidate pair of the SDK's connection (the last RTCPeerConnection it made).
  const pc = pcs.at(-1);
  if (pc && pcs.length > 1 && pc.connectionState !== 'closed') {
    try {
      const stats = await pc.getStats();
      let pair;
      stats.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId); });
      if (pair) {
        const l = stats.get(pair.localCandidateId);
        const rc = stats.get(pair.remoteCandidateId);
        out.localType = l?.candidateType;
        out.remoteType = rc?.candidateType;
        if (l?.relayProtocol) out.localRelayProtocol = l.relayProtocol; // how this side reaches TURN: udp|tcp|tls
        out.selected = `${l?.protocol} ${l?.address}:${l?.port} (${l?.candidateType}${l?.relayProtocol ? '/' + l.relayProtocol : ''}) -> ${rc?.address}:${rc?.port} (${rc?.candidateType})`;
      }
      const types = { local: new Set(), remote: new Set() };
      stats.forEach((s) => {
        if (s.type === 'local-candidate') types.local.add(s.candidateType + (s.relayProtocol ? '/' + s.relayProtocol : ''));
        if (s.type === 'remote-candidate') types.remote.add(s.candidateType);
      });
      out.localCandidates = [...types.local];
      out.remoteCandidates = [...types.remote];
    } catch (e) {
      out.statsError = String(e);
    }
  }

  // Round trip: the SDK's DataChannel ping when the pair has a channel; else echoes through the room.
  if (settled.path !== 'relay') {
    const p = await until('a channel RTT', () => (r.peers()[0]?.rttMs !== undefined ? r.peers()[0] : null));
    out.rttMs = p.rttMs;
    out.rttFrom = 'sdk-channel-ping';
  } else {
    const samples = [];
    for (let i = 0; i < 5; i++) {
      const id = `${name}-${i}`;
      const start = now();
      const back = new Promise((res) => echoes.set(id, res));
      await r.send('echo?' + id);
      await Promise.race([back, sleep(Math.max(0, deadline - now()))]);
      if (now() > deadline) throw new Error('deadline: echo');
      samples.push(now() - start);
    }
    samples.sort((a, b) => a - b);
    out.rttMs = Math.round(samples[2] * 1000) / 1000;
    out.rttFrom = 'room-echo-median-of-5';
  }

  // N messages each way over whatever path the SDK chooses for each (it picks per message).
  const exchangeStart = now();
  const sentPaths = { p2p: 0, turn: 0, relay: 0 };
  for (let i = 0; i < messages; i++) {
    const m = await r.send(`m|${name}|${i}`);
    mine.add(m.cid);
    const p = r.pathOf(m.cid) ?? 'pending';
    sentPaths[p] = (sentPaths[p] ?? 0) + 1;
  }
  out.sent = messages;
  out.sentPaths = sentPaths;
  await until(`the other peer's ${messages} messages`, () => seen.size >= messages);
  out.exchangeMs = ms(now() - exchangeStart);
  await r.send(`done|${name}`);
  await until('the other peer\'s done', () => theirDone);
  // A moment for late duplicates (the sync batch's fanout must show as an update, not a message).
  await sleep(700);
  out.delivered = seen.size;
  out.duplicates = duplicates;
  out.receivedPaths = byPath;
  out.stats = client.stats();
  out.finalPeer = r.peers()[0];
  await client.close();
  return out;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  Object.assign(result, { name: args.name, host: args.host ?? null });
  const deadlineMs = Number(args['deadline-ms'] ?? 45000);
  const killer = setTimeout(() => {
    result.error ??= `deadline of ${deadlineMs} ms passed`;
    print();
    process.exit(0);
  }, deadlineMs + 3000);
  killer.unref();
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found (apt-get install --no-install-recommends chromium)`);
  const { chromium } = playwright();
  const http = args.relay.replace(/^ws/, 'http').replace(/\/ws$/, '');
  const t = Date.now();
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: false, args: CHROMIUM_ARGS });
  result.browserVersion = browser.version();
  result.launchMs = Date.now() - t;
  log(`chromium ${browser.version()} up in ${result.launchMs} ms`);
  try {
    const page = await (await browser.newContext()).newPage();
    page.on('console', (m) => log(`[console.${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => log(`[page error] ${e}`));
    // Any same-origin document will do; the bundle itself is the smallest.
    await page.goto(`${http}/sdk/switchboard.js`);
    const remaining = deadlineMs - (Date.now() - started);
    const out = await page.evaluate(inPage, {
      relay: args.relay, room: args.room, name: args.name, messages: Number(args.messages ?? 20),
      deadlineMs: remaining, p2pTimeoutMs: args['p2p-timeout-ms'] ? Number(args['p2p-timeout-ms']) : 0,
      probeOnly: !!args['probe-only'],
    }).catch(async (e) => {
      const partial = await page.evaluate(() => globalThis.__natlab).catch(() => null);
      return { ...(partial ?? {}), error: String(e.message ?? e).split('\n')[0] };
    });
    if (out.events) {
      for (const e of out.events) log(e);
      delete out.events;
    }
    Object.assign(result, out);
  } finally {
    await browser.close().catch(() => {});
  }
}

main().catch((e) => {
  result.error ??= String(e?.message ?? e).split('\n')[0];
  log(e?.stack ?? e);
}).finally(() => {
  print();
  process.exit(0);
});
