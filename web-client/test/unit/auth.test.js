// Identity (issue 13), client side: the token option as a function, refresh on the open socket
// before expiry, token_expired, refusals (function vs fixed token vs guest), auth_unavailable.
import { afterEach, describe, expect, it } from 'vitest';
import { Connection } from '../../src/connection.js';
import { connect, SwitchboardError } from '../../src/index.js';
import { MIN_REFRESH_DELAY_MS, refreshDelay } from '../../src/refresh.js';
import { FakeServer, ManualClock, settle } from './helpers.js';

let clients = [];
afterEach(async () => {
  for (const c of clients) await c.close();
  clients = [];
});

const MINUTE = 60_000;

/** Tokens of the form jwt:<user>:<expiresAt>[:<name>]; 'bad' anything else. */
function jwtServer({ name } = {}) {
  const server = new FakeServer();
  server.authenticate = (token) => {
    const m = /^jwt:([a-z]+):(\d+)$/.exec(token ?? '');
    if (!m) return null;
    const identity = { user: m[1], expiresAt: Number(m[2]) };
    if (name) identity.name = name;
    return identity;
  };
  return server;
}

/** A token function like supabase-js's: a fresh token valid for `ttl` from the clock's now, counted. */
function tokenSource(clock, user = 'alice', ttl = 2 * MINUTE) {
  const fn = async () => {
    fn.calls++;
    return `jwt:${user}:${clock.now() + ttl}`;
  };
  fn.calls = 0;
  return fn;
}

async function start(server, extra = {}) {
  const clock = extra.clock ?? new ManualClock();
  const client = await connect('ws://test/ws', {
    WebSocket: server.WebSocket, storage: 'memory', clock, p2p: false, idle: (fn) => fn(), random: () => 0,
    heartbeatMs: 10 * MINUTE, ...extra,
  });
  clients.push(client);
  return client;
}

function errorsOf(client) {
  const errors = [];
  client.on('error', (e) => errors.push(e.code));
  return errors;
}

describe('refreshDelay', () => {
  it('refreshes a margin before expiry, up to half a margin earlier with jitter', () => {
    const now = 1_000_000;
    expect(refreshDelay(now + 60 * MINUTE, now, MINUTE, () => 0)).toBe(59 * MINUTE);
    expect(refreshDelay(now + 60 * MINUTE, now, MINUTE, () => 0.999)).toBe(58.5 * MINUTE + 30);
  });

  it('a token shorter than two margins refreshes after a quarter to a half of its life', () => {
    const now = 5;
    expect(refreshDelay(now + 20_000, now, MINUTE, () => 0)).toBe(10_000);
    expect(refreshDelay(now + 20_000, now, MINUTE, () => 0.999)).toBe(5005);
  });

  it('never exceeds what setTimeout can wait (a longer delay would fire at once)', () => {
    const days = 24 * 60 * MINUTE;
    expect(refreshDelay(30 * days, 0, MINUTE, () => 0)).toBe(2 ** 31 - 1);
    expect(refreshDelay(7 * days, 0, MINUTE, () => 0)).toBe(7 * days - MINUTE);
  });

  it('is never in the past, even for a token this clock thinks expired', () => {
    for (const remaining of [-MINUTE, -1, 0, 1, 500, 1999]) {
      for (const r of [0, 0.5, 0.999]) expect(refreshDelay(1000 + remaining, 1000, MINUTE, () => r)).toBeGreaterThanOrEqual(MIN_REFRESH_DELAY_MS);
    }
  });
});

describe('token function', () => {
  it('is called on connect: hello carries its token, welcome its name and expiry', async () => {
    const server = jwtServer({ name: 'Alice' });
    const clock = new ManualClock();
    const token = tokenSource(clock);
    const client = await start(server, { clock, token });
    expect(token.calls).toBe(1);
    expect(server.framesOf('hello')[0].token).toBe(`jwt:alice:${clock.now() + 2 * MINUTE}`);
    expect(client.user).toBe('alice');
    expect(client.name).toBe('Alice');
    expect(client.expiresAt).toBe(clock.now() + 2 * MINUTE);
    // A function's token is the app's: never stored as a guest token.
    expect(await client.storage.kvGet('token:ws://test/ws')).toBeUndefined();
  });

  it('is called again on every reconnect', async () => {
    const server = jwtServer();
    const clock = new ManualClock();
    const token = tokenSource(clock);
    const client = await start(server, { clock, token });
    server.open[0].drop(1001);
    await settle();
    await clock.advance(500);
    expect(client.state).toBe('open');
    expect(token.calls).toBe(2);
    const hellos = server.framesOf('hello');
    expect(hellos[1].token).not.toBe(hellos[0].token);
  });

  it('refreshes before expiry on the open socket: auth with the new token, authed updates the state', async () => {
    const server = jwtServer();
    const clock = new ManualClock();
    const token = tokenSource(clock);
    const client = await start(server, { clock, token });
    const authed = [];
    client.on('authed', (a) => authed.push(a));
    const firstExpiry = client.expiresAt;
    // 2-minute token, 1-minute margin, no jitter: refresh at 1 minute.
    await clock.advance(MINUTE - 1);
    expect(server.framesOf('auth')).toHaveLength(0);
    await clock.advance(1);
    const auths = server.framesOf('auth');
    expect(auths).toEqual([{ t: 'auth', id: expect.any(Number), token: `jwt:alice:${clock.now() + 2 * MINUTE}` }]);
    expect(token.calls).toBe(2);
    expect(authed).toEqual([{ user: 'alice', name: null, expiresAt: clock.now() + 2 * MINUTE }]);
    expect(client.expiresAt).toBeGreaterThan(firstExpiry);
    // The same socket all along, and the next refresh follows the new expiry.
    expect(server.sockets).toHaveLength(1);
    expect(client.state).toBe('open');
    await clock.advance(MINUTE);
    expect(server.framesOf('auth')).toHaveLength(2);
    expect(server.sockets).toHaveLength(1);
  });

  it('a refresh that returns the same token is retried no sooner than every 5 s', async () => {
    const server = jwtServer();
    const clock = new ManualClock();
    const fixedExpiry = clock.now() + 2 * MINUTE;
    const client = await start(server, { clock, token: () => `jwt:alice:${fixedExpiry}` });
    await clock.advance(MINUTE);
    expect(server.framesOf('auth')).toHaveLength(1);
    await clock.advance(3 * MINUTE);
    // Three minutes of a token that does not move (even past its expiry by this clock): at most
    // one auth per 5 s, not a tight loop.
    expect(server.framesOf('auth').length).toBeLessThanOrEqual(1 + (3 * 60) / 5 + 1);
    expect(server.framesOf('auth').length).toBeGreaterThan(1);
    expect(client.state).toBe('open');
  });

  it('token_expired: the function is called at once and auth sent; the error is reported', async () => {
    const server = jwtServer();
    const clock = new ManualClock();
    const token = tokenSource(clock);
    const client = await start(server, { clock, token });
    const errors = errorsOf(client);
    server.open[0].deliver({ t: 'error', code: 'token_expired', message: 'token expired' });
    await settle();
    expect(errors).toEqual(['token_expired']);
    expect(token.calls).toBe(2);
    expect(server.framesOf('auth')).toHaveLength(1);
    expect(client.state).toBe('open');
  });

  it('closed (1008) for an expired token despite the refresh attempt: reconnects with a fresh token', async () => {
    const server = jwtServer();
    const clock = new ManualClock();
    const token = tokenSource(clock);
    const client = await start(server, { clock, token });
    server.handlers.auth = () => true; // the refresh gets no answer (lost)
    server.open[0].deliver({ t: 'error', code: 'token_expired', message: 'token expired' });
    await settle();
    server.open[0].drop(1008, 'token expired');
    await settle();
    await clock.advance(500);
    expect(client.state).toBe('open');
    expect(server.sockets).toHaveLength(2);
    expect(token.calls).toBe(3);
  });

  it('a fixed JWT echoed back in welcome.token is not mistaken for a renewable guest token', async () => {
    const server = jwtServer();
    const check = server.authenticate;
    server.authenticate = (t) => ({ ...check(t), token: t }); // the relay echoes a JWT in welcome.token
    const clock = new ManualClock();
    const client = await start(server, { clock, token: `jwt:alice:${clock.now() + 2 * MINUTE}` });
    await clock.advance(3 * MINUTE);
    expect(server.framesOf('auth')).toHaveLength(0);
    // Its 1008 after token_expired stays final: the same token would only be refused.
    server.open[0].deliver({ t: 'error', code: 'token_expired', message: 'token expired' });
    await settle();
    server.open[0].drop(1008, 'token expired');
    await settle();
    await clock.advance(10 * MINUTE);
    expect(client.state).toBe('suspended');
    expect(server.sockets).toHaveLength(1);
  });

  it('unauthorized: the function is asked once more and the client reconnects with backoff', async () => {
    const server = jwtServer();
    const clock = new ManualClock();
    let calls = 0;
    // The first token is stale (e.g. a session renewed in another tab); the next one is good.
    const token = async () => (++calls === 1 ? 'stale' : `jwt:alice:${clock.now() + 2 * MINUTE}`);
    const pending = start(server, { clock, token });
    await settle();
    expect(server.sockets).toHaveLength(1);
    expect(server.sockets[0].readyState).toBe(3);
    await clock.advance(500);
    const client = await pending;
    expect(calls).toBe(2);
    expect(client.user).toBe('alice');
    expect(server.framesOf('hello').map((h) => h.token)).toEqual(['stale', expect.stringMatching(/^jwt:alice:/)]);
  });

  it('unauthorized twice in a row: stops with an unauthorized error instead of looping', async () => {
    const server = jwtServer();
    const clock = new ManualClock();
    let calls = 0;
    const outcome = start(server, { clock, token: () => (calls++, 'revoked') }).catch((e) => e);
    await settle();
    await clock.advance(10 * MINUTE);
    const err = await outcome;
    expect(err).toBeInstanceOf(SwitchboardError);
    expect(err.code).toBe('unauthorized');
    expect(calls).toBe(2);
    expect(server.sockets).toHaveLength(2);
  });

  it('an auth refused on the open socket reconnects with a fresh token', async () => {
    const server = jwtServer();
    const clock = new ManualClock();
    let user = 'alice';
    const token = async () => `jwt:${user}:${clock.now() + 2 * MINUTE}`;
    const client = await start(server, { clock, token });
    user = 'mallory'; // another user's token on this socket: refused, the socket closes
    await clock.advance(MINUTE);
    expect(server.framesOf('auth')).toHaveLength(1);
    expect(server.sockets[0].readyState).toBe(3);
    user = 'alice';
    await clock.advance(500);
    expect(client.state).toBe('open');
    expect(server.sockets).toHaveLength(2);
    expect(client.user).toBe('alice');
  });

  it('a throwing function is reported as token_unavailable and retried with backoff', async () => {
    const server = jwtServer();
    const clock = new ManualClock();
    let calls = 0;
    const tokenFn = async () => {
      if (++calls === 1) throw new Error('network down');
      return `jwt:alice:${clock.now() + 2 * MINUTE}`;
    };
    const conn = new Connection('ws://test/ws', { WebSocket: server.WebSocket, clock, random: () => 0, tokenFn });
    clients.push(conn);
    const errors = errorsOf(conn);
    const started = conn.start();
    await settle();
    expect(errors).toEqual(['token_unavailable']);
    expect(server.framesOf('hello')).toHaveLength(0);
    await clock.advance(500);
    expect((await started).user).toBe('alice');
    expect(calls).toBe(2);
  });

  it('auth_unavailable on hello is transient: retried with backoff, not a refusal', async () => {
    const server = jwtServer();
    const clock = new ManualClock();
    const check = server.authenticate;
    let down = true;
    server.authenticate = (t) => (down ? 'auth_unavailable' : check(t));
    const pending = start(server, { clock, token: tokenSource(clock) });
    await settle();
    await clock.advance(500);
    await clock.advance(1000);
    expect(server.framesOf('hello').length).toBeGreaterThanOrEqual(2);
    down = false;
    await clock.advance(2000);
    const client = await pending;
    expect(client.user).toBe('alice');
  });

  it('auth_unavailable on a refresh keeps the socket and retries the auth', async () => {
    const server = jwtServer();
    const clock = new ManualClock();
    const client = await start(server, { clock, token: tokenSource(clock) });
    const check = server.authenticate;
    server.authenticate = () => 'auth_unavailable';
    await clock.advance(MINUTE);
    expect(server.framesOf('auth')).toHaveLength(1);
    server.authenticate = check;
    await clock.advance(500);
    expect(server.framesOf('auth')).toHaveLength(2);
    expect(client.expiresAt).toBe(clock.now() + 2 * MINUTE);
    expect(server.sockets).toHaveLength(1);
  });
});

describe('fixed token', () => {
  it('unauthorized: an error event, state suspended, no reconnect loop', async () => {
    const server = jwtServer();
    const clock = new ManualClock();
    const outcome = start(server, { clock, token: 'jwt-forged' }).catch((e) => e);
    await settle();
    const err = await outcome;
    expect(err.code).toBe('unauthorized');
    await clock.advance(30 * MINUTE);
    expect(server.sockets).toHaveLength(1);
    expect(server.framesOf('hello').map((h) => h.token)).toEqual(['jwt-forged']);
  });

  it('is not refreshed by guessing: its expiry ends in token_expired, reported', async () => {
    const server = jwtServer();
    const clock = new ManualClock();
    const client = await start(server, { clock, token: `jwt:alice:${clock.now() + 2 * MINUTE}` });
    const errors = errorsOf(client);
    await clock.advance(2 * MINUTE);
    expect(server.framesOf('auth')).toHaveLength(0);
    server.open[0].deliver({ t: 'error', code: 'token_expired', message: 'token expired' });
    await settle();
    expect(errors).toEqual(['token_expired']);
    expect(server.framesOf('auth')).toHaveLength(0);
  });
});

describe('guests', () => {
  function guestServer() {
    const server = new FakeServer();
    let minted = 0;
    // Guest tokens g:<user>:<n>; each welcome/authed mints a fresh one, valid for 2 minutes.
    server.authenticate = (token) => {
      const user = token === undefined ? `g${server.sessions + 1}` : /^g:([a-z0-9]+):\d+$/.exec(token)?.[1];
      if (!user) return null;
      return { user, token: `g:${user}:${++minted}`, expiresAt: server.clock.now() + 2 * MINUTE };
    };
    return server;
  }

  it('refresh the guest token before expiry with auth{current token} and keep the fresh one', async () => {
    const server = guestServer();
    const clock = new ManualClock();
    server.clock = clock;
    const client = await start(server, { clock });
    expect(client.user).toBe('g1');
    expect(await client.storage.kvGet('token:ws://test/ws')).toBe('g:g1:1');
    await clock.advance(MINUTE);
    expect(server.framesOf('auth')).toEqual([{ t: 'auth', id: expect.any(Number), token: 'g:g1:1' }]);
    await settle();
    expect(await client.storage.kvGet('token:ws://test/ws')).toBe('g:g1:2');
    expect(client.expiresAt).toBe(clock.now() + 2 * MINUTE);
    // The next connect presents the fresh token and stays the same user.
    server.open[0].drop(1001);
    await settle();
    await clock.advance(500);
    expect(server.framesOf('hello').at(-1).token).toBe('g:g1:2');
    expect(client.user).toBe('g1');
  });

  it('a refused guest token is dropped: a new guest, once; refused again (guests off), it stops', async () => {
    const server = guestServer();
    const clock = new ManualClock();
    server.clock = clock;
    const client = await start(server, { clock, waitForServer: false });
    await settle();
    expect(client.user).toBe('g1');
    // The server no longer knows the token (secret rotated): one new guest identity.
    const mint = server.authenticate;
    server.authenticate = (t) => (t === undefined ? mint(t) : null);
    server.open[0].drop(1001);
    await settle();
    await clock.advance(500);
    expect(client.state).toBe('open');
    expect(client.user).toBe('g2');
    expect(server.framesOf('hello').slice(1).map((h) => h.token)).toEqual(['g:g1:1', undefined]);
    // Guests switched off: the hello without a token is refused too; no loop.
    server.authenticate = () => null;
    const errors = errorsOf(client);
    server.open[0].drop(1001);
    await settle();
    await clock.advance(30 * MINUTE);
    expect(errors).toContain('unauthorized');
    expect(client.state).toBe('suspended');
    const hellos = server.framesOf('hello').length;
    await clock.advance(30 * MINUTE);
    expect(server.framesOf('hello')).toHaveLength(hellos);
  });
});
