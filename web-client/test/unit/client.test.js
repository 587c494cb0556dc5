import { afterEach, describe, expect, it } from 'vitest';
import { connect, SwitchboardError } from '../../src/index.js';
import { FakeServer, ManualClock, settle } from './helpers.js';

let clients = [];
afterEach(async () => {
  for (const c of clients) await c.close();
  clients = [];
});

async function start(server, extra = {}) {
  const clock = extra.clock ?? new ManualClock();
  const client = await connect('ws://test/ws', { WebSocket: server.WebSocket, storage: 'memory', clock, p2p: false, idle: (fn) => fn(), ...extra });
  clients.push(client);
  return client;
}

describe('connect', () => {
  it('resolves after welcome with user, session and state open', async () => {
    const server = new FakeServer();
    const client = await start(server);
    expect(client.state).toBe('open');
    expect(client.user).toBe('u-1');
    expect(client.session).toBe('s-1');
    expect(server.framesOf('hello')[0]).toMatchObject({ t: 'hello', resume: {} });
  });

  it('keeps the same user across clients through the stored token', async () => {
    const server = new FakeServer();
    const { MemoryStorage } = await import('../../src/storage.js');
    const first = await start(server);
    await first.storage.kvGet(`token:ws://test/ws`).then((t) => expect(t).toBe('tok-u-1'));
    const second = await start(server, { token: 'tok-u-1' });
    expect(second.user).toBe('u-1');
    expect(MemoryStorage).toBeDefined();
  });
});

describe('rooms', () => {
  it('join resolves on joined; messages from others arrive as message events', async () => {
    const server = new FakeServer();
    server.append('lobby', 'u-x', 'before');
    const client = await start(server);
    const room = await client.join('lobby');
    expect(room.head).toBe(1);
    // the gap since the (empty) cache came from history
    expect(room.messages.map((m) => m.body)).toEqual(['before']);
    const seen = [];
    room.on('message', (m) => seen.push(m));
    const m = server.append('lobby', 'u-x', '안녕하세요 👋');
    server.open[0].deliver({ t: 'msg', room: 'lobby', ...m });
    await settle();
    expect(seen).toEqual([expect.objectContaining({ seq: 2, from: 'u-x', body: '안녕하세요 👋', path: 'relay', mine: false })]);
    expect(room.pathOf(m.cid)).toBe('relay');
    expect(client.stats().received.relay).toBe(1);
  });

  it('send goes pending → stored with the server seq, and the relay path', async () => {
    const server = new FakeServer();
    const client = await start(server);
    const room = await client.join('lobby');
    const updates = [];
    const optimistic = [];
    room.on('update', (u) => updates.push({ ...u }));
    room.on('message', (u) => optimistic.push({ ...u }));
    const m = await room.send('hello');
    expect(optimistic).toEqual([expect.objectContaining({ seq: null, status: 'pending', from: 'u-1', body: 'hello', mine: true })]);
    expect(m.cid).toMatch(/^[0-9a-f-]{36}$/);
    await settle();
    expect(m).toMatchObject({ seq: 1, status: 'stored', path: 'relay' });
    expect(updates.at(-1)).toMatchObject({ seq: 1, status: 'stored' });
    expect(server.framesOf('send')).toEqual([expect.objectContaining({ room: 'lobby', cid: m.cid, body: 'hello' })]);
    expect(client.stats()).toMatchObject({ outbox: 0, sent: { relay: 1, p2p: 0, turn: 0 } });
    expect(room.pathOf(m.cid)).toBe('relay');
  });

  it('ack stored:false leaves the message sent and in the outbox until stored:true', async () => {
    const server = new FakeServer();
    server.autoAck = false;
    const client = await start(server);
    const room = await client.join('lobby');
    const m = await room.send('x');
    const socket = server.open[0];
    socket.deliver({ t: 'ack', room: 'lobby', cid: m.cid, seq: 1, stored: false });
    await settle();
    expect(m.status).toBe('sent');
    expect(client.stats().outbox).toBe(1);
    socket.deliver({ t: 'ack', room: 'lobby', cid: m.cid, seq: 1, stored: true });
    await settle();
    expect(m.status).toBe('stored');
    expect(client.stats().outbox).toBe(0);
  });

  it('presence updates peers() and emits presence', async () => {
    const server = new FakeServer();
    const a = await start(server);
    const roomA = await a.join('lobby');
    const events = [];
    roomA.on('presence', (p) => events.push(p));
    const b = await start(server);
    await b.join('lobby');
    await settle();
    expect(events).toEqual([{ room: 'lobby', event: 'join', peer: 's-2', user: 'u-2' }]);
    expect(roomA.peers()).toEqual([{ peer: 's-2', user: 'u-2', mode: 'relay', path: 'relay' }]);
    server.open[0].deliver({ t: 'presence', room: 'lobby', event: 'leave', peer: 's-2', user: 'u-2' });
    await settle();
    expect(roomA.peers()).toEqual([]);
  });

  it('unread and setMode', async () => {
    const server = new FakeServer();
    const client = await start(server);
    const room = await client.join('lobby', { mode: 'background' });
    expect(server.framesOf('join')[0]).toMatchObject({ mode: 'background' });
    const unread = [];
    room.on('unread', (u) => unread.push(u));
    server.append('lobby', 'u-x', 'one');
    server.append('lobby', 'u-x', 'two');
    server.open[0].deliver({ t: 'unread', room: 'lobby', count: 2, lastSeq: 2, preview: 'two' });
    await settle();
    expect(room.unread).toBe(2);
    await room.setMode('active');
    expect(room.unread).toBe(0);
    expect(room.messages.map((m) => m.body)).toEqual(['one', 'two']);
    expect(unread.map((u) => u.count)).toEqual([2, 0]);
  });
});

describe('errors', () => {
  it('a request rejected by an error frame rejects with SwitchboardError(code, ref)', async () => {
    const server = new FakeServer();
    server.handlers.join = (socket, f) => {
      socket.deliver({ t: 'error', code: 'too_many_rooms', message: 'no', ref: f.id });
      return true;
    };
    const client = await start(server);
    const err = await client.join('lobby').catch((e) => e);
    expect(err).toBeInstanceOf(SwitchboardError);
    expect(err).toMatchObject({ code: 'too_many_rooms', ref: server.framesOf('join')[0].id });
    expect(client.rooms.size).toBe(0);
  });

  it('unsolicited error frames go to the client error event', async () => {
    const server = new FakeServer();
    const client = await start(server);
    const errors = [];
    client.on('error', (e) => errors.push(e));
    server.open[0].deliver({ t: 'error', code: 'rate_limited', message: 'slow down' });
    await settle();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(SwitchboardError);
    expect(errors[0].code).toBe('rate_limited');
  });

  it('malformed server frames are reported, not thrown', async () => {
    const server = new FakeServer();
    const client = await start(server);
    const errors = [];
    client.on('error', (e) => errors.push(e.code));
    server.open[0].deliver('{"t":"msg","room":"lobby"}');
    server.open[0].deliver('not json');
    await settle();
    expect(errors).toEqual(['bad_frame', 'bad_frame']);
    expect(client.state).toBe('open');
  });

  it('send refuses invalid bodies locally', async () => {
    const server = new FakeServer();
    const client = await start(server);
    const room = await client.join('lobby');
    await expect(room.send('')).rejects.toMatchObject({ code: 'bad_request' });
    await expect(room.send('x'.repeat(16385))).rejects.toMatchObject({ code: 'too_large' });
    expect(server.framesOf('send')).toEqual([]);
  });

  it('a send the server refuses for good is marked failed and leaves the outbox', async () => {
    const server = new FakeServer();
    server.handlers.send = (socket, f) => {
      socket.deliver({ t: 'error', code: 'bad_request', message: 'no', ref: f.id });
      return true;
    };
    const client = await start(server);
    const errors = [];
    client.on('error', (e) => errors.push(e.code));
    const room = await client.join('lobby');
    const m = await room.send('x');
    await settle();
    expect(m.status).toBe('failed');
    expect(client.stats().outbox).toBe(0);
    expect(errors).toEqual(['bad_request']);
  });
});

describe('offline-first start (waitForServer: false)', () => {
  it('resolves with the server unreachable; sends queue in the outbox and the join completes once it is back', async () => {
    const server = new FakeServer();
    server.accepting = false;
    const clock = new ManualClock();
    const client = await start(server, { clock, waitForServer: false, requestTimeoutMs: 1000 });
    expect(client.state).not.toBe('open');
    const opened = [];
    client.on('room', (r) => opened.push(r.name));
    const joined = client.join('lobby');
    await settle();
    expect(opened).toEqual(['lobby']);
    const room = client.rooms.get('lobby');
    const m = await room.send('written offline');
    expect(m.status).toBe('pending');
    expect(client.stats().outbox).toBe(1);
    // Longer than the request timeout: a join made offline waits for the connection instead of failing.
    await clock.advance(5000);
    server.accepting = true;
    await clock.advance(60_000);
    await joined;
    await settle();
    expect(client.state).toBe('open');
    expect(server.room('lobby').messages.map((x) => x.body)).toEqual(['written offline']);
    expect(m).toMatchObject({ status: 'stored', seq: 1, from: 'u-1', path: 'relay' });
    expect(room.messages).toEqual([m]);
  });

  it('sync() uploads waiting P2P messages at once instead of at the next interval', async () => {
    const server = new FakeServer();
    const client = await start(server, { syncIntervalMs: 600_000 });
    await client.join('lobby');
    client.batcher.add('lobby', 'p-1', 'went over a DataChannel');
    client.sync();
    await settle();
    expect(server.framesOf('batch')).toHaveLength(1);
  });
});
