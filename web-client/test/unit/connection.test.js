import { afterEach, describe, expect, it } from 'vitest';
import { Connection } from '../../src/connection.js';
import { connect, SwitchboardError } from '../../src/index.js';
import { FakeServer, ManualClock, settle } from './helpers.js';

let closers = [];
afterEach(async () => {
  for (const c of closers) await c.close();
  closers = [];
});

function fakeNetwork() {
  const listeners = {};
  return {
    onLine: true,
    addEventListener: (t, f) => (listeners[t] = f),
    removeEventListener: (t) => delete listeners[t],
    go(online) {
      this.onLine = online;
      listeners[online ? 'online' : 'offline']?.();
    },
  };
}

function open(server, opts = {}) {
  const clock = opts.clock ?? new ManualClock();
  const conn = new Connection('ws://test/ws', { WebSocket: server.WebSocket, clock, random: () => 0, network: fakeNetwork(), ...opts });
  closers.push(conn);
  const states = [];
  conn.on('state', (s) => states.push(s));
  return { conn, clock, states };
}

describe('Connection', () => {
  it('correlates replies by id, in any order', async () => {
    const server = new FakeServer();
    const held = [];
    server.handlers.history = (socket, f) => held.push([socket, f]) > 0;
    const { conn } = open(server);
    await conn.start();
    const first = conn.request({ t: 'history', room: 'a' });
    const second = conn.request({ t: 'history', room: 'b' });
    await settle();
    const [[socket, f1], [, f2]] = held;
    expect(f1.id).not.toBe(f2.id);
    socket.deliver({ t: 'page', id: f2.id, room: 'b', messages: [], hasMore: false });
    socket.deliver({ t: 'page', id: f1.id, room: 'a', messages: [], hasMore: true });
    expect((await first).room).toBe('a');
    expect((await second).room).toBe('b');
  });

  it('an error frame with ref rejects that request with a SwitchboardError', async () => {
    const server = new FakeServer();
    server.handlers.history = (socket, f) => {
      socket.deliver({ t: 'error', code: 'not_joined', message: "join room 'lobby' first", ref: f.id });
      return true;
    };
    const { conn } = open(server);
    await conn.start();
    const err = await conn.request({ t: 'history', room: 'lobby' }).catch((e) => e);
    expect(err).toBeInstanceOf(SwitchboardError);
    expect(err.code).toBe('not_joined');
    expect(err.ref).toBe(server.framesOf('history')[0].id);
  });

  it('refuses to send invalid frames', async () => {
    const server = new FakeServer();
    const { conn } = open(server);
    await conn.start();
    expect(() => conn.send({ t: 'join', room: 'no spaces' })).toThrow(SwitchboardError);
    await expect(conn.request({ t: 'history', room: 'r', limit: 0 })).rejects.toMatchObject({ code: 'bad_request' });
    expect(server.framesOf('join')).toEqual([]);
  });

  it('sends hello with the resume map on every (re)connect', async () => {
    const server = new FakeServer();
    let resume = {};
    const { conn, clock, states } = open(server, { getResume: () => resume });
    await conn.start();
    resume = { lobby: 41, 'team:7': 0 };
    server.open[0].drop(1001, 'shutting down');
    await settle();
    expect(states.at(-1)).toEqual({ state: 'reconnecting', previous: 'open', retryInMs: 500 });
    await clock.advance(500);
    const hellos = server.framesOf('hello');
    expect(hellos).toHaveLength(2);
    expect(hellos[1]).toMatchObject({ resume: { lobby: 41, 'team:7': 0 }, token: 'tok-u-1' });
    expect(conn.state).toBe('open');
  });

  it('requests in flight during a drop are sent again after the next welcome', async () => {
    const server = new FakeServer();
    let swallow = true;
    server.handlers.history = () => swallow;
    const { conn, clock } = open(server);
    await conn.start();
    const page = conn.request({ t: 'history', room: 'lobby' });
    await settle();
    server.open[0].drop(1011);
    swallow = false;
    await settle();
    await clock.advance(500);
    expect((await page).t).toBe('page');
    expect(server.framesOf('history')).toHaveLength(2);
  });

  it('backs off exponentially while connects fail, then the breaker suspends', async () => {
    const server = new FakeServer();
    const { conn, clock, states } = open(server, { breaker: { failures: 4, openMs: 60000 } });
    await conn.start();
    server.accepting = false;
    server.open[0].drop(1006);
    await settle();
    const delays = [states.at(-1).retryInMs];
    for (let i = 0; i < 3; i++) {
      await clock.advance(delays.at(-1));
      delays.push(states.at(-1).retryInMs);
    }
    expect(delays).toEqual([500, 1000, 2000, 4000]);
    expect(conn.state).toBe('reconnecting');
    // the 4th failed connect opens the breaker
    await clock.advance(4000);
    expect(conn.state).toBe('suspended');
    expect(states.at(-1).retryInMs).toBe(60000);
    const sockets = server.sockets.length;
    await clock.advance(59999);
    expect(server.sockets.length).toBe(sockets); // no hammering while open
    server.accepting = true;
    await clock.advance(1); // half-open probe
    expect(server.sockets.length).toBe(sockets + 1);
    expect(conn.state).toBe('open');
    expect(conn.breaker.state).toBe('closed');
  });

  it('a failed half-open probe suspends again; reconnect() tries at once', async () => {
    const server = new FakeServer();
    const { conn, clock } = open(server, { breaker: { failures: 1, openMs: 1000 } });
    await conn.start();
    server.accepting = false;
    server.open[0].drop(1006);
    await settle();
    await clock.advance(500);
    expect(conn.state).toBe('suspended');
    await clock.advance(1000);
    expect(conn.state).toBe('suspended');
    server.accepting = true;
    conn.reconnect();
    await settle();
    expect(conn.state).toBe('open');
  });

  it('does not loop after 1008 or 1009', async () => {
    for (const code of [1008, 1009]) {
      const server = new FakeServer();
      const { conn, clock } = open(server);
      const errors = [];
      conn.on('error', (e) => errors.push(e.code));
      await conn.start();
      server.open[0].drop(code, 'too many errors');
      await settle();
      await clock.advance(120000);
      expect(conn.state).toBe('suspended');
      expect(server.sockets).toHaveLength(1);
      expect(errors).toEqual(['policy_violation']);
    }
  });

  it('pings every heartbeat and replaces a socket that stopped answering', async () => {
    const server = new FakeServer();
    server.heartbeatMs = 1000;
    let deaf = false;
    server.handlers.ping = () => deaf;
    const { conn, clock } = open(server);
    await conn.start();
    await clock.advance(3000);
    // one at the welcome (it times the server's clock), then one per beat
    expect(server.framesOf('ping')).toHaveLength(4);
    expect(server.sockets).toHaveLength(1);
    deaf = true;
    await clock.advance(1000);
    expect(conn.state).toBe('open'); // one missed answer is not yet death
    await clock.advance(1000);
    expect(server.sockets[0].readyState).toBe(3);
    expect(conn.state).toBe('reconnecting');
    await clock.advance(500);
    expect(server.sockets.length).toBe(2);
    expect(conn.state).toBe('open');
  });

  it('waits for the network instead of retrying while offline', async () => {
    const server = new FakeServer();
    const { conn, clock } = open(server);
    await conn.start();
    conn.network.onLine = false;
    server.open[0].drop(1006);
    await settle();
    expect(conn.state).toBe('offline');
    await clock.advance(60000);
    expect(server.sockets).toHaveLength(1);
    conn.network.go(true);
    await settle();
    expect(conn.state).toBe('open');
  });

  it('drops an open socket when the browser goes offline (it may linger, half dead) and resumes when back', async () => {
    const server = new FakeServer();
    const { conn } = open(server);
    await conn.start();
    const closes = [];
    conn.on('close', (c) => closes.push(c));
    conn.network.go(false);
    await settle();
    expect(conn.state).toBe('offline');
    expect(closes).toHaveLength(1);
    expect(server.open).toHaveLength(0);
    expect(conn.send({ t: 'ping' })).toBe(false);
    conn.network.go(true);
    await settle();
    expect(conn.state).toBe('open');
    expect(server.framesOf('hello')).toHaveLength(2);
  });

  it('retries hello without a token the server did not sign', async () => {
    const server = new FakeServer();
    server.handlers.hello = (socket, f) => {
      if (f.token !== 'forged') return false;
      socket.deliver({ t: 'error', code: 'unauthorized', message: 'bad token', ref: f.id });
      return true;
    };
    const { conn } = open(server, { token: 'forged' });
    const welcome = await conn.start();
    expect(welcome.user).toBe('u-1');
    expect(server.framesOf('hello').map((h) => h.token)).toEqual(['forged', undefined]);
  });
});

describe('client over reconnects', () => {
  it('rooms rejoin through hello.resume and the server replays what was missed', async () => {
    const server = new FakeServer();
    const clock = new ManualClock();
    const client = await connect('ws://t/ws', { WebSocket: server.WebSocket, storage: 'memory', clock, p2p: false, idle: (fn) => fn(), random: () => 0 });
    closers.push(client);
    server.append('lobby', 'u-x', 'a');
    const room = await client.join('lobby');
    await client.join('quiet');
    server.open[0].drop(1001);
    server.append('lobby', 'u-x', 'b');
    server.append('lobby', 'u-x', 'c');
    await settle();
    const seen = [];
    room.on('message', (m) => seen.push(m.body));
    await clock.advance(500);
    expect(server.framesOf('hello')[1].resume).toEqual({ lobby: 1, quiet: 0 });
    expect(seen).toEqual(['b', 'c']);
    expect(room.lastSeq).toBe(3);
    expect(client.stats().reconnects).toBe(1);
  });

  it('connect rejects once the breaker gives up on a server that never answers', async () => {
    const server = new FakeServer();
    server.accepting = false;
    const clock = new ManualClock();
    const pending = connect('ws://t/ws', { WebSocket: server.WebSocket, storage: 'memory', clock, random: () => 0, breaker: { failures: 2 } });
    const outcome = pending.catch((e) => e);
    await settle();
    await clock.advance(500);
    const err = await outcome;
    expect(err).toBeInstanceOf(SwitchboardError);
    expect(err.code).toBe('unavailable');
    expect(server.sockets).toHaveLength(2);
  });
});
