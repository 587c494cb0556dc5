import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { Connection } from '../../src/connection.js';
import { connect, SwitchboardError } from '../../src/index.js';
import { UrlRotation } from '../../src/urls.js';
import { FakeServer, ManualClock, settle } from './helpers.js';

let closers = [];
afterEach(async () => {
  for (const c of closers) await c.close();
  closers = [];
});

const A = 'ws://a/ws';
const B = 'ws://b/ws';
const C = 'ws://c/ws';

/**
 * Relays on one database: each URL its own FakeServer (sockets, sessions, accepting) over one
 * shared room map, as two relays share Postgres. `WebSocket` routes by URL.
 */
function relays(...urls) {
  const servers = Object.fromEntries(urls.map((u) => [u, new FakeServer()]));
  const first = servers[urls[0]];
  first.epochs = true;
  for (const s of Object.values(servers)) s.rooms = first.rooms;
  class WebSocket {
    constructor(url) {
      return new servers[url].WebSocket(url);
    }
  }
  return { servers, WebSocket };
}

function open(urls, WebSocket, opts = {}) {
  const clock = opts.clock ?? new ManualClock();
  const network = { onLine: true, addEventListener() {}, removeEventListener() {} };
  const conn = new Connection(urls, { WebSocket, clock, random: () => 0, network, ...opts });
  closers.push(conn);
  return { conn, clock };
}

/** The URLs connects went to, in order. */
const tried = (servers) =>
  Object.values(servers)
    .flatMap((s) => s.sockets)
    .map((ws) => ws.url);

describe('UrlRotation', () => {
  it('stays on a URL until it fails, then takes the next one in order', () => {
    let t = 0;
    const r = new UrlRotation([A, B, C], { cooldownMs: 1000, now: () => t });
    expect(r.current).toBe(A);
    r.succeeded();
    expect(r.current).toBe(A);
    r.refused();
    expect(r.current).toBe(B);
    r.refused();
    expect(r.current).toBe(C);
  });

  it('skips a refused URL until its cooldown is over', () => {
    let t = 0;
    const r = new UrlRotation([A, B, C], { cooldownMs: 1000, now: () => t });
    r.refused(); // A skipped until 1000
    expect(r.current).toBe(B);
    t = 500;
    r.refused(); // B skipped until 1500; A still skipped: C
    expect(r.current).toBe(C);
    t = 900;
    r.refused(); // C skipped until 1900; every URL skipped: the one free first (A, at 1000)
    expect(r.current).toBe(A);
    t = 1600;
    r.refused(); // A skipped until 2600; B's wait is over (1500), C's is not (1900)
    expect(r.current).toBe(B);
  });

  it('a URL that said welcome is usable again at once; ties go round the list', () => {
    let t = 0;
    const r = new UrlRotation([A, B], { cooldownMs: 1000, now: () => t });
    r.refused(); // A skipped until 1000
    r.refused(); // B skipped until 1000 too: a tie, the next in order (A)
    expect(r.current).toBe(A);
    r.succeeded(); // A said welcome
    t = 10;
    r.refused(); // A skipped until 1010; B (until 1000) is free first
    expect(r.current).toBe(B);
    r.succeeded(); // B said welcome: no longer skipped
    r.refused();
    expect(r.current).toBe(A); // B skipped until 1010, A until 1010: the next in order
    r.refused();
    expect(r.current).toBe(B);
  });

  it('moveOn moves only when another URL is usable now', () => {
    let t = 0;
    const r = new UrlRotation([A, B], { cooldownMs: 1000, now: () => t });
    expect(r.moveOn()).toBe(true);
    expect(r.current).toBe(B);
    expect(r.moveOn()).toBe(false); // A is skipped
    expect(r.current).toBe(B);
    t = 1000;
    expect(r.moveOn()).toBe(true);
    expect(r.current).toBe(A);
    expect(new UrlRotation([A]).moveOn()).toBe(false);
  });

  it('one URL is always the one tried', () => {
    const r = new UrlRotation([A]);
    r.refused();
    expect(r.current).toBe(A);
  });

  it('refuses an empty list or a non-string with bad_url', async () => {
    for (const bad of [[], [''], [A, 7], undefined]) {
      expect(() => new UrlRotation(bad)).toThrow(SwitchboardError);
    }
    const err = await connect([], { storage: 'memory', p2p: false }).catch((e) => e);
    expect(err).toMatchObject({ code: 'bad_url' });
  });
});

describe('Connection over several URLs', () => {
  it('after a kill it tries the same relay once, then the next one, with backoff; resume goes with it', async () => {
    const { servers, WebSocket } = relays(A, B);
    let resume = {};
    const { conn, clock } = open([A, B], WebSocket, { getResume: () => resume });
    const states = [];
    conn.on('state', (s) => states.push(s));
    await conn.start();
    expect(conn.url).toBe(A);
    resume = { lobby: { seq: 7, epoch: 'ep1' } };
    servers[A].accepting = false; // killed: refuses connections from now on
    servers[A].open[0].drop(1006);
    await settle();
    expect(states.at(-1)).toMatchObject({ state: 'reconnecting', retryInMs: 500 });
    await clock.advance(500);
    expect(tried(servers)).toEqual([A, A]);
    expect(conn.state).toBe('reconnecting');
    expect(states.at(-1).retryInMs).toBe(1000); // backoff goes on across URLs
    await clock.advance(1000);
    expect(tried(servers)).toEqual([A, A, B]);
    expect(conn.state).toBe('open');
    expect(conn.url).toBe(B);
    expect(servers[B].framesOf('hello')[0].resume).toEqual({ lobby: { seq: 7, epoch: 'ep1' } });
  });

  it('a plain drop of a relay that still answers reconnects to it, not to the next', async () => {
    const { servers, WebSocket } = relays(A, B);
    const { conn, clock } = open([A, B], WebSocket);
    await conn.start();
    for (const code of [1006, 1011]) {
      servers[A].open[0].drop(code);
      await settle();
      await clock.advance(500);
      expect(conn.state).toBe('open');
      expect(conn.url).toBe(A);
    }
    expect(servers[B].sockets).toHaveLength(0);
  });

  it('close 1001, 1012 and 1013 send the client to the next URL at once, skipping the one that sent it away', async () => {
    const { servers, WebSocket } = relays(A, B, C);
    const { conn, clock } = open([A, B, C], WebSocket, { urlCooldownMs: 30000 });
    await conn.start();
    servers[A].open[0].drop(1001, 'shutting down');
    await settle();
    await clock.advance(500);
    expect(conn.url).toBe(B);
    servers[B].open[0].drop(1013, 'overloaded');
    await settle();
    await clock.advance(500);
    expect(conn.url).toBe(C); // not A: it is skipped for 30 s
    servers[C].open[0].drop(1012, 'restarting');
    await settle();
    await clock.advance(500);
    expect(conn.url).toBe(A); // all three skipped: A's wait ends first
    expect(conn.state).toBe('open');
    expect(tried(servers).sort()).toEqual([A, A, B, C]);
  });

  it('a refused first connect fails over to the next URL; the skipped one is tried again after its cooldown', async () => {
    const { servers, WebSocket } = relays(A, B);
    servers[A].accepting = false;
    const { conn, clock } = open([A, B], WebSocket, { urlCooldownMs: 5000 });
    const started = conn.start();
    await settle();
    await clock.advance(500);
    expect((await started).t).toBe('welcome');
    expect(conn.url).toBe(B);
    // B goes away; A answers again but is still skipped: B is tried (it failed less recently)
    servers[A].accepting = true;
    servers[B].accepting = false;
    servers[B].open[0].drop(1006);
    await settle();
    await clock.advance(500); // B again (a plain drop): refused, B now skipped too
    expect(tried(servers)).toEqual([A, B, B]);
    await clock.advance(1000); // both skipped: A's wait (until t0 + 5000) ends first
    expect(conn.url).toBe(A);
    expect(conn.state).toBe('open');
  });

  it('a connect that times out counts as refused: the next try goes elsewhere', async () => {
    const { servers, WebSocket } = relays(A, B);
    servers[A].handlers.hello = () => true; // A accepts the socket and never says welcome
    const { conn, clock } = open([A, B], WebSocket, { connectTimeoutMs: 2000 });
    const started = conn.start();
    await settle();
    await clock.advance(2000 + 500);
    expect((await started).t).toBe('welcome');
    expect(conn.url).toBe(B);
  });

  it('auth_unavailable on hello moves on to the next relay', async () => {
    const { servers, WebSocket } = relays(A, B);
    servers[A].authenticate = () => 'auth_unavailable';
    const { conn, clock } = open([A, B], WebSocket);
    const errors = [];
    conn.on('error', (e) => errors.push(e.code));
    const started = conn.start();
    await settle();
    await clock.advance(500);
    expect((await started).t).toBe('welcome');
    expect(conn.url).toBe(B);
    expect(errors).toEqual(['auth_unavailable']);
  });

  it('an unauthorized token is not a reason to change relays', async () => {
    const { servers, WebSocket } = relays(A, B);
    servers[A].authenticate = (token) => (token === 'good' ? { user: 'u-1' } : null);
    const { conn, clock } = open([A, B], WebSocket, { token: 'bad', fixedToken: true });
    const outcome = conn.start().catch((e) => e);
    await settle();
    await clock.advance(60000);
    expect((await outcome).code).toBe('unauthorized');
    expect(conn.state).toBe('suspended');
    expect(servers[B].sockets).toHaveLength(0);
  });
});

describe('client failover', () => {
  it('rooms, epochs and the outbox move to the second relay: nothing acked stored is lost, unstored ones are re-sent', async () => {
    const { servers, WebSocket } = relays(A, B);
    const clock = new ManualClock();
    const client = await connect([A, B], { WebSocket, storage: 'memory', clock, p2p: false, idle: (fn) => fn(), random: () => 0 });
    closers.push(client);
    expect(client.url).toBe(A);
    const room = await client.join('lobby');
    const stored = await room.send('stored on A');
    await settle();
    expect(stored.status).toBe('stored');
    servers[A].ackStored = false; // A fans out and acks stored:false: its writes lag
    const unstored = await room.send('only fanned out by A');
    await settle();
    expect(unstored.status).toBe('sent');

    // kill -9 of A: its unwritten message is gone; B takes the room over in a new epoch above seq 1
    servers[A].accepting = false;
    servers[A].open[0].drop(1006);
    servers[B].takeOver('lobby', 1);
    await settle();
    const waiting = await room.send('written while no relay answers');
    await clock.advance(500 + 1000);
    await settle();

    expect(client.url).toBe(B);
    expect(servers[B].framesOf('hello')[0].resume).toEqual({ lobby: { seq: 2, epoch: 'ep1' } });
    expect(servers[B].framesOf('hello')[0].token).toBe(`tok-${client.user}`);
    const resent = servers[B].framesOf('send');
    expect(resent.map((f) => [f.body, f.resend])).toEqual([['only fanned out by A', true], ['written while no relay answers', true]]);
    expect([stored, unstored, waiting].map((m) => [m.seq, m.status])).toEqual([[1, 'stored'], [2, 'stored'], [3, 'stored']]);
    expect(room.epoch).toBe('ep2');
    expect(room.messages.map((m) => m.body)).toEqual(['stored on A', 'only fanned out by A', 'written while no relay answers']);
    expect(client.stats().outbox).toBe(0);
    expect(client.stats().reconnects).toBe(1);
  });

  it('a join refused with room_unavailable (another relay sequences the room) moves to the next relay', async () => {
    const { servers, WebSocket } = relays(A, B);
    servers[A].handlers.join = (socket, f) => {
      socket.deliver({ t: 'error', code: 'room_unavailable', message: 'another relay', ref: f.id, room: f.room });
      return true;
    };
    const clock = new ManualClock();
    const client = await connect([A, B], { WebSocket, storage: 'memory', clock, p2p: false, random: () => 0 });
    closers.push(client);
    const joining = client.join('lobby');
    await settle();
    await clock.advance(500 + 500);
    const room = await joining;
    expect(room.joined).toBe(true);
    expect(client.url).toBe(B);
    expect(servers[B].framesOf('join').map((f) => f.room)).toEqual(['lobby']);
    expect(client.stats().roomUnavailable).toBe(1);
  });

  it('a room taken away unsolicited (fenced) is rejoined on the next relay', async () => {
    const { servers, WebSocket } = relays(A, B);
    const clock = new ManualClock();
    const client = await connect([A, B], { WebSocket, storage: 'memory', clock, p2p: false, random: () => 0 });
    closers.push(client);
    const room = await client.join('lobby');
    servers[A].open[0].deliver({ t: 'error', code: 'room_unavailable', message: 'moved', room: 'lobby' });
    await settle();
    expect(room.joined).toBe(false);
    await clock.advance(500 + 500);
    expect(client.url).toBe(B);
    expect(room.joined).toBe(true);
    expect(servers[B].framesOf('join').map((f) => f.room)).toEqual(['lobby']);
  });

  it('room_unavailable keeps the client where it is when no other relay is usable (the other is dead)', async () => {
    const { servers, WebSocket } = relays(A, B);
    const clock = new ManualClock();
    const client = await connect([A, B], { WebSocket, storage: 'memory', clock, p2p: false, random: () => 0 });
    closers.push(client);
    servers[A].accepting = false;
    servers[A].open[0].drop(1006);
    await settle();
    await clock.advance(500 + 1000); // A refused: skipped; the client is on B
    expect(client.url).toBe(B);
    let refusals = 1; // B is still taking the room over from A: refused once
    servers[B].handlers.join = (socket, f) => {
      if (refusals-- <= 0) return false;
      socket.deliver({ t: 'error', code: 'room_unavailable', message: 'loading', ref: f.id, room: f.room });
      return true;
    };
    const joining = client.join('lobby');
    await settle();
    await clock.advance(500);
    expect((await joining).joined).toBe(true);
    expect(client.url).toBe(B);
    expect(servers[A].sockets).toHaveLength(2);
  });

  it('the guest token is kept per URL list; one URL in an array keeps the key of that URL', async () => {
    const { servers, WebSocket } = relays(A, B);
    const clock = new ManualClock();
    const opts = { WebSocket, clock, p2p: false, random: () => 0, idle: (fn) => fn() };
    const single = await connect(A, { ...opts, dbName: 'failover-keys' });
    const user = single.user;
    await single.close();
    const asArray = await connect([A], { ...opts, dbName: 'failover-keys' });
    closers.push(asArray);
    expect(asArray.user).toBe(user);
    const pair = await connect([A, B], { ...opts, dbName: 'failover-keys' });
    expect(pair.user).not.toBe(user); // another list: another identity (none stored for it yet)
    const pairUser = pair.user;
    await pair.close();
    const pairAgain = await connect([A, B], { ...opts, dbName: 'failover-keys' });
    closers.push(pairAgain);
    expect(pairAgain.user).toBe(pairUser);
    expect(servers[A].framesOf('hello').map((f) => f.token)).toEqual([undefined, `tok-${user}`, undefined, `tok-${pairUser}`]);
  });
});
