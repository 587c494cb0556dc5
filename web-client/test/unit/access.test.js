// Access (issue 13), client side: forbidden joins, resumes and sends, roles, removal while
// connected, display names, and the owner frames grant/revoke/members.
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
  const client = await connect('ws://test/ws', {
    WebSocket: server.WebSocket, storage: 'memory', clock, p2p: false, idle: (fn) => fn(), random: () => 0, ...extra,
  });
  clients.push(client);
  return client;
}

/** Rooms in `closed` refuse join (and resume) with forbidden, as a private room refuses a non-member. */
function privateRooms(server, closed) {
  server.handlers.join = (socket, f) => {
    if (!closed.has(f.room)) return false;
    socket.deliver({ t: 'error', code: 'forbidden', message: 'not a member', ref: f.id, room: f.room });
    return true;
  };
}

function listen(emitter, event) {
  const seen = [];
  emitter.on(event, (e) => seen.push(e));
  return seen;
}

describe('forbidden', () => {
  it('join() rejects with code forbidden and is not retried', async () => {
    const server = new FakeServer();
    privateRooms(server, new Set(['secret']));
    const clock = new ManualClock();
    const client = await start(server, { clock });
    const err = await client.join('secret').catch((e) => e);
    expect(err).toBeInstanceOf(SwitchboardError);
    expect(err.code).toBe('forbidden');
    expect(client.rooms.has('secret')).toBe(false);
    await clock.advance(60_000);
    expect(server.framesOf('join')).toHaveLength(1);
  });

  it('a resume refused with forbidden marks the room removed, emits it, and drops it from the next resume', async () => {
    const server = new FakeServer();
    const clock = new ManualClock();
    const client = await start(server, { clock });
    const room = await client.join('team');
    await client.join('lobby');
    const removed = listen(room, 'removed');
    const fromClient = listen(client, 'removed');
    // The user lost access while offline: the resume of 'team' is refused, the rest resumes.
    const defaultHello = server.receive.bind(server);
    server.handlers.hello = (socket, f) => {
      const { team, ...rest } = f.resume;
      server.handlers.hello = undefined;
      defaultHello(socket, { ...f, resume: rest });
      if (team !== undefined) socket.deliver({ t: 'error', code: 'forbidden', message: 'not a member', ref: f.id, room: 'team' });
      return true;
    };
    server.open[0].drop(1001);
    await settle();
    await clock.advance(500);
    expect(removed).toEqual([{ room: 'team', reason: 'forbidden', dropped: [] }]);
    expect(fromClient).toEqual(removed);
    expect(room.joined).toBe(false);
    expect(room.removed).toBe('forbidden');
    expect(client.rooms.has('team')).toBe(false);
    server.open[0].drop(1001);
    await settle();
    await clock.advance(500);
    expect(server.framesOf('hello').at(-1).resume).toEqual({ lobby: 0 });
    await expect(room.send('still here?')).rejects.toMatchObject({ code: 'not_joined' });
  });

  it('send() as a reader rejects with forbidden before anything reaches the outbox', async () => {
    const server = new FakeServer();
    server.handlers.join = (socket, f) => {
      socket.deliver({ t: 'joined', id: f.id, room: f.room, head: 0, mode: 'active', members: [socket.user], peers: [], visibility: 'private', role: 'reader' });
      return true;
    };
    const client = await start(server);
    const room = await client.join('news');
    expect(room.visibility).toBe('private');
    expect(room.role).toBe('reader');
    await expect(room.send('hi')).rejects.toMatchObject({ code: 'forbidden' });
    expect(client.stats().outbox).toBe(0);
    expect(server.framesOf('send')).toHaveLength(0);
  });

  it('a send the server refuses with forbidden fails, leaves the outbox and is never resent', async () => {
    const server = new FakeServer();
    const clock = new ManualClock();
    const client = await start(server, { clock });
    const room = await client.join('news');
    server.handlers.send = (socket, f) => {
      socket.deliver({ t: 'error', code: 'forbidden', message: 'readers cannot send', ref: f.id });
      return true;
    };
    const errors = listen(client, 'error');
    const m = await room.send('hi');
    await settle();
    expect(m.status).toBe('failed');
    expect(errors.map((e) => e.code)).toEqual(['forbidden']);
    expect(client.stats().outbox).toBe(0);
    server.open[0].drop(1001);
    await settle();
    await clock.advance(10_000);
    expect(client.state).toBe('open');
    expect(server.framesOf('send')).toHaveLength(1);
  });

  it('a sync batch refused with forbidden drops its P2P-delivered messages instead of re-uploading them', async () => {
    const server = new FakeServer();
    const client = await start(server);
    await client.join('news');
    // As Room#send leaves a message that went over every DataChannel: in the outbox and the batch.
    const rec = await client.outbox.add('news', 'went p2p', 1);
    await client.outbox.update(rec.cid, { path: 'p2p', sent: true });
    client.batcher.add('news', rec.cid, rec.body);
    server.handlers.batch = (socket, f) => {
      socket.deliver({ t: 'error', code: 'forbidden', message: 'readers cannot send', ref: f.id });
      return true;
    };
    const errors = listen(client, 'error');
    client.sync();
    await settle();
    expect(errors.map((e) => e.code)).toEqual(['forbidden']);
    expect(client.stats()).toMatchObject({ outbox: 0, batchPending: 0 });
    client.sync();
    await settle();
    expect(server.framesOf('batch')).toHaveLength(1);
  });

  it('a role frame updates room.role and emits role; a reader cannot send any more', async () => {
    const server = new FakeServer();
    const client = await start(server);
    const room = await client.join('lobby');
    expect(room.role).toBeNull();
    const roles = listen(room, 'role');
    server.open[0].deliver({ t: 'role', room: 'lobby', role: 'reader' });
    await settle();
    expect(roles).toEqual([{ room: 'lobby', role: 'reader' }]);
    expect(room.role).toBe('reader');
    await expect(room.send('x')).rejects.toMatchObject({ code: 'forbidden' });
    server.open[0].deliver({ t: 'role', room: 'lobby', role: 'member' });
    await settle();
    await expect(room.send('x')).resolves.toMatchObject({ body: 'x' });
  });
});

describe('removal while connected', () => {
  it('left{reason:removed}: room left, event with the dropped unsent messages, no rejoin on reconnect', async () => {
    const server = new FakeServer();
    server.autoAck = false; // the messages stay unconfirmed in the outbox
    const clock = new ManualClock();
    const client = await start(server, { clock });
    const room = await client.join('team');
    await client.join('lobby');
    const before = server.append('team', 'u-x', 'said before the removal');
    server.open[0].deliver({ t: 'msg', room: 'team', ...before });
    await settle();
    await client.flushCache();
    expect((await client.cache.before('team', undefined, 50)).map((m) => m.body)).toEqual(['said before the removal']);
    const a = await room.send('one');
    const b = await room.send('two');
    const keep = await client.rooms.get('lobby').send('elsewhere');
    expect(client.stats().outbox).toBe(3);
    const removed = listen(room, 'removed');
    const updates = listen(room, 'update');
    server.open[0].deliver({ t: 'left', room: 'team', reason: 'removed' });
    await settle();
    expect(removed).toHaveLength(1);
    expect(removed[0]).toMatchObject({ room: 'team', reason: 'removed' });
    expect(removed[0].dropped.map((m) => m.cid)).toEqual([a.cid, b.cid]);
    expect(a.status).toBe('failed');
    expect(updates.map((m) => m.status)).toEqual(['failed', 'failed']);
    expect(room.joined).toBe(false);
    expect(client.rooms.has('team')).toBe(false);
    expect(client.stats().outbox).toBe(1);
    // What the user could read there does not stay on the device.
    expect(await client.cache.before('team', undefined, 50)).toEqual([]);
    expect(await client.storage.roomGet('team')).toBeUndefined();
    // Messages of the room arriving late are not shown; the other room is untouched.
    const seen = listen(room, 'message');
    server.open[0].deliver({ t: 'msg', room: 'team', seq: 9, cid: 'late', from: 'u-x', body: 'late', ts: 1 });
    await settle();
    expect(seen).toEqual([]);
    server.open[0].drop(1001);
    await settle();
    await clock.advance(500);
    const hello = server.framesOf('hello').at(-1);
    expect(Object.keys(hello.resume)).toEqual(['lobby']);
    expect(server.framesOf('send').filter((f) => f.room === 'team')).toHaveLength(2); // never resent
    expect(server.framesOf('send').filter((f) => f.cid === keep.cid).length).toBeGreaterThan(1);
    expect(server.framesOf('join').filter((f) => f.room === 'team')).toHaveLength(1);
  });

  it('the reply to our own leave is not a removal', async () => {
    const server = new FakeServer();
    const client = await start(server);
    const room = await client.join('lobby');
    const removed = listen(client, 'removed');
    await room.leave();
    await settle();
    expect(removed).toEqual([]);
    expect(room.removed).toBeNull();
  });
});

describe('display names', () => {
  it('welcome.name, joined.names and presence names are exposed', async () => {
    const server = new FakeServer();
    server.authenticate = (token) => ({ user: token ?? 'anon', name: token === 'alice' ? 'Alice' : undefined });
    server.handlers.join = (socket, f) => {
      socket.deliver({
        t: 'joined', id: f.id, room: f.room, head: 0, mode: 'active', members: ['alice', 'bob'],
        peers: [{ peer: 's-9', user: 'bob', name: 'Bob B.' }], visibility: 'public', role: 'member', names: { alice: 'Alice', bob: 'Bob B.' },
      });
      return true;
    };
    const client = await start(server, { token: 'alice' });
    expect(client.name).toBe('Alice');
    const room = await client.join('lobby');
    expect(room.names).toEqual({ alice: 'Alice', bob: 'Bob B.' });
    expect(room.nameOf('bob')).toBe('Bob B.');
    expect(room.peers()).toEqual([expect.objectContaining({ peer: 's-9', user: 'bob', name: 'Bob B.' })]);
    const presence = listen(room, 'presence');
    server.open[0].deliver({ t: 'presence', room: 'lobby', event: 'join', peer: 's-10', user: 'carol', name: '캐롤' });
    server.open[0].deliver({ t: 'presence', room: 'lobby', event: 'join', peer: 's-11', user: 'dave' });
    await settle();
    expect(presence).toEqual([
      { room: 'lobby', event: 'join', peer: 's-10', user: 'carol', name: '캐롤' },
      { room: 'lobby', event: 'join', peer: 's-11', user: 'dave' },
    ]);
    expect(room.nameOf('carol')).toBe('캐롤');
    expect(room.nameOf('dave')).toBeUndefined();
    expect(room.peers().find((p) => p.user === 'carol').name).toBe('캐롤');
  });
});

describe('owner methods', () => {
  function ownerServer(server, owners) {
    const roles = new Map([['team', new Map([['alice', 'owner']])]]);
    const refuse = (socket, f) => {
      if (owners.has(socket.user)) return false;
      socket.deliver({ t: 'error', code: 'forbidden', message: 'owners only', ref: f.id });
      return true;
    };
    server.handlers.grant = (socket, f) => {
      if (!refuse(socket, f)) {
        roles.get(f.room).set(f.user, f.role);
        socket.deliver({ t: 'granted', id: f.id, room: f.room, user: f.user, role: f.role });
      }
      return true;
    };
    server.handlers.revoke = (socket, f) => {
      if (!refuse(socket, f)) {
        roles.get(f.room).delete(f.user);
        socket.deliver({ t: 'revoked', id: f.id, room: f.room, user: f.user });
      }
      return true;
    };
    server.handlers.members = (socket, f) => {
      if (!refuse(socket, f)) {
        const members = [...roles.get(f.room)].map(([user, role]) => ({ user, role }));
        socket.deliver({ t: 'members', id: f.id, room: f.room, visibility: 'private', members });
      }
      return true;
    };
  }

  it('grant, revoke and members send their frames and resolve with the replies', async () => {
    const server = new FakeServer();
    ownerServer(server, new Set(['alice']));
    const client = await start(server, { token: 'tok-alice' });
    const room = await client.join('team');
    expect(await room.grant('bob', 'member')).toEqual({ room: 'team', user: 'bob', role: 'member' });
    expect(await client.grant('team', 'carol', 'reader')).toEqual({ room: 'team', user: 'carol', role: 'reader' });
    expect(await room.listMembers()).toEqual({
      room: 'team', visibility: 'private',
      members: [{ user: 'alice', role: 'owner' }, { user: 'bob', role: 'member' }, { user: 'carol', role: 'reader' }],
    });
    expect(await room.revoke('bob')).toEqual({ room: 'team', user: 'bob' });
    expect((await client.members('team')).members.map((m) => m.user)).toEqual(['alice', 'carol']);
    expect(server.framesOf('grant')[0]).toEqual({ t: 'grant', id: expect.any(Number), room: 'team', user: 'bob', role: 'member' });
    expect(server.framesOf('revoke')[0]).toEqual({ t: 'revoke', id: expect.any(Number), room: 'team', user: 'bob' });
  });

  it('a non-owner gets forbidden; a bad role never leaves the client', async () => {
    const server = new FakeServer();
    ownerServer(server, new Set(['alice']));
    const client = await start(server, { token: 'tok-bob' });
    await expect(client.grant('team', 'bob', 'owner')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(client.revoke('team', 'alice')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(client.members('team')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(client.grant('team', 'bob', 'admin')).rejects.toMatchObject({ code: 'bad_request' });
    expect(server.framesOf('grant')).toHaveLength(1);
  });
});
