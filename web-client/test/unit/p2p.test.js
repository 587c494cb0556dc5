import { afterEach, describe, expect, it } from 'vitest';
import { decodeBatch } from '../../src/codec.js';
import { connect } from '../../src/index.js';
import { parsePeerFrame } from '../../src/peer-frame.js';
import { filterSdp, profileFromCandidates } from '../../src/p2p.js';
import { fakeRtc } from './fake-rtc.js';
import { FakeServer, ManualClock, settle, waitFor } from './helpers.js';

describe('parsePeerFrame (hostile DataChannel input)', () => {
  const expect_ = { maxBodyBytes: 100, from: 'u-a' };
  const ok = JSON.stringify({ t: 'm', cid: 'c-1', from: 'u-a', body: '안녕 👋', ts: 5 });

  it('accepts a well-formed message and pings', () => {
    expect(parsePeerFrame(ok, expect_)).toEqual({ t: 'm', cid: 'c-1', from: 'u-a', body: '안녕 👋', ts: 5 });
    expect(parsePeerFrame('{"t":"ping","n":3}', expect_)).toEqual({ t: 'ping', n: 3 });
  });

  it.each([
    ['binary', new ArrayBuffer(8)],
    ['not JSON', '{"t":"m",'],
    ['not an object', '["m"]'],
    ['null', 'null'],
    ['unknown type', '{"t":"x"}'],
    ['missing cid', JSON.stringify({ t: 'm', from: 'u-a', body: 'x', ts: 1 })],
    ['bad cid', JSON.stringify({ t: 'm', cid: 'has space', from: 'u-a', body: 'x', ts: 1 })],
    ['impersonation', JSON.stringify({ t: 'm', cid: 'c', from: 'u-b', body: 'x', ts: 1 })],
    ['empty body', JSON.stringify({ t: 'm', cid: 'c', from: 'u-a', body: '', ts: 1 })],
    ['body not text', JSON.stringify({ t: 'm', cid: 'c', from: 'u-a', body: { html: '<b>' }, ts: 1 })],
    ['NUL in body', JSON.stringify({ t: 'm', cid: 'c', from: 'u-a', body: 'a\u0000', ts: 1 })],
    ['lone surrogate', JSON.stringify({ t: 'm', cid: 'c', from: 'u-a', body: 'a\ud800', ts: 1 })],
    ['body over the bound', JSON.stringify({ t: 'm', cid: 'c', from: 'u-a', body: '가'.repeat(34), ts: 1 })],
    ['huge frame', 'x'.repeat(10_000)],
    ['bad ts', JSON.stringify({ t: 'm', cid: 'c', from: 'u-a', body: 'x', ts: 'now' })],
    ['bad ping', '{"t":"ping","n":-1}'],
  ])('drops %s', (_, data) => {
    expect(parsePeerFrame(data, expect_)).toBeNull();
  });
});

describe('candidate helpers', () => {
  it('filterSdp drops candidate lines the filter refuses', () => {
    const sdp = 'v=0\r\nm=application 9 x\r\na=candidate:1 1 udp 1 10.0.0.1 5 typ host\r\na=candidate:2 1 udp 1 127.0.0.1 6 typ host\r\na=mid:0\r\n';
    const out = filterSdp(sdp, (c) => c.candidate.includes(' 127.0.0.1 '));
    expect(out).not.toContain('10.0.0.1');
    expect(out).toContain('127.0.0.1');
    expect(out).toContain('a=mid:0');
  });

  it('profileFromCandidates reports both mappings of one socket', () => {
    const gathered = [
      { candidate: 'candidate:1 1 udp 1 192.168.1.20 5000 typ host' },
      { candidate: 'candidate:2 1 udp 1 198.51.100.7 40000 typ srflx raddr 192.168.1.20 rport 5000', url: 'stun:s:3490' },
      { candidate: 'candidate:3 1 udp 1 198.51.100.7 40001 typ srflx raddr 192.168.1.20 rport 5000', url: 'stun:s:3491' },
      { candidate: 'candidate:4 1 udp 1 abc.local 5001 typ host' },
    ];
    expect(profileFromCandidates(gathered, ['stun:s:3490', 'stun:s:3491'])).toEqual({
      udp: true, candidates: ['host', 'srflx'], mapped: ['198.51.100.7:40000', '198.51.100.7:40001'], host: ['192.168.1.20'],
    });
    expect(profileFromCandidates([gathered[0]], [])).toEqual({ udp: false, candidates: ['host'], host: ['192.168.1.20'] });
  });

  it('profileFromCandidates reads one srflx from a completed two-port probe as the same mapping twice (EIM)', () => {
    const urls = ['stun:s:3490', 'stun:s:3491'];
    const one = [
      { candidate: 'candidate:1 1 udp 1 192.168.1.20 5000 typ host' },
      { candidate: 'candidate:2 1 udp 1 198.51.100.7 40000 typ srflx raddr 192.168.1.20 rport 5000', url: 'stun:s:3490' },
    ];
    expect(profileFromCandidates(one, urls, { complete: true }).mapped).toEqual(['198.51.100.7:40000', '198.51.100.7:40000']);
    // one answer only, or gathering cut short: the server must not be told the mapping is stable
    expect(profileFromCandidates(one, urls, { complete: true, failedUrls: [urls[1]] }).mapped).toEqual(['198.51.100.7:40000']);
    expect(profileFromCandidates(one, urls, { complete: false }).mapped).toEqual(['198.51.100.7:40000']);
  });

  it('profileFromCandidates infers "mapped = host" when STUN answered but the browser dropped the redundant srflx', () => {
    const urls = ['stun:127.0.0.1:3490', 'stun:127.0.0.1:3491'];
    const hostOnly = [{ candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host' }];
    expect(profileFromCandidates(hostOnly, urls, { complete: true })).toMatchObject({ udp: true, mapped: ['127.0.0.1:5000', '127.0.0.1:5000'], host: ['127.0.0.1'] });
    // not when STUN failed or gathering was cut short
    expect(profileFromCandidates(hostOnly, urls, { complete: true, failedUrls: [urls[1]] })).toMatchObject({ udp: false });
    expect(profileFromCandidates(hostOnly, urls, { complete: false }).udp).toBe(false);
  });
});

describe('P2P between two clients (fake RTCPeerConnection)', () => {
  let clients = [];
  afterEach(async () => {
    for (const c of clients) await c.close();
    clients = [];
  });

  async function pair({ filter, reachable, steerMode = 'p2p', steerB = true, politeA = false } = {}) {
    const server = new FakeServer();
    server.decodeBatch = decodeBatch;
    const rtc = fakeRtc({ reachable });
    const clock = new ManualClock();
    const opts = {
      WebSocket: server.WebSocket, storage: 'memory', clock, idle: (fn) => fn(),
      RTCPeerConnection: rtc.RTCPeerConnection, iceCandidateFilter: filter,
    };
    const a = await connect('ws://t/ws', opts);
    const b = await connect('ws://t/ws', opts);
    clients.push(a, b);
    const roomA = await a.join('lobby');
    const roomB = await b.join('lobby');
    await settle();
    const [sa, sb] = server.open;
    const steer = (socket, peer, polite) => socket.deliver({ t: 'steer', room: 'lobby', peer, mode: steerMode, polite, iceServers: [], reason: 'hole-punch' });
    steer(sa, b.session, politeA);
    const steerNowB = () => steer(sb, a.session, !politeA);
    if (steerB) steerNowB();
    return { server, rtc, clock, a, b, roomA, roomB, steerNowB };
  }

  it('opens the channel (only the impolite side offers first) and reports p2p-result', async () => {
    const { server, rtc, a, b, roomA, roomB } = await pair();
    await waitFor(() => roomA.peers()[0]?.path === 'p2p' && roomB.peers()[0]?.path === 'p2p');
    expect(roomA.peers()[0]).toMatchObject({ peer: b.session, user: b.user, mode: 'p2p', path: 'p2p' });
    expect(roomA.peers()[0].rttMs).toBeGreaterThanOrEqual(0);
    const descriptions = server.log.filter(([, f]) => f.t === 'signal' && f.data.description).map(([s, f]) => [s.session, f.data.description.type]);
    expect(descriptions).toEqual([[a.session, 'offer'], [b.session, 'answer']]);
    expect([...rtc.pcs.values()].every((pc) => !pc.rollbacks)).toBe(true);
    const results = server.framesOf('p2p-result');
    expect(results).toHaveLength(2);
    expect(results[0]).toMatchObject({ room: 'lobby', path: 'p2p' });
    expect(results[0].setupMs).toBeGreaterThanOrEqual(0);
    expect(a.stats().droppedPeerFrames + b.stats().droppedPeerFrames).toBe(0);
  });

  it('a P2P send goes out before its IndexedDB write commits; a relay send waits for it', async () => {
    const { server, a, roomA, roomB } = await pair();
    await waitFor(() => roomA.peers()[0]?.path === 'p2p' && roomB.peers()[0]?.path === 'p2p');
    let release;
    const gate = new Promise((r) => { release = r; });
    const put = a.storage.outboxPut.bind(a.storage);
    a.storage.outboxPut = async (rec) => { await gate; return put(rec); };
    const got = [];
    roomB.on('message', (m) => got.push(m.body));
    const sentP2p = roomA.send('straight onto the channel');
    await waitFor(() => got.length === 1);
    expect(got).toEqual(['straight onto the channel']);
    release();
    await expect(sentP2p).resolves.toMatchObject({ path: 'p2p' });
    // Over the relay nothing goes on the wire before the outbox holds it.
    let releaseRelay;
    const relayGate = new Promise((r) => { releaseRelay = r; });
    a.storage.outboxPut = async (rec) => { await relayGate; return put(rec); };
    const big = 'x'.repeat(a.options.maxP2pBodyBytes + 1);
    const sentRelay = roomA.send(big);
    await settle();
    expect(server.framesOf('send').filter((f) => f.body === big)).toHaveLength(0);
    releaseRelay();
    await sentRelay;
    await waitFor(() => server.framesOf('send').some((f) => f.body === big));
  });

  it('settles real glare (both offered before seeing the other) with perfect negotiation', async () => {
    const held = [];
    const server = new FakeServer();
    const rtc = fakeRtc();
    const clock = new ManualClock();
    const opts = { WebSocket: server.WebSocket, storage: 'memory', clock, idle: (fn) => fn(), RTCPeerConnection: rtc.RTCPeerConnection };
    const a = await connect('ws://t/ws', opts);
    const b = await connect('ws://t/ws', opts);
    clients.push(a, b);
    const roomA = await a.join('lobby');
    const roomB = await b.join('lobby');
    server.handlers.signal = (socket, f) => held.push([socket, f]) > 0;
    const [sa, sb] = server.open;
    sa.deliver({ t: 'steer', room: 'lobby', peer: b.session, mode: 'p2p', polite: false, iceServers: [] });
    sb.deliver({ t: 'steer', room: 'lobby', peer: a.session, mode: 'p2p', polite: true, iceServers: [] });
    await settle();
    await clock.advance(1000); // the polite side stops waiting and offers too
    await waitFor(() => held.filter(([, f]) => f.data.description?.type === 'offer').length === 2);
    server.handlers.signal = undefined;
    for (const [socket, f] of held) server.receive(socket, f);
    await waitFor(() => roomA.peers()[0]?.path === 'p2p' && roomB.peers()[0]?.path === 'p2p');
    // the polite side rolled its own offer back explicitly (Chromium stalls on the implicit one)
    expect([...rtc.pcs.values()].map((pc) => pc.rollbacks ?? 0).sort()).toEqual([0, 1]);
  });

  it('sends over the channel, batches to the server, and the receiver shows it once and learns its seq', async () => {
    const { server, clock, a, b, roomA, roomB } = await pair();
    await waitFor(() => roomA.peers()[0]?.path === 'p2p' && roomB.peers()[0]?.path === 'p2p');
    const received = [];
    const updates = [];
    roomB.on('message', (m) => received.push({ ...m }));
    roomB.on('update', (m) => updates.push({ ...m }));
    const m = await roomA.send('직접 👋');
    expect(m).toMatchObject({ status: 'sent', path: 'p2p', seq: null });
    expect(server.framesOf('send')).toEqual([]);
    await waitFor(() => received.length === 1);
    expect(received[0]).toMatchObject({ from: a.user, body: '직접 👋', path: 'p2p', seq: null, mine: false });
    expect(roomB.pathOf(m.cid)).toBe('p2p');

    await clock.advance(49);
    expect(server.framesOf('batch')).toEqual([]);
    await clock.advance(1); // p2pSeqDelayMs after the DataChannel send, not the 2 s tick
    const [batch] = server.framesOf('batch');
    expect(batch).toMatchObject({ room: 'lobby', enc: 'lz' });
    expect(decodeBatch(batch.data)).toEqual([{ cid: m.cid, body: '직접 👋', ts: m.ts }]);
    await waitFor(() => m.status === 'stored' && updates.length > 0);
    expect(m.seq).toBe(1);
    expect(received).toHaveLength(1); // the server's msg fan-out did not duplicate it
    expect(updates.at(-1)).toMatchObject({ cid: m.cid, seq: 1 });
    expect(roomB.messages.map((x) => [x.seq, x.body])).toEqual([[1, '직접 👋']]);
    expect(a.stats()).toMatchObject({ sent: { p2p: 1, relay: 0 }, outbox: 0, batchPending: 0 });
    expect(b.stats().received).toEqual({ p2p: 1, turn: 0, relay: 0 });
    // acked items are not uploaded again
    await clock.advance(2000);
    expect(server.framesOf('batch')).toHaveLength(1);
  });

  it('retries the batch until the ack arrives', async () => {
    const { server, clock, roomA, roomB } = await pair();
    await waitFor(() => roomA.peers()[0]?.path === 'p2p' && roomB.peers()[0]?.path === 'p2p');
    server.autoAck = false;
    const m = await roomA.send('again and again');
    await clock.advance(50);
    expect(server.framesOf('batch')).toHaveLength(1);
    await clock.advance(1950); // the tick: sent 1950 ms ago and unacked
    expect(server.framesOf('batch')).toHaveLength(2);
    await clock.advance(2000);
    expect(server.framesOf('batch')).toHaveLength(3);
    server.autoAck = true;
    await clock.advance(2000);
    await waitFor(() => m.status === 'stored');
    expect(server.room('lobby').messages).toHaveLength(1);
  });

  it('drops and counts malformed DataChannel frames without surfacing them', async () => {
    const { rtc, a, b, roomA, roomB } = await pair();
    await waitFor(() => roomA.peers()[0]?.path === 'p2p' && roomB.peers()[0]?.path === 'p2p');
    const seen = [];
    const errors = [];
    for (const [client, room] of [[a, roomA], [b, roomB]]) {
      room.on('message', (m) => seen.push(m));
      client.on('error', (e) => errors.push(e));
    }
    const channel = [...rtc.pcs.values()].find((pc) => pc.channel?.readyState === 'open').channel;
    const junk = ['{', '{"t":"m"}', JSON.stringify({ t: 'm', cid: 'c', from: 'someone-else', body: 'x', ts: 1 }), '{"t":"pong","n":999}'];
    for (const data of junk) channel.inject(data);
    await settle();
    expect(seen).toEqual([]);
    expect(errors).toEqual([]);
    expect(a.stats().droppedPeerFrames + b.stats().droppedPeerFrames).toBe(junk.length);
  });

  it('the candidate filter applies to signalled candidates and SDP; blocking all falls back to relay after the bound', async () => {
    const { server, clock, a, roomA, roomB } = await pair({ filter: () => false });
    await waitFor(() => server.framesOf('signal').some((s) => s.data.description?.type === 'answer'));
    const signals = server.framesOf('signal');
    expect(signals.some((s) => s.data.candidate)).toBe(false);
    expect(signals.every((s) => !s.data.description || !s.data.description.sdp.includes('a=candidate'))).toBe(true);
    expect(roomA.peers()[0].path).toBe('connecting');
    await clock.advance(5000);
    expect(roomA.peers()[0].path).toBe('relay');
    expect(roomB.peers()[0].path).toBe('relay');
    expect(server.framesOf('p2p-result')).toEqual([
      expect.objectContaining({ path: 'relay', setupMs: 5000 }),
      expect.objectContaining({ path: 'relay', setupMs: 5000 }),
    ]);
    const m = await roomA.send('over the relay');
    await settle();
    expect(m).toMatchObject({ path: 'relay', status: 'stored' });
    expect(a.stats().sent).toEqual({ p2p: 0, turn: 0, relay: 1 });
  });

  it('only 127.0.0.1 candidates are signalled with a loopback filter, and they connect', async () => {
    const loopback = (c) => c.candidate.includes(' 127.0.0.1 ');
    const { server, roomA, roomB } = await pair({ filter: loopback, reachable: (c) => c.includes(' 127.0.0.1 ') });
    await waitFor(() => roomA.peers()[0]?.path === 'p2p' && roomB.peers()[0]?.path === 'p2p');
    const candidates = server.framesOf('signal').filter((s) => s.data.candidate).map((s) => s.data.candidate.candidate);
    expect(candidates.length).toBeGreaterThan(0);
    expect(candidates.every((c) => c.includes(' 127.0.0.1 '))).toBe(true);
  });

  it('bodies over maxP2pBodyBytes take the relay even with open channels', async () => {
    const { server, roomA, roomB } = await pair();
    await waitFor(() => roomA.peers()[0]?.path === 'p2p' && roomB.peers()[0]?.path === 'p2p');
    const m = await roomA.send('x'.repeat(16001));
    await settle();
    expect(m.path).toBe('relay');
    expect(server.framesOf('send')).toHaveLength(1);
  });

  it('a channel that closes later moves the pair to the relay and reports it', async () => {
    const { server, rtc, roomA, roomB } = await pair();
    await waitFor(() => roomA.peers()[0]?.path === 'p2p' && roomB.peers()[0]?.path === 'p2p');
    [...rtc.pcs.values()].find((pc) => pc.channel?.readyState === 'open').channel.close();
    await waitFor(() => roomA.peers()[0].path === 'relay' && roomB.peers()[0].path === 'relay');
    expect(server.framesOf('p2p-result').filter((r) => r.path === 'relay')).toHaveLength(2);
    const m = await roomA.send('still arrives');
    await settle();
    expect(m.path).toBe('relay');
  });

  it('turn steers use relay-only ICE and report turn', async () => {
    const { server, rtc, roomA, roomB } = await pair({ steerMode: 'turn' });
    await waitFor(() => roomA.peers()[0]?.path === 'turn' && roomB.peers()[0]?.path === 'turn');
    expect([...rtc.pcs.values()].every((pc) => pc.config.iceTransportPolicy === 'relay')).toBe(true);
    expect(server.framesOf('p2p-result').map((r) => r.path)).toEqual(['turn', 'turn']);
    const m = await roomA.send('via turn');
    expect(m.path).toBe('turn');
  });

  it('steer to relay and peer leave close the connection', async () => {
    const { server, rtc, b, roomA, roomB } = await pair();
    await waitFor(() => roomA.peers()[0]?.path === 'p2p' && roomB.peers()[0]?.path === 'p2p');
    server.open[0].deliver({ t: 'steer', room: 'lobby', peer: b.session, mode: 'relay', polite: false, reason: 'mesh-limit' });
    await settle();
    expect(roomA.peers()[0]).toMatchObject({ mode: 'relay', path: 'relay' });
    expect([...rtc.pcs.values()].filter((pc) => pc.signalingState === 'closed').length).toBeGreaterThanOrEqual(1);
    server.open[1].deliver({ t: 'presence', room: 'lobby', event: 'leave', peer: server.open[0].session, user: 'u-1' });
    await settle();
    expect(roomB.peers()).toEqual([]);
    expect([...rtc.pcs.values()].every((pc) => pc.signalingState === 'closed')).toBe(true);
  });

  it('signalling errors from races (peer just left) are counted, not surfaced', async () => {
    const { server, a, roomA, roomB } = await pair();
    await waitFor(() => roomA.peers()[0]?.path === 'p2p' && roomB.peers()[0]?.path === 'p2p');
    const errors = [];
    a.on('error', (e) => errors.push(e));
    const [socketA] = server.open;
    const signal = socketA.sent.find((f) => f.t === 'signal');
    socketA.deliver({ t: 'error', code: 'not_in_room', message: 'gone', ref: signal.id });
    socketA.deliver({ t: 'error', code: 'not_in_room', message: 'unrelated' });
    await settle();
    expect(a.stats().signalErrors).toBe(1);
    expect(errors.map((e) => e.message)).toEqual(['unrelated']);
  });

  it('a dropped socket closes its peer connections without reporting them', async () => {
    const { server, rtc, a, roomA, roomB } = await pair();
    await waitFor(() => roomA.peers()[0]?.path === 'p2p' && roomB.peers()[0]?.path === 'p2p');
    const socketA = server.sockets.find((s) => s.session === a.session);
    const resultsOfA = () => server.log.filter(([s, f]) => s === socketA && f.t === 'p2p-result').length;
    const before = resultsOfA();
    server.accepting = false;
    socketA.drop(1001);
    await settle();
    expect(roomA.peers()).toEqual([]);
    expect([...rtc.pcs.values()].some((pc) => pc.signalingState === 'closed')).toBe(true);
    expect(resultsOfA()).toBe(before);
    // B's side saw its channel close while its own socket is up: it reports the relay fallback
    await waitFor(() => roomB.peers()[0]?.path === 'relay');
  });

  it.each([false, true])('signals that arrive before this side\'s steer are kept for its link (A polite: %s)', async (politeA) => {
    const { server, clock, b, roomA, roomB, steerNowB } = await pair({ steerB: false, politeA });
    await settle();
    await clock.advance(1000); // a polite A offers once it stops waiting for B's offer
    await waitFor(() => server.framesOf('signal').some((f) => f.data.description?.type === 'offer'));
    await settle();
    steerNowB();
    await waitFor(() => roomA.peers()[0]?.path === 'p2p' && roomB.peers()[0]?.path === 'p2p');
    expect(b.stats().droppedSignals).toBe(0);
  });
});
