// Seeded random crash scenarios against the FakeServer's epoch rule: whatever was fanned out,
// stored, lost and re-sent, after the resume the room's window and cache say exactly what the
// server holds, and the 'diverged' event names only messages that do not exist.
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/index.js';
import { FakeServer, ManualClock, settle, waitFor } from './helpers.js';

let clients = [];
afterEach(async () => {
  for (const c of clients) await c.close();
  clients = [];
});

/** A small deterministic generator (mulberry32). */
function rng(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// 60 in the suite (~2 s); SEEDS=3000 for a longer hunt.
const SEEDS = Array.from({ length: Number(process.env.SEEDS ?? 60) }, (_, i) => i + 1);
const sig = (m) => `${m.seq}|${m.from}|${m.cid}|${m.body}`;

describe('random crash scenarios', () => {
  it.each(SEEDS)('seed %i: window and cache equal the server after reconciliation', async (seed) => {
    const r = rng(seed);
    const int = (lo, hi) => lo + Math.floor(r() * (hi - lo + 1));
    const server = new FakeServer();
    server.epochs = true;
    server.limits = { ...server.limits, maxHistoryLimit: int(2, 5) };
    for (let i = int(0, 6); i > 0; i--) server.append('lobby', 'u-x', `old ${i}`);
    // How the client meets the new epoch: the socket drops and the room is resumed (divergedAfter);
    // this relay loses the room and the client joins it again; or the page reloads (IndexedDB) and
    // joins. The last two check what they hold against history.
    const how = ['resume', 'rejoin', 'reload'][int(0, 2)];
    const clock = new ManualClock();
    const options = {
      WebSocket: server.WebSocket, p2p: false, idle: (fn) => fn(), random: () => 0, clock, windowSize: int(3, 50),
      ...(how === 'reload' ? { storage: 'indexeddb', dbName: `random-${seed}-${Math.random()}` } : { storage: 'memory' }),
    };
    let client = await connect('ws://t/ws', options);
    clients.push(client);
    let room = await client.join('lobby');
    const stored = server.room('lobby').seq;

    // Fanned out, not stored: others' messages, some of which their senders will re-send, and ours.
    const lostOthers = [];
    server.ackStored = false;
    const mine = [];
    for (let i = int(1, 6); i > 0; i--) {
      if (r() < 0.3) {
        mine.push(await room.send(`mine ${i}`));
      } else {
        const m = server.append('lobby', r() < 0.5 ? 'u-b' : 'u-ghost', `fanned ${i}`);
        server.fanOut('lobby', m);
        lostOthers.push(m);
      }
    }
    const fannedHead = server.room('lobby').seq;
    await waitFor(() => room.lastSeq === fannedHead && mine.every((m) => m.seq !== null));
    const socket = server.open[0];
    if (how === 'resume') socket.drop(1001);
    if (how === 'reload') await client.close();

    // The next relay: a prefix of the fanned-out messages had been written before the crash.
    const written = int(stored, fannedHead);
    server.takeOver('lobby', written);
    server.ackStored = true;
    server.replayMax = int(1, 12);
    const resendable = lostOthers.filter((m) => m.from === 'u-b' && m.seq > written);
    // Sometimes far more than the history sweep reaches (10 pages of 2-5): the window restarts.
    for (let i = int(0, r() < 0.2 ? 60 : 4); i > 0; i--) {
      const resend = resendable[i];
      if (resend && r() < 0.7) server.append('lobby', 'u-b', resend.body, resend.cid);
      else server.append('lobby', 'u-y', `new ${i}`);
    }
    const diverged = [];
    if (how === 'reload') {
      client = await connect('ws://t/ws', options);
      clients.push(client);
      client.on('room', (opened) => opened.on('diverged', (d) => diverged.push(d)));
      room = await client.join('lobby');
    } else {
      room.on('diverged', (d) => diverged.push(d));
    }
    if (how === 'rejoin') {
      server.room('lobby').members.delete(socket);
      socket.deliver({ t: 'error', code: 'room_unavailable', message: 'moved', room: 'lobby' });
    }
    await settle();
    await clock.advance(500);
    await waitFor(() => room.joined && client.outbox.size === 0 && room.lastSeq === server.room('lobby').seq);
    await settle();
    await client.flushCache();

    const truth = new Map(server.room('lobby').messages.map((m) => [m.seq, sig(m)]));
    const shown = room.messages;
    // Everything on screen exists under that seq; nothing is shown without a seq or twice.
    expect(shown.map(sig).filter((s) => !truth.has(Number(s.split('|')[0])) || truth.get(Number(s.split('|')[0])) !== s)).toEqual([]);
    expect(shown.every((m) => m.seq !== null)).toBe(true);
    // Contiguous from its oldest to the head: nothing stored is missing in between.
    const first = shown[0]?.seq ?? server.room('lobby').seq + 1;
    expect(shown.map((m) => m.seq)).toEqual([...truth.keys()].filter((s) => s >= first));
    // The cache holds only what exists, under the same seq.
    const cached = await client.cache.after('lobby', 0, 1000);
    expect(cached.map(sig).filter((s) => truth.get(Number(s.split('|')[0])) !== s)).toEqual([]);
    // Reported removals do not exist, or (the documented bound) only beyond the 10 history pages
    // read after the divergence point. Our own messages are stored exactly once.
    const reach = 10 * server.limits.maxHistoryLimit;
    for (const d of diverged) {
      for (const m of d.removed) {
        const stored = server.room('lobby').messages.find((x) => x.from === m.from && x.cid === m.cid);
        if (stored) expect(stored.seq).toBeGreaterThan(d.divergedAfter + reach);
      }
    }
    for (const m of mine) {
      expect(server.room('lobby').messages.filter((x) => x.cid === m.cid)).toHaveLength(1);
      if (how !== 'reload') expect(m.status).toBe('stored'); // (a reload's objects are new ones)
    }
  });
});
