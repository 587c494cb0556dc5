// room_moved: a cluster moved a room's sequencer to another relay. The client rejoins at once on
// the same connection (the relay it is on reaches the room wherever it lives), keeps its outbox and
// resends after `joined`; nothing about it counts against the relay URL.
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/index.js';
import { FakeServer, ManualClock, settle, waitFor } from './helpers.js';

const A = 'ws://a/ws';
const B = 'ws://b/ws';

let clients = [];
afterEach(async () => {
  for (const c of clients) await c.close();
  clients = [];
});

/** Two relays of one cluster on one room map; the client starts on A. */
async function start() {
  const a = new FakeServer();
  const b = new FakeServer();
  a.epochs = true;
  b.rooms = a.rooms;
  class WebSocket {
    constructor(url) {
      return new (url === A ? a : b).WebSocket(url);
    }
  }
  const clock = new ManualClock();
  const client = await connect([A, B], { WebSocket, storage: 'memory', clock, p2p: false, random: () => 0 });
  clients.push(client);
  return { a, b, client, clock };
}

const moved = (room, extra = {}) => ({ t: 'error', code: 'room_moved', message: 'moved', room, ...extra });

describe('room_moved', () => {
  it('unsolicited: rejoins at once on the same socket and URL, and resends the outbox after joined', async () => {
    const { a, b, client, clock } = await start();
    const errors = [];
    client.on('error', (e) => errors.push(e));
    const room = await client.join('lobby');
    a.autoAck = false; // the relay sequenced it, then the room moved before the write: no ack
    const m = await room.send('in flight');
    expect(a.framesOf('send')).toHaveLength(1);

    a.room('lobby').members.delete(a.open[0]);
    a.open[0].deliver(moved('lobby'));
    await settle();
    expect(room.joined).toBe(false);
    expect(client.outbox.size).toBe(1);
    a.autoAck = true;
    await clock.advance(10); // 20 ms × (0.5 + random 0): no backoff, no URL change
    await waitFor(() => m.status === 'stored');
    expect(room.joined).toBe(true);
    expect(a.sockets).toHaveLength(1);
    expect(a.open).toHaveLength(1);
    expect(b.sockets).toHaveLength(0);
    expect(client.url).toBe(A);
    const frames = a.log.map(([, f]) => f.t).filter((t) => t === 'join' || t === 'send');
    expect(frames).toEqual(['join', 'send', 'join', 'send']);
    expect(a.framesOf('send')[1]).toMatchObject({ cid: m.cid, resend: true });
    expect(m.seq).toBe(1);
    expect(client.outbox.size).toBe(0);
    const stats = client.stats();
    expect(stats.roomMoved).toBe(1);
    expect(stats.roomUnavailable).toBe(0);
    expect(stats.reconnects).toBe(0);
    expect(errors).toEqual([]);
  });

  it('answering a send: the message stays in the outbox and goes again after the rejoin', async () => {
    const { a, client, clock } = await start();
    const errors = [];
    client.on('error', (e) => errors.push(e));
    const room = await client.join('lobby');
    a.handlers.send = (socket, f) => {
      socket.deliver({ t: 'error', code: 'room_moved', message: 'moving', ref: f.id });
      return true;
    };
    const m = await room.send('refused');
    await settle();
    expect(m.status).toBe('pending');
    expect(client.outbox.size).toBe(1);
    delete a.handlers.send;
    a.room('lobby').members.delete(a.open[0]);
    a.open[0].deliver(moved('lobby'));
    await settle();
    await clock.advance(10);
    await waitFor(() => m.status === 'stored');
    expect(a.room('lobby').messages.map((x) => x.body)).toEqual(['refused']);
    expect(errors).toEqual([]);
    expect(client.url).toBe(A);
  });

  it('answering a join: retried at once a few times, then with the normal backoff; never another URL', async () => {
    const { a, b, client, clock } = await start();
    let refusals = 7;
    a.handlers.join = (socket, f) => {
      if (refusals-- <= 0) return false;
      socket.deliver({ t: 'error', code: 'room_moved', message: 'moving', ref: f.id, room: f.room });
      return true;
    };
    const joining = client.join('lobby');
    await settle();
    // five quick retries: 10 + 20 + 40 + 80 + 160 ms (random 0 halves each)
    await clock.advance(10 + 20 + 40 + 80 + 160);
    expect(a.framesOf('join')).toHaveLength(6);
    expect(client.stats().roomMoved).toBe(5);
    // past the quick retries: the reconnect backoff (500 ms at first with random 0)
    await clock.advance(499);
    expect(a.framesOf('join')).toHaveLength(6);
    await clock.advance(1 + 1000);
    const room = await joining;
    expect(room.joined).toBe(true);
    expect(a.framesOf('join')).toHaveLength(8);
    expect(client.url).toBe(A);
    expect(b.sockets).toHaveLength(0);
    expect(client.stats().roomUnavailable).toBe(0);
  });

  it('answering the resume of a reconnect: rejoined at once', async () => {
    const { a, client, clock } = await start();
    const room = await client.join('lobby');
    a.handlers.hello = (socket, f) => {
      if (!f.resume) return false;
      socket.session = 's-again';
      socket.user = f.token.slice(4);
      socket.deliver({ t: 'welcome', id: f.id, session: 's-again', user: socket.user, token: f.token, heartbeatMs: 15000, limits: a.limits });
      socket.deliver(moved('lobby'));
      return true;
    };
    a.open[0].drop(1006);
    await settle();
    await clock.advance(1000);
    await waitFor(() => a.open.length === 1);
    expect(a.framesOf('hello').at(-1).resume).toHaveProperty('lobby');
    await clock.advance(10);
    await waitFor(() => room.joined && a.framesOf('join').length === 2);
    expect(client.stats().roomMoved).toBe(1);
  });
});
