// Issue 17, "order that does not jump": send times on the server's clock, P2P messages uploaded
// for their seq within p2pSeqDelayMs (one batch per room per window), the 2 s tick only a retry.
import { afterEach, describe, expect, it } from 'vitest';
import { SyncBatcher } from '../../src/batch.js';
import { ServerClock } from '../../src/clock.js';
import { decodeBatch } from '../../src/codec.js';
import { connect } from '../../src/index.js';
import { fakeRtc } from './fake-rtc.js';
import { FakeServer, ManualClock, settle, waitFor } from './helpers.js';

const SKEW = 5000; // the server's clock runs 5 s ahead of this machine's

describe('ServerClock', () => {
  it('takes the offset of the shortest round trip among the recent ones', () => {
    const clock = new ManualClock();
    const sc = new ServerClock(clock);
    expect(sc.now()).toBe(clock.t); // no pong yet: the local clock
    const pong = (sentAt, rtt, serverTs) => {
      clock.t = sentAt + rtt;
      sc.sample(sentAt, serverTs);
    };
    pong(clock.t, 400, clock.t + 1000 + 200); // slow: server ts at the midpoint, 1000 ahead
    expect(sc.offsetMs).toBe(1000);
    pong(clock.t, 10, clock.t + 900 + 5); // fast sample wins: 900 ahead
    expect(sc.offsetMs).toBe(900);
    pong(clock.t, 300, clock.t + 5000); // queued pong, way off: the fast one still stands
    expect(sc.offsetMs).toBe(900);
    for (let i = 0; i < 8; i++) pong(clock.t, 50, clock.t + 700 + 25); // the fast one ages out
    expect(sc.offsetMs).toBe(700);
    expect(sc.now()).toBe(clock.t + 700);
    sc.sample(clock.t + 10, clock.t); // a pong "before" its ping: ignored
    sc.sample(clock.t - 10, Number.NaN);
    expect(sc.offsetMs).toBe(700);
  });
});

describe('SyncBatcher quick uploads', () => {
  function batcher(clock, frames) {
    let id = 0;
    const b = new SyncBatcher({
      send: (f) => frames.push({ ...f, items: decodeBatch(f.data) }) > 0, nextId: () => ++id,
      intervalMs: 2000, delayMs: 50, maxFrameBytes: () => 65536, clock,
    });
    b.start();
    return b;
  }

  it('coalesces a room\'s items into one frame per window, per room; a taken room uploads nothing more', async () => {
    const clock = new ManualClock();
    const frames = [];
    const b = batcher(clock, frames);
    b.add('r1', 'a', 'x', 5);
    b.soon('r1');
    b.add('r2', 'b', 'y');
    b.soon('r2');
    b.add('r1', 'c', 'z', 1.5); // not an integer: uploaded without ts
    b.soon('r1');
    await clock.advance(50);
    expect(frames.map((f) => [f.room, f.items])).toEqual([
      ['r1', [{ cid: 'a', body: 'x', ts: 5 }, { cid: 'c', body: 'z' }]],
      ['r2', [{ cid: 'b', body: 'y' }]],
    ]);
    b.acked('r2', 'b');
    b.add('r1', 'd', 'w', 9);
    b.soon('r1');
    b.take('r1'); // e.g. the room was left: nothing of it goes up later
    await clock.advance(4000);
    expect(frames).toHaveLength(2);
    b.stop();
  });

  it('the tick retries only items unacked for half an interval', async () => {
    const clock = new ManualClock();
    const frames = [];
    const b = batcher(clock, frames); // ticks at +2000, +4000, …
    await clock.advance(1900);
    b.add('r', 'e', 'v');
    b.soon('r');
    await clock.advance(50);
    expect(frames).toHaveLength(1); // quick upload at +1950
    await clock.advance(50);
    expect(frames).toHaveLength(1); // the tick at +2000: sent 50 ms ago, its ack may be on the way
    await clock.advance(2000);
    expect(frames).toHaveLength(2); // +4000: unacked for 2050 ms, sent again
    b.acked('r', 'e');
    await clock.advance(2000);
    expect(frames).toHaveLength(2);
    b.stop();
  });
});

describe('send times and quick P2P seqs', () => {
  let clients = [];
  afterEach(async () => {
    for (const c of clients) await c.close();
    clients = [];
  });

  async function pair(extra = {}) {
    const server = new FakeServer();
    server.decodeBatch = decodeBatch;
    const clock = new ManualClock();
    server.now = () => clock.now() + SKEW;
    const rtc = fakeRtc();
    const opts = {
      WebSocket: server.WebSocket, storage: 'memory', clock, idle: (fn) => fn(), RTCPeerConnection: rtc.RTCPeerConnection, ...extra,
    };
    const a = await connect('ws://t/ws', opts);
    const b = await connect('ws://t/ws', opts);
    clients.push(a, b);
    const roomA = await a.join('lobby');
    const roomB = await b.join('lobby');
    await settle();
    const [sa, sb] = server.open;
    sa.deliver({ t: 'steer', room: 'lobby', peer: b.session, mode: 'p2p', polite: false, iceServers: [], reason: 'hole-punch' });
    sb.deliver({ t: 'steer', room: 'lobby', peer: a.session, mode: 'p2p', polite: true, iceServers: [], reason: 'hole-punch' });
    await waitFor(() => roomA.peers()[0]?.path === 'p2p' && roomB.peers()[0]?.path === 'p2p');
    return { server, clock, a, b, roomA, roomB };
  }

  it('stamps a message with the server-corrected time: in the message, the peer frame and the batch item', async () => {
    const { server, clock, roomA, roomB } = await pair();
    const got = [];
    roomB.on('message', (m) => got.push(m));
    const m = await roomA.send('when?');
    expect(m.ts).toBe(clock.now() + SKEW);
    await waitFor(() => got.length === 1);
    expect(got[0].ts).toBe(m.ts); // the sender's time from the DataChannel frame, not the arrival
    await clock.advance(50);
    expect(decodeBatch(server.framesOf('batch')[0].data)).toEqual([{ cid: m.cid, body: 'when?', ts: m.ts }]);
  });

  it('puts ts on relay sends too', async () => {
    const server = new FakeServer();
    const clock = new ManualClock();
    server.now = () => clock.now() + SKEW;
    const c = await connect('ws://t/ws', { WebSocket: server.WebSocket, storage: 'memory', clock, p2p: false, idle: (fn) => fn() });
    clients.push(c);
    const room = await c.join('lobby');
    await clock.advance(1234);
    const m = await room.send('over the relay');
    expect(server.framesOf('send')).toEqual([expect.objectContaining({ cid: m.cid, ts: clock.now() + SKEW })]);
  });

  it('uploads what the DataChannels carried within p2pSeqDelayMs, one batch per room per window', async () => {
    const { server, clock, roomA, roomB } = await pair({ p2pSeqDelayMs: 80 });
    const first = await roomA.send('one');
    await clock.advance(30);
    const second = await roomA.send('two');
    await clock.advance(49);
    expect(server.framesOf('batch')).toEqual([]);
    await clock.advance(1); // 80 ms after the first: both go, in one frame
    const batches = server.framesOf('batch');
    expect(batches).toHaveLength(1);
    expect(decodeBatch(batches[0].data).map((i) => i.cid)).toEqual([first.cid, second.cid]);
    await waitFor(() => first.seq === 1 && second.seq === 2);
    // the receiver learns the seqs from the fanout as quickly
    await waitFor(() => roomB.messages.map((x) => x.seq).join() === '1,2');
    const third = await roomA.send('three');
    await clock.advance(80);
    expect(server.framesOf('batch')).toHaveLength(2);
    await waitFor(() => third.seq === 3);
    // acked: the 2 s tick has nothing to retry
    await clock.advance(4000);
    expect(server.framesOf('batch')).toHaveLength(2);
  });

  it('shows seq-less messages in arrival order; a learned seq places a message by seq (a lost ack waits for the tick)', async () => {
    const { server, clock, roomA, roomB, b } = await pair();
    server.autoAck = false; // A's upload unanswered for now
    const mine = await roomA.send('hello');
    await clock.advance(50);
    server.autoAck = true;
    const theirs = await roomB.send('hi');
    await waitFor(() => roomA.messages.length === 2);
    expect(roomA.messages.map((x) => x.body)).toEqual(['hello', 'hi']);
    await clock.advance(50); // B's upload: 'hi' gets seq 2 on A's screen while 'hello' waits for its seq
    await waitFor(() => roomA.messages.some((x) => x.seq != null));
    // A message with a seq goes above those without: that is the jump a quick seq keeps short
    expect(roomA.messages.map((x) => x.body)).toEqual(['hi', 'hello']);
    expect(theirs.from).toBe(b.user);
    await clock.advance(1950); // the retry tick: hello gets its seq, after hi, as the server ordered
    await waitFor(() => mine.seq != null);
    expect(roomA.messages.map((x) => [x.seq, x.body])).toEqual([[1, 'hello'], [2, 'hi']]);
  });
});

// Issue 17, second part: quick seqs without losing P2P's savings at the relay. A batch names the
// peers that already hold its items (`to`: they get a bodiless `seqs` frame) and says whether it
// holds first uploads (`resend:false`: no storage lookup on the relay).
describe('batch.to, batch.resend and seqs', () => {
  function batcher(clock, frames) {
    let id = 0;
    const b = new SyncBatcher({
      send: (f) => frames.push({ ...f, items: decodeBatch(f.data) }) > 0, nextId: () => ++id,
      intervalMs: 2000, delayMs: 50, maxFrameBytes: () => 65536, clock,
    });
    b.start();
    return b;
  }

  it('lists the peers that took every item, marks first uploads resend:false and retries apart', async () => {
    const clock = new ManualClock();
    const frames = [];
    const b = batcher(clock, frames);
    b.add('r', 'a', 'x', 1, { to: ['s-2', 's-3'], resend: false });
    b.add('r', 'b', 'y', 2, { to: ['s-3', 's-2', 's-4'], resend: false });
    b.soon('r');
    await clock.advance(50);
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ to: ['s-2', 's-3'], resend: false });
    expect(frames[0].items).toEqual([{ cid: 'a', body: 'x', ts: 1 }, { cid: 'b', body: 'y', ts: 2 }]);

    // unacked: the tick's retry keeps `to` (they still hold them) but may be a resend now
    b.add('r', 'c', 'z', 3, { to: ['s-4'], resend: false });
    await clock.advance(1950); // +2000: the tick
    expect(frames.slice(1).map((f) => [f.items.map((i) => i.cid), f.to, f.resend])).toEqual([
      [['a', 'b'], ['s-2', 's-3'], undefined], // a retry: resend left at its default, true
      [['c'], ['s-4'], false], // a first upload: its own frame
    ]);

    // an item re-added without peers (e.g. from the outbox after a reconnect): no `to` for its frame
    b.acked('r', 'a');
    b.acked('r', 'b');
    b.acked('r', 'c');
    b.add('r', 'd', 'w', 4, { to: ['s-2'], resend: false });
    b.add('r', 'e', 'v', 5, { resend: false });
    b.soon('r');
    await clock.advance(50);
    expect(frames.at(-1).to).toBeUndefined();
    expect(frames.at(-1).resend).toBe(false);
    expect(b.take('r')).toEqual([{ cid: 'd', body: 'w', ts: 4 }, { cid: 'e', body: 'v', ts: 5 }]);
    b.stop();
  });

  let clients = [];
  afterEach(async () => {
    for (const c of clients) await c.close();
    clients = [];
  });

  async function pair() {
    const server = new FakeServer();
    server.decodeBatch = decodeBatch;
    const clock = new ManualClock();
    const rtc = fakeRtc();
    const opts = { WebSocket: server.WebSocket, storage: 'memory', clock, idle: (fn) => fn(), RTCPeerConnection: rtc.RTCPeerConnection };
    const a = await connect('ws://t/ws', opts);
    const b = await connect('ws://t/ws', opts);
    clients.push(a, b);
    const roomA = await a.join('lobby');
    const roomB = await b.join('lobby');
    await settle();
    const [sa, sb] = server.open;
    sa.deliver({ t: 'steer', room: 'lobby', peer: b.session, mode: 'p2p', polite: false, iceServers: [], reason: 'hole-punch' });
    sb.deliver({ t: 'steer', room: 'lobby', peer: a.session, mode: 'p2p', polite: true, iceServers: [], reason: 'hole-punch' });
    await waitFor(() => roomA.peers()[0]?.path === 'p2p' && roomB.peers()[0]?.path === 'p2p');
    return { server, clock, a, b, roomA, roomB, sa, sb };
  }

  it('uploads a DataChannel message with to = the peers and resend:false; the peer learns its seq from seqs', async () => {
    const { server, clock, a, b, roomA, roomB, sb } = await pair();
    const toB = [];
    const deliver = sb.deliver.bind(sb);
    sb.deliver = (f) => {
      toB.push(f.t);
      deliver(f);
    };
    const m = await roomA.send('over the channel');
    await waitFor(() => roomB.messages.length === 1);
    await clock.advance(50);
    expect(server.framesOf('batch')).toEqual([expect.objectContaining({ to: [b.session], resend: false })]);
    await waitFor(() => roomB.messages[0].seq === 1 && m.seq === 1);
    expect(toB.filter((t) => t === 'msg' || t === 'seqs')).toEqual(['seqs']); // no body came from the relay
    expect(roomB.messages[0]).toMatchObject({ cid: m.cid, from: a.user, body: 'over the channel', status: 'stored', path: 'p2p' });
    expect(server.framesOf('history')).toEqual([]);
  });

  it('reads what a seqs frame names but the DataChannel lost from history, several in one request', async () => {
    const { server, clock, a, roomB, sb } = await pair();
    // Three messages of A's reached the relay but not B's channel (stored directly in the fake).
    const r = server.room('lobby');
    for (const [cid, body] of [['x-1', 'lost one'], ['x-2', 'lost two'], ['x-3', 'lost three']]) {
      const seq = ++r.seq;
      r.messages.push({ seq, cid, from: a.user, body, ts: 1764043200000 + seq });
    }
    const updates = [];
    roomB.on('message', (m) => updates.push(m.cid));
    sb.deliver({ t: 'seqs', room: 'lobby', from: a.user, items: [{ cid: 'x-1', seq: 1, ts: 1764043200001 }, { cid: 'x-3', seq: 3, ts: 1764043200003 }] });
    await settle();
    await clock.advance(0);
    await waitFor(() => roomB.messages.length === 2);
    expect(server.framesOf('history').map(({ before, limit }) => ({ before, limit }))).toEqual([{ before: 4, limit: 3 }]);
    expect(roomB.messages.map((m) => [m.seq, m.body])).toEqual([[1, 'lost one'], [3, 'lost three']]);
    expect(updates).toEqual(['x-1', 'x-3']);
    // named again (a retry's seqs): held now, nothing read
    sb.deliver({ t: 'seqs', room: 'lobby', from: a.user, items: [{ cid: 'x-1', seq: 1, ts: 1764043200001 }] });
    await settle();
    await clock.advance(10);
    expect(server.framesOf('history')).toHaveLength(1);
  });
});
