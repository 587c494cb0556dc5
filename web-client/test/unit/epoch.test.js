// Room epochs (docs/protocol.md, resume): after an unclean relay takeover, messages the old relay
// fanned out but never stored are gone and their seqs may name other messages. These tests hold the
// SDK to "nothing stored disappears from a screen, nothing unstored stays on one".
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/index.js';
import { FakeServer, ManualClock, settle, waitFor } from './helpers.js';

let clients = [];
afterEach(async () => {
  for (const c of clients) await c.close();
  clients = [];
});

async function start(server, extra = {}) {
  const client = await connect('ws://t/ws', {
    WebSocket: server.WebSocket, storage: 'memory', p2p: false, idle: (fn) => fn(), random: () => 0, ...extra,
  });
  clients.push(client);
  return client;
}

const view = (room) => room.messages.map((m) => `${m.seq}:${m.body}`);
const cached = async (client, room) => (await client.cache.after(room, 0, 100)).map((m) => `${m.seq}:${m.body}`);

/**
 * lobby holds 1..3 stored; then the relay fans out 4 'lost' (u-ghost, whose sender never comes
 * back) and 5 'moves' (u-b, whose outbox re-sends it after the crash) and dies before storing them.
 */
function crashScene(server) {
  server.epochs = true;
  for (const body of ['a', 'b', 'c']) server.append('lobby', 'u-x', body);
  return {
    fanOutUnstored() {
      server.fanOut('lobby', server.append('lobby', 'u-ghost', 'lost', 'c-lost'));
      server.fanOut('lobby', server.append('lobby', 'u-b', 'moves', 'c-moves'));
    },
    /** The next relay takes over with 1..3 stored; two new messages, then u-b's resend. */
    takeOver() {
      server.takeOver('lobby', 3);
      server.append('lobby', 'u-y', 'new 4');
      server.append('lobby', 'u-y', 'new 5');
      server.append('lobby', 'u-b', 'moves', 'c-moves');
    },
  };
}

describe('resume carries the epoch', () => {
  it('sends {seq, epoch} from the last joined', async () => {
    const server = new FakeServer();
    server.epochs = true;
    server.append('lobby', 'u-x', 'a');
    const clock = new ManualClock();
    const client = await start(server, { clock });
    const room = await client.join('lobby');
    expect(room.epoch).toBe('ep1');
    server.open[0].drop(1001);
    await settle();
    await clock.advance(500);
    expect(server.framesOf('hello')[1].resume).toEqual({ lobby: { seq: 1, epoch: 'ep1' } });
  });

  it('a server without epochs (joined without epoch) still gets and answers the number form', async () => {
    const server = new FakeServer();
    server.append('lobby', 'u-x', 'a');
    const clock = new ManualClock();
    const client = await start(server, { clock });
    const room = await client.join('lobby');
    expect(room.epoch ?? null).toBeNull();
    server.open[0].drop(1001);
    server.append('lobby', 'u-x', 'b');
    await settle();
    await clock.advance(500);
    expect(server.framesOf('hello')[1].resume).toEqual({ lobby: 1 });
    await waitFor(() => room.lastSeq === 2);
    expect(view(room)).toEqual(['1:a', '2:b']);
  });

  it('keeps the epoch in the cache, so a reload knows it before the server answers', async () => {
    const server = new FakeServer();
    server.epochs = true;
    server.append('lobby', 'u-x', 'a');
    const dbName = `epoch-${Math.random()}`;
    const first = await start(server, { storage: 'indexeddb', dbName, clock: new ManualClock() });
    await first.join('lobby');
    await first.close();
    server.handlers.join = () => true; // never answers: the room stays as the cache opened it
    const second = await start(server, { storage: 'indexeddb', dbName, clock: new ManualClock() });
    const opened = new Promise((resolve) => second.on('room', resolve));
    second.join('lobby').catch(() => {});
    const room = await opened;
    expect(room.epoch).toBe('ep1');
    expect(room.lastSeq).toBe(1);
  });
});

describe('a relay from before epochs (rolled back)', () => {
  it('refuses {seq, epoch} with bad_request: the hello goes again with numbers, and the room resumes', async () => {
    const server = new FakeServer();
    server.epochs = true;
    server.append('lobby', 'u-x', 'a');
    const clock = new ManualClock();
    const client = await start(server, { clock });
    const errors = [];
    client.on('error', (e) => errors.push(e));
    const room = await client.join('lobby');
    server.open[0].drop(1001);
    // The old relay's parser: resume values must be numbers.
    server.epochs = false;
    server.room('lobby').epoch = undefined;
    server.handlers.hello = (socket, f) => {
      if (Object.values(f.resume ?? {}).every((v) => typeof v === 'number')) return false;
      socket.deliver({ t: 'error', code: 'bad_request', message: 'resume.lobby must be an integer >= 0', ref: f.id });
      return true;
    };
    server.append('lobby', 'u-x', 'b');
    await settle();
    await clock.advance(500);
    await waitFor(() => room.lastSeq === 2);
    expect(server.framesOf('hello').slice(1).map((h) => h.resume)).toEqual([{ lobby: { seq: 1, epoch: 'ep1' } }, { lobby: 1 }]);
    expect(view(room)).toEqual(['1:a', '2:b']);
    expect(errors).toEqual([]);
  });
});

describe('divergence after an unclean takeover', () => {
  it('a resume removes the unstored message and moves the re-sequenced one', async () => {
    const server = new FakeServer();
    const scene = crashScene(server);
    const clock = new ManualClock();
    const client = await start(server, { clock });
    const room = await client.join('lobby');
    scene.fanOutUnstored();
    await waitFor(() => room.lastSeq === 5);
    const moves = room.messages.find((m) => m.body === 'moves');
    const lost = room.messages.find((m) => m.body === 'lost');
    expect(view(room)).toEqual(['1:a', '2:b', '3:c', '4:lost', '5:moves']);

    server.open[0].drop(1001);
    scene.takeOver();
    const diverged = [];
    const updates = [];
    room.on('diverged', (d) => diverged.push(d));
    room.on('update', (m) => updates.push(`${m.seq}:${m.body}`));
    await settle();
    await clock.advance(500);
    await waitFor(() => room.lastSeq === 6);
    await settle();

    // Stored 1..3 stay on screen; 'lost' never existed for anyone else; 'moves' is at its new seq.
    expect(view(room)).toEqual(['1:a', '2:b', '3:c', '4:new 4', '5:new 5', '6:moves']);
    expect(server.framesOf('hello')[1].resume).toEqual({ lobby: { seq: 5, epoch: 'ep1' } });
    expect(diverged).toEqual([{ room: 'lobby', divergedAfter: 3, removed: [lost], moved: [moves] }]);
    expect(moves.seq).toBe(6); // the same object the app holds, now under its stored seq
    expect(updates).toEqual(['6:moves']);
    expect(room.lastSeq).toBe(6);
    expect(room.epoch).toBe('ep2');
    expect(await cached(client, 'lobby')).toEqual(['1:a', '2:b', '3:c', '4:new 4', '5:new 5', '6:moves']);
    expect(await client.cache.roomState('lobby')).toEqual({ lastSeq: 6, epoch: 'ep2' });
  });

  it('messages between divergedAfter and replayFrom come from history pages', async () => {
    const server = new FakeServer();
    const scene = crashScene(server);
    server.replayMax = 3;
    const clock = new ManualClock();
    const client = await start(server, { clock });
    const room = await client.join('lobby');
    scene.fanOutUnstored();
    await waitFor(() => room.lastSeq === 5);
    server.open[0].drop(1001);
    scene.takeOver();
    for (let i = 7; i <= 10; i++) server.append('lobby', 'u-y', `new ${i}`);
    const diverged = [];
    room.on('diverged', (d) => diverged.push(d));
    await settle();
    await clock.advance(500);
    await waitFor(() => room.lastSeq === 10);
    await settle();

    const all = ['1:a', '2:b', '3:c', '4:new 4', '5:new 5', '6:moves', '7:new 7', '8:new 8', '9:new 9', '10:new 10'];
    expect(view(room)).toEqual(all);
    expect(diverged.map((d) => d.removed.map((m) => m.body))).toEqual([['lost']]);
    expect(diverged[0].moved.map((m) => `${m.seq}:${m.body}`)).toEqual(['6:moves']);
    // After the join's own catch-up: one page for (3, 8), the seqs the replay (8..10) leaves out.
    expect(server.framesOf('history').slice(1).map((f) => [f.before, f.limit])).toEqual([[8, 4]]);
    expect(await cached(client, 'lobby')).toEqual(all);
  });

  it('too far behind to bridge: the window restarts at the replay, pages only settle what was held', async () => {
    const server = new FakeServer();
    server.limits = { ...server.limits, maxHistoryLimit: 2 }; // 10 pages reach 20 seqs past D
    const scene = crashScene(server);
    server.replayMax = 3;
    const clock = new ManualClock();
    const client = await start(server, { clock });
    const room = await client.join('lobby');
    scene.fanOutUnstored();
    await waitFor(() => room.lastSeq === 5);
    server.open[0].drop(1001);
    scene.takeOver();
    for (let i = 7; i <= 30; i++) server.append('lobby', 'u-y', `new ${i}`);
    const diverged = [];
    room.on('diverged', (d) => diverged.push(d));
    await settle();
    await clock.advance(500);
    await waitFor(() => diverged.length === 1);

    expect(view(room)).toEqual(['28:new 28', '29:new 29', '30:new 30']);
    expect(room.window.hasOlder).toBe(true);
    expect(diverged[0].removed.map((m) => m.body)).toEqual(['lost']);
    expect(diverged[0].moved.map((m) => `${m.seq}:${m.body}`)).toEqual(['6:moves']);
    expect(server.framesOf('history').slice(1)).toHaveLength(10); // the bound, not the 24 seqs of the gap
    expect(await cached(client, 'lobby')).toEqual(['28:new 28', '29:new 29', '30:new 30']);
    await room.loadOlder();
    expect(room.messages[0].seq).toBeLessThan(28);
    expect(view(room).every((e) => !e.includes('lost'))).toBe(true);
  });

  it('a socket lost in the middle of the replay: the next resume finishes the reconciliation', async () => {
    const server = new FakeServer();
    const scene = crashScene(server);
    const clock = new ManualClock();
    const client = await start(server, { clock });
    const room = await client.join('lobby');
    scene.fanOutUnstored();
    await waitFor(() => room.lastSeq === 5);
    server.open[0].drop(1001);
    scene.takeOver();
    // This relay's first resume answer stops after the first replayed message.
    server.handlers.hello = (socket, f) => {
      server.handlers.hello = undefined;
      const deliver = socket.deliver.bind(socket);
      let msgs = 0;
      socket.deliver = (frame) => (frame.t !== 'msg' || ++msgs <= 1) && deliver(frame);
      server.receive(socket, f);
      socket.deliver = deliver;
      socket.drop(1001);
      return true;
    };
    const diverged = [];
    room.on('diverged', (d) => diverged.push(d));
    await settle();
    await clock.advance(500);
    await waitFor(() => room.lastSeq === 4);
    expect(diverged).toEqual([]);
    await clock.advance(500);
    await waitFor(() => diverged.length === 1);
    const resumes = server.framesOf('hello').slice(1).map((h) => h.resume);
    expect(resumes[0]).toEqual({ lobby: { seq: 5, epoch: 'ep1' } });
    expect(resumes.at(-1)).toEqual({ lobby: { seq: 4, epoch: 'ep2' } }); // same epoch now: no new divergence
    expect(diverged[0].removed.map((m) => m.body)).toEqual(['lost']);
    expect(view(room)).toEqual(['1:a', '2:b', '3:c', '4:new 4', '5:new 5', '6:moves']);
  });

  it('an own message acked stored:false goes back to pending and is re-sent, never shown under a reused seq', async () => {
    const server = new FakeServer();
    server.epochs = true;
    for (const body of ['a', 'b', 'c']) server.append('lobby', 'u-x', body);
    const clock = new ManualClock();
    const client = await start(server, { clock });
    const room = await client.join('lobby');
    server.ackStored = false;
    const mine = await room.send('mine');
    await waitFor(() => mine.seq === 4 && mine.status === 'sent');

    server.open[0].drop(1001);
    server.takeOver('lobby', 3);
    server.append('lobby', 'u-y', 'other 4');
    server.ackStored = true;
    let release;
    server.handlers.send = (socket, f) => {
      release = () => {
        server.handlers.send = undefined;
        server.receive(socket, f);
      };
      return true;
    };
    await settle();
    await clock.advance(500);
    await waitFor(() => release !== undefined);
    // Re-sent, and until the new ack it is pending: seq 4 now names someone else's message.
    expect(server.framesOf('send').at(-1)).toMatchObject({ cid: mine.cid, resend: true });
    expect(mine).toMatchObject({ seq: null, status: 'pending' });
    expect(view(room)).toEqual(['1:a', '2:b', '3:c', '4:other 4', 'null:mine']);
    release();
    await waitFor(() => mine.status === 'stored');
    expect(mine.seq).toBe(5);
    expect(view(room)).toEqual(['1:a', '2:b', '3:c', '4:other 4', '5:mine']);
    expect(client.outbox.size).toBe(0);
    expect(server.room('lobby').messages.filter((m) => m.cid === mine.cid)).toHaveLength(1);
  });

  it('an own re-send that lands inside a hole leaves the window; paging back shows everything once', async () => {
    const server = new FakeServer();
    server.epochs = true;
    server.limits = { ...server.limits, maxHistoryLimit: 2 }; // the sweep reaches 20 seqs
    server.replayMax = 5;
    for (const body of ['a', 'b', 'c']) server.append('lobby', 'u-x', body);
    const clock = new ManualClock();
    const client = await start(server, { clock });
    const room = await client.join('lobby');
    server.ackStored = false; // acked before its row was written...
    const mine = await room.send('mine');
    await waitFor(() => mine.seq === 4);
    server.fanOut('lobby', server.append('lobby', 'u-ghost', 'lost'));
    await waitFor(() => room.lastSeq === 5);
    server.open[0].drop(1001);
    server.takeOver('lobby', 4); // ...but it was written; 'lost' was not
    server.ackStored = true;
    for (let i = 5; i <= 34; i++) server.append('lobby', 'u-y', `n${i}`);
    await settle();
    await clock.advance(500);
    await waitFor(() => mine.status === 'stored' && room.lastSeq === 34);
    await settle();

    expect(mine.seq).toBe(4); // the server deduped the re-send to the row it had
    expect(room.messages.map((m) => m.seq)).toEqual([30, 31, 32, 33, 34]); // not [4, 30, …]: no hole on screen
    while (room.window.hasOlder) await room.loadOlder();
    expect(room.messages.map((m) => m.seq)).toEqual(Array.from({ length: 34 }, (_, i) => i + 1));
    expect(room.messages.filter((m) => m.cid === mine.cid)).toHaveLength(1);
    await client.flushCache();
    expect((await client.cache.after('lobby', 0, 100)).map((m) => m.seq)).toEqual(Array.from({ length: 34 }, (_, i) => i + 1));
  });

  it('a reload into a new epoch checks the cached messages against history', async () => {
    const server = new FakeServer();
    const scene = crashScene(server);
    const dbName = `epoch-${Math.random()}`;
    const first = await start(server, { storage: 'indexeddb', dbName, clock: new ManualClock() });
    const before = await first.join('lobby');
    scene.fanOutUnstored();
    await waitFor(() => before.lastSeq === 5);
    await first.close();
    scene.takeOver();

    const second = await start(server, { storage: 'indexeddb', dbName, clock: new ManualClock() });
    const diverged = [];
    second.on('room', (r) => r.on('diverged', (d) => diverged.push(d)));
    const room = await second.join('lobby');
    expect(view(room)).toEqual(['1:a', '2:b', '3:c', '4:new 4', '5:new 5', '6:moves']);
    expect(diverged).toHaveLength(1);
    expect(diverged[0].removed.map((m) => `${m.seq}:${m.body}`)).toEqual(['4:lost']);
    expect(diverged[0].moved.map((m) => `${m.seq}:${m.body}`)).toEqual(['6:moves']);
    expect(await cached(second, 'lobby')).toEqual(['1:a', '2:b', '3:c', '4:new 4', '5:new 5', '6:moves']);
    expect(room.epoch).toBe('ep2');
  });
});

describe('a join into a new epoch whose head is below everything on screen', () => {
  it('empties the window and pages the real history in', async () => {
    const server = new FakeServer();
    server.epochs = true;
    for (let i = 1; i <= 5; i++) server.append('lobby', 'u-x', `m${i}`);
    const dbName = `epoch-${Math.random()}`;
    const opts = { storage: 'indexeddb', dbName, clock: new ManualClock(), windowSize: 2 };
    const first = await start(server, opts);
    await first.join('lobby');
    await first.close();
    server.takeOver('lobby', 2); // 3..5 were never stored

    const second = await start(server, opts);
    const diverged = [];
    second.on('room', (r) => r.on('diverged', (d) => diverged.push(d)));
    const room = await second.join('lobby');
    expect(view(room)).toEqual([]);
    expect(diverged[0].removed.map((m) => m.seq)).toEqual([4, 5]); // what it held: the newest page
    expect(room.lastSeq).toBe(2);
    await room.loadOlder();
    expect(view(room)).toEqual(['2:m2']);
    await room.loadOlder();
    expect(view(room)).toEqual(['1:m1', '2:m2']);
  });
});

describe('room_unavailable', () => {
  it('dropped from a room: rejoins after a backoff, into the new epoch, and sends what waited', async () => {
    const server = new FakeServer();
    const scene = crashScene(server);
    const clock = new ManualClock();
    const client = await start(server, { clock });
    const errors = [];
    client.on('error', (e) => errors.push(e));
    const room = await client.join('lobby');
    scene.fanOutUnstored();
    await waitFor(() => room.lastSeq === 5);
    const diverged = [];
    room.on('diverged', (d) => diverged.push(d));

    // Another relay took the room over: this one drops its members.
    scene.takeOver();
    const socket = server.open[0];
    server.room('lobby').members.delete(socket);
    socket.deliver({ t: 'error', code: 'room_unavailable', message: 'room is sequenced elsewhere', room: 'lobby' });
    await settle();
    expect(room.joined).toBe(false);
    expect(server.framesOf('join')).toHaveLength(1);

    await clock.advance(500);
    await waitFor(() => room.joined && diverged.length === 1);
    expect(server.framesOf('join')).toHaveLength(2);
    expect(diverged[0].removed.map((m) => m.body)).toEqual(['lost']);
    expect(view(room)).toEqual(['1:a', '2:b', '3:c', '4:new 4', '5:new 5', '6:moves']);
    const m = await room.send('after');
    await waitFor(() => m.status === 'stored');
    expect(m.seq).toBe(7);
    expect(errors).toEqual([]);
    expect(client.stats().roomUnavailable).toBe(1);
  });

  it('a resume refused with room_unavailable (the hello\'s ref) rejoins too', async () => {
    const server = new FakeServer();
    server.epochs = true;
    server.append('lobby', 'u-x', 'a');
    const clock = new ManualClock();
    const client = await start(server, { clock });
    const errors = [];
    client.on('error', (e) => errors.push(e));
    const room = await client.join('lobby');
    server.open[0].drop(1001);
    server.handlers.hello = (socket, f) => {
      server.handlers.hello = undefined;
      server.receive(socket, { ...f, resume: {} });
      socket.deliver({ t: 'error', code: 'room_unavailable', message: 'busy', ref: f.id, room: 'lobby' });
      return true;
    };
    await settle();
    await clock.advance(500); // reconnect
    expect(room.joined).toBe(false);
    await clock.advance(500); // rejoin backoff
    await waitFor(() => room.joined);
    expect(server.framesOf('join')).toHaveLength(2);
    expect(errors).toEqual([]);
  });

  it.each(['rate_limited', 'server_busy'])('a resume refused %s for one room (it names the room) rejoins it after a backoff', async (code) => {
    const server = new FakeServer();
    server.epochs = true;
    server.append('lobby', 'u-x', 'a');
    const clock = new ManualClock();
    const client = await start(server, { clock });
    const errors = [];
    client.on('error', (e) => errors.push(e));
    const room = await client.join('lobby');
    server.open[0].drop(1001);
    server.handlers.hello = (socket, f) => {
      server.handlers.hello = undefined;
      server.receive(socket, { ...f, resume: {} });
      socket.deliver({ t: 'error', code, message: 'later', room: 'lobby' });
      return true;
    };
    await settle();
    await clock.advance(500); // reconnect
    expect(room.joined).toBe(false);
    await clock.advance(500); // rejoin backoff
    await waitFor(() => room.joined);
    expect(server.framesOf('join')).toHaveLength(2);
    expect(errors).toEqual([]);
  });

  it('a rejoin finds a held message stored again below what was on screen', async () => {
    const server = new FakeServer();
    server.epochs = true;
    for (const body of ['a', 'b', 'c']) server.append('lobby', 'u-x', body);
    const clock = new ManualClock();
    const client = await start(server, { clock, windowSize: 3 });
    const room = await client.join('lobby');
    server.fanOut('lobby', server.append('lobby', 'u-ghost', 'lost'));
    server.fanOut('lobby', server.append('lobby', 'u-ghost', 'gone'));
    server.fanOut('lobby', server.append('lobby', 'u-b', 'moves', 'c-moves'));
    server.fanOut('lobby', server.append('lobby', 'u-ghost', 'gone too'));
    await waitFor(() => room.lastSeq === 7);
    expect(view(room)).toEqual(['5:gone', '6:moves', '7:gone too']);
    const moves = room.messages[1];

    server.takeOver('lobby', 3);
    server.append('lobby', 'u-b', 'moves', 'c-moves'); // u-b's outbox: seq 4 now, below the screen
    server.append('lobby', 'u-y', 'new 5');
    server.append('lobby', 'u-y', 'new 6');
    const socket = server.open[0];
    server.room('lobby').members.delete(socket);
    const diverged = [];
    room.on('diverged', (d) => diverged.push(d));
    socket.deliver({ t: 'error', code: 'room_unavailable', message: 'moved', room: 'lobby' });
    await settle();
    await clock.advance(500);
    await waitFor(() => diverged.length === 1);

    expect(diverged[0].removed.map((m) => m.body).sort()).toEqual(['gone', 'gone too']);
    expect(diverged[0].moved).toEqual([moves]);
    expect(moves.seq).toBe(4);
    // (Provisional rows took window room while the check ran; what is left is the newest end.)
    expect(view(room)).toEqual(['6:new 6']);
    expect(room.window.hasOlder).toBe(true);
    await room.loadOlder();
    expect(view(room)).toEqual(['4:moves', '5:new 5', '6:new 6']);
  });

  it('a join answered room_unavailable is retried with backoff', async () => {
    const server = new FakeServer();
    server.epochs = true;
    let refusals = 2;
    server.handlers.join = (socket, f) => {
      if (refusals-- <= 0) return false;
      socket.deliver({ t: 'error', code: 'room_unavailable', message: 'busy', ref: f.id });
      return true;
    };
    const clock = new ManualClock();
    const client = await start(server, { clock });
    let joined = null;
    client.join('lobby').then((r) => (joined = r));
    await settle();
    await clock.advance(499);
    expect(server.framesOf('join')).toHaveLength(1);
    await clock.advance(1);
    expect(server.framesOf('join')).toHaveLength(2);
    await clock.advance(999); // the second wait is 500 · 2
    expect(server.framesOf('join')).toHaveLength(2);
    expect(joined).toBeNull();
    await clock.advance(1);
    await waitFor(() => joined !== null);
    expect(server.framesOf('join')).toHaveLength(3);
    expect(joined.epoch).toBe('ep1');
  });
  it.each(['rate_limited', 'server_busy'])('a join answered %s (room loads are rate-limited and capped) is retried too', async (code) => {
    const server = new FakeServer();
    server.epochs = true;
    let refusals = 1;
    server.handlers.join = (socket, f) => {
      if (refusals-- <= 0) return false;
      socket.deliver({ t: 'error', code, message: 'later', ref: f.id });
      return true;
    };
    const clock = new ManualClock();
    const client = await start(server, { clock });
    let joined = null;
    client.join('lobby').then((r) => (joined = r));
    await settle();
    expect(server.framesOf('join')).toHaveLength(1);
    await clock.advance(500);
    await waitFor(() => joined !== null);
    expect(server.framesOf('join')).toHaveLength(2);
    expect(client.stats().roomUnavailable).toBe(0);
  });
});
