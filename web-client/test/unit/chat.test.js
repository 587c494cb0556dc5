// Issue 17's chat API in the SDK (contract 6): names, read cursors, typing, edit/delete/react,
// against the fake server speaking the contract's frames. The wire lines below are the contract's
// (docs/protocol.md gets them from the relay helpers; the lead checks both at merge).
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeBatch } from '../../src/codec.js';
import { connect, SwitchboardError } from '../../src/index.js';
import { parsePeerFrame } from '../../src/peer-frame.js';
import { decodeServerFrame, validateClientText } from '../../src/protocol.js';
import { fakeRtc } from './fake-rtc.js';
import { FakeServer, ManualClock, settle, waitFor } from './helpers.js';
import { parseWireExamples } from './wire-examples.js';

const CONTRACT_WIRE = `
\`\`\`wire
C> {"t":"hello","name":"Ada"}
X> bad_request {"t":"hello","name":""}
X> bad_request {"t":"hello","name":"a\\nb"}
S> {"t":"msg","room":"lobby","seq":42,"cid":"c-1","from":"u-ab12","name":"Ada","body":"hi","ts":1764043200123}
C> {"t":"read","room":"lobby","seq":41}
X> bad_request {"t":"read","room":"lobby","seq":0}
S> {"t":"reads","room":"lobby","reads":{"u-ab12":42,"u-cd34":40}}
S> {"t":"typing","room":"lobby","peer":"s-1","user":"u-ab12","name":"Ada","on":true}
C> {"t":"edit","id":12,"room":"lobby","seq":42,"body":"hello (edited)"}
C> {"t":"delete","id":13,"room":"lobby","seq":42}
C> {"t":"react","id":14,"room":"lobby","seq":42,"emoji":"👍","on":true}
X> bad_request {"t":"react","room":"lobby","seq":42,"emoji":"","on":true}
X> bad_request {"t":"edit","room":"lobby","seq":0,"body":"x"}
S> {"t":"changed","id":12,"room":"lobby","seq":42,"rev":7,"body":"hello (edited)","edited":1764043260000}
S> {"t":"changed","room":"lobby","seq":42,"rev":8,"deleted":true}
S> {"t":"changed","id":14,"room":"lobby","seq":41,"rev":9,"body":"hi","reactions":[{"emoji":"👍","count":2,"users":["u-ab12","u-cd34"]}]}
C> {"t":"join","id":2,"room":"lobby","rev":7}
C> {"t":"hello","resume":{"lobby":{"seq":41,"epoch":"k3f9a2x1","rev":7}}}
\`\`\`
`;

let clients = [];
afterEach(async () => {
  for (const c of clients) await c.close();
  clients = [];
});

async function start(server, extra = {}) {
  const clock = extra.clock ?? new ManualClock();
  const client = await connect('ws://t/ws', {
    WebSocket: server.WebSocket, storage: 'memory', clock, p2p: false, idle: (fn) => fn(), random: () => 0, ...extra,
  });
  clients.push(client);
  return client;
}

/** A server answering edit/delete/react as the relay does: the message's whole state, with the frame's id to its sender. */
function changesServer(server) {
  let rev = 0;
  const apply = (socket, f, change) => {
    const r = server.room(f.room);
    const m = r.messages.find((x) => x.seq === f.seq);
    if (!m) {
      socket.deliver({ t: 'error', code: 'not_found', message: `no message ${f.seq} in room ${f.room}`, ref: f.id });
      return true;
    }
    change(m, socket.user);
    m.rev = ++rev;
    const state = { room: f.room, seq: m.seq, rev: m.rev };
    if (!m.deleted) state.body = m.body;
    if (m.edited) state.edited = m.edited;
    if (m.deleted) state.deleted = true;
    if (m.reactions?.length) state.reactions = m.reactions;
    for (const [s] of r.members) s.deliver(s === socket ? { t: 'changed', id: f.id, ...state } : { t: 'changed', ...state });
    return true;
  };
  server.handlers.edit = (s, f) => apply(s, f, (m) => Object.assign(m, { body: f.body, edited: 1764043260000 }));
  server.handlers.delete = (s, f) => apply(s, f, (m) => {
    m.deleted = true;
    delete m.body;
    delete m.reactions;
  });
  server.handlers.react = (s, f) => apply(s, f, (m, user) => {
    m.reactions ??= [];
    let r = m.reactions.find((x) => x.emoji === f.emoji);
    if (f.on && !r) m.reactions.push((r = { emoji: f.emoji, count: 0, users: [] }));
    if (f.on && !r.users.includes(user)) r.users.push(user);
    if (!f.on && r) r.users = r.users.filter((u) => u !== user);
    if (r) r.count = r.users.length;
    m.reactions = m.reactions.filter((x) => x.count > 0);
  });
  return server;
}

describe('the contract wire lines', () => {
  const lines = parseWireExamples(CONTRACT_WIRE);

  it.each(lines.filter((l) => l.kind === 'C').map((l) => [l.text, l]))('C> %s is a frame the SDK sends', (_, l) => {
    expect(validateClientText(l.text)).toBeNull();
  });

  it.each(lines.filter((l) => l.kind === 'X').map((l) => [l.text, l]))('X> %s is refused', (_, l) => {
    expect(validateClientText(l.text)?.code).toBe(l.code);
  });

  it.each(lines.filter((l) => l.kind === 'S').map((l) => [l.text, l]))('S> %s decodes', (_, l) => {
    expect(decodeServerFrame(l.text).t).toBe(JSON.parse(l.text).t);
  });

  it('refuses what the contract refuses beyond its examples', () => {
    const bad = (f) => validateClientText(JSON.stringify(f))?.code;
    expect(bad({ t: 'hello', name: 'x'.repeat(65) })).toBe('bad_request');
    expect(bad({ t: 'hello', name: '가'.repeat(64) })).toBeUndefined(); // 64 code points, 192 bytes
    expect(bad({ t: 'hello', name: '👋'.repeat(64) })).toBeUndefined(); // 64 code points, 128 UTF-16 units
    expect(bad({ t: 'hello', name: '   ' })).toBe('bad_request');
    expect(bad({ t: 'hello', name: 'a\u0000' })).toBe('bad_request');
    expect(bad({ t: 'hello', name: 'a\ud800' })).toBe('bad_request');
    expect(bad({ t: 'react', room: 'lobby', seq: 1, emoji: 'a b', on: true })).toBe('bad_request');
    expect(bad({ t: 'react', room: 'lobby', seq: 1, emoji: 'x'.repeat(33), on: true })).toBe('bad_request');
    expect(bad({ t: 'react', room: 'lobby', seq: 1, emoji: '👍', on: 'yes' })).toBe('bad_request');
    expect(bad({ t: 'typing', room: 'lobby', on: 1 })).toBe('bad_request');
    expect(bad({ t: 'read', room: 'lobby', seq: 1.5 })).toBe('bad_request');
    expect(bad({ t: 'edit', room: 'lobby', seq: 1, body: '' })).toBe('bad_request');
    expect(bad({ t: 'hello', resume: { lobby: { seq: 1, epoch: 'e1', rev: -1 } } })).toBe('bad_request');
    expect(bad({ t: 'hello', resume: { lobby: { seq: 1, epoch: 'e1', rev: 2, x: 1 } } })).toBe('bad_request');
    // a msg without body is only valid deleted
    expect(() => decodeServerFrame('{"t":"msg","room":"r","seq":1,"cid":"c","from":"u","ts":1}')).toThrow();
    expect(decodeServerFrame('{"t":"msg","room":"r","seq":1,"cid":"c","from":"u","ts":1,"deleted":true}').deleted).toBe(true);
    expect(() => decodeServerFrame('{"t":"page","room":"r","messages":[{"seq":1,"cid":"c","from":"u","ts":1}],"hasMore":false}')).toThrow();
  });
});

describe('names', () => {
  it('connect({name}) sends hello.name trimmed; client.name is welcome.name', async () => {
    const server = new FakeServer();
    server.authenticate = () => ({ user: 'u-ada', name: 'Ada L.' });
    const client = await start(server, { name: '  Ada  ' });
    expect(server.framesOf('hello')[0].name).toBe('Ada');
    expect(client.name).toBe('Ada L.');
  });

  it('refuses a bad name before connecting', async () => {
    const server = new FakeServer();
    await expect(start(server, { name: 'a\nb' })).rejects.toMatchObject({ code: 'bad_request' });
    await expect(start(server, { name: '' })).rejects.toBeInstanceOf(SwitchboardError);
    expect(server.sockets).toHaveLength(0);
  });

  it('Message.name comes from msg frames, history pages and the cache', async () => {
    const server = new FakeServer();
    const r = server.room('lobby');
    Object.assign(server.append('lobby', 'u-x', 'old'), { name: 'Xena' });
    const client = await start(server);
    const room = await client.join('lobby');
    expect(room.messages[0]).toMatchObject({ body: 'old', name: 'Xena', rev: 0, reactions: [] });
    const m = server.append('lobby', 'u-y', 'live');
    server.open[0].deliver({ t: 'msg', room: 'lobby', ...m, name: 'Yuki' });
    await settle();
    expect(room.messages.at(-1)).toMatchObject({ body: 'live', name: 'Yuki' });
    const noName = server.append('lobby', 'u-z', 'anon');
    server.open[0].deliver({ t: 'msg', room: 'lobby', ...noName });
    await settle();
    expect('name' in room.messages.at(-1)).toBe(false);
    // a reload opens from the cache with the names
    const cached = await client.cache.before('lobby', undefined, 10);
    expect(cached.map((c) => c.name)).toEqual(['Xena', 'Yuki', undefined]);
    expect(r.messages).toHaveLength(3);
  });
});

describe('read cursors', () => {
  async function joinedWithReads(reads, head = 5) {
    const server = new FakeServer();
    for (let i = 1; i <= head; i++) server.append('lobby', i % 2 ? 'u-1' : 'u-b', `m${i}`);
    server.handlers.join = (socket, f) => {
      const r = server.room(f.room);
      r.members.set(socket, socket.user);
      socket.deliver({ t: 'joined', id: f.id, room: f.room, head: r.seq, mode: 'active', members: ['u-1', 'u-b', 'u-c'], peers: [], reads });
      return true;
    };
    const clock = new ManualClock();
    const client = await start(server, { clock });
    const room = await client.join('lobby');
    return { server, clock, client, room };
  }

  it('joined.reads and reads frames set cursors, only forward; unreadCount and notReadBy follow', async () => {
    const { server, room } = await joinedWithReads({ 'u-1': 2, 'u-b': 4, 'u-c': 1 });
    expect(Object.fromEntries(room.reads)).toEqual({ 'u-1': 2, 'u-b': 4, 'u-c': 1 });
    expect(room.unreadCount).toBe(3);
    const [m1, m2, , , m5] = room.messages;
    expect(room.notReadBy(m1)).toBe(0); // u-1 sent it; u-b at 4, u-c at 1
    expect(room.notReadBy(m2)).toBe(1); // from u-b: u-1 at 2 read it, u-c at 1 did not
    const events = [];
    room.on('reads', (e) => events.push(e));
    server.open[0].deliver({ t: 'reads', room: 'lobby', reads: { 'u-c': 5, 'u-b': 3 } });
    await settle();
    expect(room.reads.get('u-b')).toBe(4); // never back
    expect(room.reads.get('u-c')).toBe(5);
    expect(events).toEqual([{ room: 'lobby', reads: { 'u-c': 5 }, unreadCount: 3 }]);
    expect(room.notReadBy(m5)).toBe(1); // from u-1: u-b at 4
    expect(room.notReadBy({ ...m5, seq: null })).toBeNull();
    // this user read on another device: the count falls here too
    server.open[0].deliver({ t: 'reads', room: 'lobby', reads: { 'u-1': 5 } });
    await settle();
    expect(room.unreadCount).toBe(0);
    expect(events.at(-1)).toEqual({ room: 'lobby', reads: { 'u-1': 5 }, unreadCount: 0 });
    // m2 is from u-b, read by u-1 (5) and u-c (5)
    expect(room.notReadBy(m2)).toBe(0);
  });

  it('a new message raises unreadCount; our own send moves our cursor', async () => {
    const { server, room } = await joinedWithReads({ 'u-1': 5 });
    expect(room.unreadCount).toBe(0);
    const m = server.append('lobby', 'u-b', 'new');
    server.open[0].deliver({ t: 'msg', room: 'lobby', ...m });
    await settle();
    expect(room.unreadCount).toBe(1);
    await room.send('mine');
    await settle();
    expect(room.reads.get('u-1')).toBe(7);
    expect(room.unreadCount).toBe(0);
  });

  it("a message moves its sender's cursor here (the relay does not fan that move out), known readers only", async () => {
    const { server, room } = await joinedWithReads({ 'u-1': 5, 'u-b': 3 });
    const events = [];
    room.on('reads', (e) => events.push(e));
    const m = server.append('lobby', 'u-b', 'from b');
    server.open[0].deliver({ t: 'msg', room: 'lobby', ...m });
    await settle();
    expect(room.reads.get('u-b')).toBe(6);
    expect(events).toEqual([{ room: 'lobby', reads: { 'u-b': 6 }, unreadCount: 1 }]);
    expect(room.notReadBy(room.messages.at(-1))).toBe(1); // from u-b: u-1 at 5 has not read it
    // seqs (the relay's answer to a DataChannel delivery) imply the same
    server.open[0].deliver({ t: 'seqs', room: 'lobby', from: 'u-b', items: [{ cid: 'p-1', seq: 7, ts: 1 }, { cid: 'p-2', seq: 8, ts: 2 }] });
    await settle();
    expect(room.reads.get('u-b')).toBe(8);
    // a sender the room reported no cursor for (a big room's long tail) is not made a reader
    const z = server.append('lobby', 'u-z', 'from z');
    server.open[0].deliver({ t: 'msg', room: 'lobby', ...z });
    await settle();
    expect(room.reads.has('u-z')).toBe(false);
  });

  it('markRead sends at most one read per 500 ms, the highest wins, never lower', async () => {
    const { server, clock, room } = await joinedWithReads({ 'u-1': 1 }, 10);
    room.markRead(3);
    expect(room.unreadCount).toBe(7); // at once, before the server answers
    room.markRead(6);
    room.markRead(5);
    await settle();
    expect(server.framesOf('read')).toEqual([{ t: 'read', room: 'lobby', seq: 3 }]);
    await clock.advance(499);
    expect(server.framesOf('read')).toHaveLength(1);
    await clock.advance(1);
    expect(server.framesOf('read').map((f) => f.seq)).toEqual([3, 6]);
    room.markRead(4);
    room.markRead(6);
    await clock.advance(1000);
    expect(server.framesOf('read').map((f) => f.seq)).toEqual([3, 6]);
    room.markRead(); // the newest held
    await clock.advance(500);
    expect(server.framesOf('read').map((f) => f.seq)).toEqual([3, 6, 10]);
    expect(room.unreadCount).toBe(0);
    expect(() => room.markRead(0)).toThrow(SwitchboardError);
    // beyond what exists: as far as head, so later messages can still be marked
    room.markRead(1000);
    await clock.advance(500);
    expect(server.framesOf('read').map((f) => f.seq)).toEqual([3, 6, 10]);
    for (const body of ['n11', 'n12']) server.open[0].deliver({ t: 'msg', room: 'lobby', ...server.append('lobby', 'u-b', body) });
    await settle();
    expect(room.unreadCount).toBe(2);
    room.markRead(11);
    await clock.advance(500);
    expect(server.framesOf('read').map((f) => f.seq)).toEqual([3, 6, 10, 11]);
    expect(room.unreadCount).toBe(1);
  });

  it('a read asked for offline goes out after the reconnect; cursors survive it', async () => {
    const { server, clock, room } = await joinedWithReads({ 'u-1': 1, 'u-b': 4 }, 8);
    server.open[0].drop(1001);
    await settle();
    room.markRead(8);
    await clock.advance(100);
    expect(server.framesOf('read')).toEqual([]);
    // the resume's joined carries no reads (an older relay): the cursors known stay
    await clock.advance(2000);
    await waitFor(() => server.framesOf('read').length === 1);
    expect(server.framesOf('read')[0]).toMatchObject({ room: 'lobby', seq: 8 });
    expect(room.reads.get('u-b')).toBe(4);
    expect(room.unreadCount).toBe(0);
  });

  it('a read lost with the socket is sent again when joined.reads shows it did not arrive', async () => {
    const { server, clock, client, room } = await joinedWithReads({ 'u-1': 1 }, 8);
    room.markRead(8);
    await settle();
    expect(server.framesOf('read')).toHaveLength(1);
    server.handlers.hello = (socket, f) => {
      server.handlers.hello = undefined;
      server.receive(socket, { ...f, resume: {} });
      server.room('lobby').members.set(socket, socket.user);
      socket.deliver({ t: 'joined', room: 'lobby', head: 8, mode: 'active', members: [client.user], peers: [], reads: { 'u-1': 1 } });
      return true;
    };
    server.open[0].drop(1001);
    await settle();
    await clock.advance(2000);
    await waitFor(() => server.framesOf('read').length === 2);
    expect(server.framesOf('read')[1]).toMatchObject({ seq: 8 });
  });
});

describe('typing', () => {
  async function twoOnRelay() {
    const server = new FakeServer();
    server.handlers.typing = (socket, f) => {
      for (const [s] of server.room(f.room).members) {
        if (s !== socket) s.deliver({ t: 'typing', room: f.room, peer: socket.session, user: socket.user, name: `N${socket.user}`, on: f.on });
      }
      return true;
    };
    const clock = new ManualClock();
    const a = await start(server, { clock });
    const b = await start(server, { clock });
    const roomA = await a.join('lobby');
    const roomB = await b.join('lobby');
    await settle();
    return { server, clock, a, b, roomA, roomB };
  }

  it('typing(true) goes out at most every 3 s; typing(false) and a send turn it off once', async () => {
    const { server, clock, roomA } = await twoOnRelay();
    const sent = () => server.framesOf('typing').map((f) => f.on);
    roomA.typing();
    roomA.typing(true);
    expect(sent()).toEqual([true]);
    await clock.advance(2999);
    roomA.typing(true);
    expect(sent()).toEqual([true]);
    await clock.advance(1);
    roomA.typing(true);
    expect(sent()).toEqual([true, true]);
    roomA.typing(false);
    roomA.typing(false);
    expect(sent()).toEqual([true, true, false]);
    roomA.typing(true);
    await roomA.send('done');
    expect(sent()).toEqual([true, true, false, true, false]);
    await roomA.send('again'); // not typing: nothing to turn off
    expect(sent()).toEqual([true, true, false, true, false]);
  });

  it('receivers list who types, expire it after 6 s, and clear it on off, a message or the peer leaving', async () => {
    const { server, clock, a, b, roomA, roomB } = await twoOnRelay();
    const events = [];
    roomB.on('typing', (e) => events.push(e.users.map((u) => u.user)));
    roomA.typing(true);
    await settle();
    expect(roomB.typingUsers).toEqual([{ user: a.user, name: `N${a.user}`, peer: a.session }]);
    expect(roomA.typingUsers).toEqual([]);
    await clock.advance(5999);
    expect(roomB.typingUsers).toHaveLength(1);
    await clock.advance(1);
    expect(roomB.typingUsers).toEqual([]);
    expect(events).toEqual([[a.user], []]);
    // a renewal (3 s later) pushes the expiry on
    roomA.typing(true);
    await settle();
    await clock.advance(3000);
    roomA.typing(true);
    await settle();
    await clock.advance(4000);
    expect(roomB.typingUsers).toHaveLength(1);
    roomA.typing(false);
    await settle();
    expect(roomB.typingUsers).toEqual([]);
    // a message from the typist clears it (even before its off arrives)
    server.open[1].deliver({ t: 'typing', room: 'lobby', peer: a.session, user: a.user, on: true });
    await settle();
    expect(roomB.typingUsers).toHaveLength(1);
    const m = server.append('lobby', a.user, 'sent');
    server.open[1].deliver({ t: 'msg', room: 'lobby', ...m });
    await settle();
    expect(roomB.typingUsers).toEqual([]);
    // the peer leaving clears it
    server.open[1].deliver({ t: 'typing', room: 'lobby', peer: 's-9', user: 'u-9', on: true });
    await settle();
    expect(roomB.typingUsers).toEqual([{ user: 'u-9', peer: 's-9' }]);
    server.open[1].deliver({ t: 'presence', room: 'lobby', event: 'leave', peer: 's-9', user: 'u-9' });
    await settle();
    expect(roomB.typingUsers).toEqual([]);
    // this user's other device typing is not shown
    server.open[1].deliver({ t: 'typing', room: 'lobby', peer: 's-8', user: b.user, on: true });
    await settle();
    expect(roomB.typingUsers).toEqual([]);
  });

  it('a dropped socket forgets who was typing, and typing goes out again at once after the reconnect', async () => {
    const { server, clock, a, roomA, roomB } = await twoOnRelay();
    roomA.typing(true);
    await settle();
    expect(roomB.typingUsers).toHaveLength(1);
    server.open[1].drop(1001); // b's socket
    await settle();
    expect(roomB.typingUsers).toEqual([]);
    server.open[0].drop(1001); // a's socket
    await settle();
    await clock.advance(1000);
    await waitFor(() => server.open.length === 2 && roomA.joined && roomB.joined);
    roomA.typing(true);
    await settle();
    expect(server.framesOf('typing').map((f) => f.on)).toEqual([true, true]);
    expect(roomB.typingUsers.map((u) => u.user)).toEqual([a.user]);
  });

  it('readers and rooms not joined send nothing', async () => {
    const { server, roomA, a } = await twoOnRelay();
    roomA.role = 'reader';
    roomA.typing(true);
    expect(server.framesOf('typing')).toEqual([]);
    roomA.role = 'member';
    await roomA.leave();
    roomA.typing(true);
    expect(server.framesOf('typing')).toEqual([]);
    expect(a.rooms.size).toBe(0);
  });
});

describe('P2P: names and typing over DataChannels', () => {
  it('typing goes over the channel when every peer has one open; a DataChannel message gets its name from presence', async () => {
    const server = new FakeServer();
    server.decodeBatch = decodeBatch;
    const rtc = fakeRtc();
    const clock = new ManualClock();
    const opts = { WebSocket: server.WebSocket, storage: 'memory', clock, idle: (fn) => fn(), RTCPeerConnection: rtc.RTCPeerConnection, p2p: true };
    const a = await start(server, opts);
    const b = await start(server, opts);
    const roomA = await a.join('lobby');
    const roomB = await b.join('lobby');
    await settle();
    const [sa, sb] = server.open;
    sa.deliver({ t: 'steer', room: 'lobby', peer: b.session, mode: 'p2p', polite: false, iceServers: [] });
    sb.deliver({ t: 'steer', room: 'lobby', peer: a.session, mode: 'p2p', polite: true, iceServers: [] });
    // b learns a's name from presence (the fake server's join carries none)
    sb.deliver({ t: 'presence', room: 'lobby', event: 'join', peer: a.session, user: a.user, name: 'Ada' });
    await waitFor(() => roomA.peers()[0]?.path === 'p2p' && roomB.peers()[0]?.path === 'p2p');

    roomA.typing(true);
    await waitFor(() => roomB.typingUsers.length === 1);
    expect(roomB.typingUsers).toEqual([{ user: a.user, name: 'Ada', peer: a.session }]);
    expect(server.framesOf('typing')).toEqual([]);
    const got = [];
    roomB.on('message', (m) => got.push(m));
    const m = await roomA.send('직접');
    expect(m.path).toBe('p2p');
    await waitFor(() => got.length === 1);
    expect(got[0]).toMatchObject({ body: '직접', path: 'p2p', name: 'Ada', rev: 0, reactions: [] });
    // the off went over the channel before the message; the message clears it anyway
    expect(roomB.typingUsers).toEqual([]);
    expect(server.framesOf('typing')).toEqual([]);
    expect(a.stats().droppedPeerFrames + b.stats().droppedPeerFrames).toBe(0);
  });

  it('parsePeerFrame takes {t:typing, on} and nothing looser', () => {
    const expect_ = { maxBodyBytes: 100, from: 'u-a' };
    expect(parsePeerFrame('{"t":"typing","on":true}', expect_)).toEqual({ t: 'typing', on: true });
    expect(parsePeerFrame('{"t":"typing","on":false,"x":1}', expect_)).toEqual({ t: 'typing', on: false });
    expect(parsePeerFrame('{"t":"typing","on":"yes"}', expect_)).toBeNull();
    expect(parsePeerFrame('{"t":"typing"}', expect_)).toBeNull();
  });
});

describe('edit, delete, react', () => {
  async function chat(extra = {}) {
    const server = changesServer(new FakeServer());
    server.append('lobby', 'u-x', 'theirs');
    const client = await start(server, extra);
    const room = await client.join('lobby');
    const mine = await room.send('hello');
    await settle();
    return { server, client, room, mine, theirs: room.messages[0] };
  }

  it('edit resolves on the changed carrying its id with the updated message; others get an update', async () => {
    const { server, client, room, mine } = await chat();
    const other = await start(server);
    const otherRoom = await other.join('lobby');
    const updates = [];
    otherRoom.on('update', (m) => updates.push({ ...m }));
    const edited = await room.edit(mine, 'hello (edited)');
    expect(edited).toBe(mine);
    expect(mine).toMatchObject({ body: 'hello (edited)', edited: 1764043260000, rev: 1 });
    expect(server.framesOf('edit')).toEqual([expect.objectContaining({ room: 'lobby', seq: 2, body: 'hello (edited)' })]);
    expect(room.rev).toBe(1);
    await settle();
    expect(updates).toEqual([expect.objectContaining({ seq: 2, body: 'hello (edited)', rev: 1 })]);
    expect(otherRoom.rev).toBe(1);
    // stored in the cache: a reload shows the edit, and resumes changes from rev 1
    const [cached] = await client.cache.after('lobby', 1, 1);
    expect(cached).toMatchObject({ body: 'hello (edited)', edited: 1764043260000, rev: 1 });
    expect(await client.cache.revOf('lobby')).toBe(1);
  });

  it('a change by seq to a message not held resolves with its state from the cache, else from history', async () => {
    const server = changesServer(new FakeServer());
    for (let i = 1; i <= 30; i++) server.append('lobby', 'u-1', `m${i}`);
    const client = await start(server, { windowSize: 10 });
    const room = await client.join('lobby');
    await room.loadOlder(); // the window slides to 16–25; 26–30 stay in the cache only
    await client.cache.flush();
    expect(room.messages.some((m) => m.seq === 28)).toBe(false);
    expect(await client.cache.after('lobby', 27, 1)).toEqual([expect.objectContaining({ seq: 28 })]);
    const pages = server.framesOf('history').length;
    const fromCache = await room.edit(28, 'm28 (edited)');
    expect(fromCache).toMatchObject({ seq: 28, from: 'u-1', body: 'm28 (edited)', rev: 1, edited: 1764043260000 });
    expect(server.framesOf('history')).toHaveLength(pages);
    const fromHistory = await room.delete(2); // never cached
    expect(fromHistory).toMatchObject({ seq: 2, from: 'u-1', body: '', deleted: true, rev: 2 });
    expect(server.framesOf('history').at(-1)).toMatchObject({ before: 3, limit: 1 });
  });

  it('delete empties the body and marks it deleted; a seq works as well as a message', async () => {
    const { client, room, mine } = await chat();
    const m = await room.delete(2);
    expect(m).toBe(mine);
    expect(mine).toMatchObject({ body: '', deleted: true, rev: 1 });
    const [cached] = await client.cache.after('lobby', 1, 1);
    expect(cached).toMatchObject({ body: '', deleted: true });
  });

  it('react counts users and marks mine; off takes it back', async () => {
    const { server, client, room, theirs } = await chat();
    const other = await start(server);
    const otherRoom = await other.join('lobby');
    await room.react(theirs, '👍');
    expect(theirs.reactions).toEqual([{ emoji: '👍', count: 1, users: [client.user], mine: true }]);
    const seen = otherRoom.messages.find((m) => m.seq === 1);
    await otherRoom.react(seen, '👍');
    await settle();
    expect(theirs.reactions).toEqual([{ emoji: '👍', count: 2, users: [client.user, other.user], mine: true }]);
    expect(seen.reactions).toEqual([{ emoji: '👍', count: 2, users: [client.user, other.user], mine: true }]);
    await room.react(theirs, '👍', false);
    expect(theirs.reactions).toEqual([{ emoji: '👍', count: 1, users: [other.user], mine: false }]);
    expect(theirs.rev).toBe(3);
    await expect(room.react(theirs, 'two words')).rejects.toMatchObject({ code: 'bad_request' });
  });

  it('mine beyond the first 50 listed users comes from what this client did', async () => {
    const { server, client, room, theirs } = await chat();
    const users = Array.from({ length: 50 }, (_, i) => `u-o${i}`);
    server.handlers.react = (s, f) => {
      s.deliver({ t: 'changed', id: f.id, room: 'lobby', seq: f.seq, rev: 9, body: 'theirs', reactions: [{ emoji: '🎉', count: 51, users }] });
      return true;
    };
    await room.react(theirs, '🎉');
    expect(theirs.reactions[0]).toMatchObject({ count: 51, mine: true });
    expect(theirs.reactions[0].users).not.toContain(client.user);
    // another device of this user took it back: a complete list without us is believed
    server.open[0].deliver({ t: 'changed', room: 'lobby', seq: theirs.seq, rev: 10, body: 'theirs', reactions: [{ emoji: '🎉', count: 50, users }] });
    await settle();
    expect(theirs.reactions[0]).toMatchObject({ count: 50, mine: false });
    server.open[0].deliver({ t: 'changed', room: 'lobby', seq: theirs.seq, rev: 11, body: 'theirs', reactions: [{ emoji: '🎉', count: 51, users }] });
    await settle();
    expect(theirs.reactions[0]).toMatchObject({ count: 51, mine: false });
  });

  it('rejects with the server code, and at once with offline (nothing queued) when disconnected', async () => {
    const clock = new ManualClock();
    const { server, room, theirs } = await chat({ clock });
    server.handlers.edit = (s, f) => s.deliver({ t: 'error', code: 'forbidden', message: 'only the author may edit', ref: f.id }) ?? true;
    const err = await room.edit(theirs, 'mine now').catch((e) => e);
    expect(err).toBeInstanceOf(SwitchboardError);
    expect(err).toMatchObject({ code: 'forbidden', message: 'only the author may edit' });
    expect(theirs.body).toBe('theirs');
    await expect(room.delete(99)).rejects.toMatchObject({ code: 'not_found' });
    await expect(room.edit({ seq: null }, 'x')).rejects.toMatchObject({ code: 'bad_request' });
    await expect(room.edit(theirs, '')).rejects.toMatchObject({ code: 'bad_request' });
    server.open[0].drop(1001);
    await settle();
    const before = server.log.length;
    await expect(room.react(theirs, '👍')).rejects.toMatchObject({ code: 'offline' });
    await expect(room.delete(theirs)).rejects.toMatchObject({ code: 'offline' });
    await clock.advance(2000);
    await waitFor(() => server.open.length === 1);
    await settle();
    expect(server.log.slice(before).filter(([, f]) => ['react', 'delete'].includes(f.t))).toEqual([]);
  });

  it('changed for a message not held updates its cached copy, and else only the rev', async () => {
    const server = new FakeServer();
    for (let i = 1; i <= 60; i++) server.append('lobby', 'u-x', `m${i}`);
    const client = await start(server, { windowSize: 10 });
    const room = await client.join('lobby');
    expect(room.messages[0].seq).toBe(51);
    await room.loadOlder(); // pages 41–50 through the cache
    await client.cache.flush();
    while (room.messages[0].seq < 51 && room.messages.length > 0) await room.loadNewer();
    const events = [];
    room.on('update', (m) => events.push(m));
    const cachedOnly = (await client.cache.after('lobby', 0, 100)).map((m) => m.seq).find((s) => !room.messages.some((m) => m.seq === s));
    expect(cachedOnly).toBeDefined();
    server.open[0].deliver({ t: 'changed', room: 'lobby', seq: cachedOnly, rev: 4, body: `m${cachedOnly} (edited)`, edited: 5 });
    server.open[0].deliver({ t: 'changed', room: 'lobby', seq: 3, rev: 5, deleted: true });
    await settle();
    await client.cache.flush();
    expect(events).toEqual([]);
    const [c] = await client.cache.after('lobby', cachedOnly - 1, 1);
    expect(c).toMatchObject({ seq: cachedOnly, body: `m${cachedOnly} (edited)`, edited: 5, rev: 4 });
    expect(await client.cache.after('lobby', 2, 1)).not.toContainEqual(expect.objectContaining({ seq: 3 }));
    expect(room.rev).toBe(5);
    // an older changed never undoes a newer state
    const held = room.messages.at(-1);
    server.open[0].deliver({ t: 'changed', room: 'lobby', seq: held.seq, rev: 7, body: 'new', edited: 7 });
    server.open[0].deliver({ t: 'changed', room: 'lobby', seq: held.seq, rev: 6, body: 'old', edited: 6 });
    await settle();
    expect(held).toMatchObject({ body: 'new', rev: 7 });
    expect(room.rev).toBe(7);
  });

  it('a msg bringing the seq of a message held without one also brings its changes', async () => {
    const server = new FakeServer();
    server.autoAck = false;
    const client = await start(server);
    const room = await client.join('lobby');
    const m = await room.send('typo');
    await settle();
    const updates = [];
    room.on('update', (u) => updates.push({ ...u }));
    // the ack was lost; the echo (a resumed replay) carries the edit made from another device
    server.open[0].deliver({ t: 'msg', room: 'lobby', seq: 1, cid: m.cid, from: client.user, body: 'fixed', edited: 4, rev: 2, ts: 5 });
    await settle();
    expect(m).toMatchObject({ seq: 1, status: 'stored', body: 'fixed', edited: 4, rev: 2 });
    expect(updates).toEqual([expect.objectContaining({ seq: 1, body: 'fixed' })]);
  });

  it('msg and page entries carry the current state', async () => {
    const server = new FakeServer();
    Object.assign(server.append('lobby', 'u-x', 'x'), { rev: 3, deleted: true });
    delete server.room('lobby').messages[0].body;
    Object.assign(server.append('lobby', 'u-y', 'edited body'), { rev: 4, edited: 9, reactions: [{ emoji: '👍', count: 1, users: ['u-1'] }] });
    const client = await start(server);
    const room = await client.join('lobby');
    expect(room.messages[0]).toMatchObject({ seq: 1, body: '', deleted: true, rev: 3, reactions: [] });
    expect(room.messages[1]).toMatchObject({ seq: 2, body: 'edited body', edited: 9, rev: 4, reactions: [{ emoji: '👍', count: 1, users: ['u-1'], mine: true }] });
    server.open[0].deliver({ t: 'msg', room: 'lobby', seq: 3, cid: 'c-3', from: 'u-z', ts: 1, rev: 5, deleted: true });
    await settle();
    expect(room.messages[2]).toMatchObject({ seq: 3, body: '', deleted: true, rev: 5 });
  });
});

describe('catch-up of changes', () => {
  it('the room rev goes back in hello.resume, and in join after a reload (from IndexedDB, with the edited copy)', async () => {
    const server = new FakeServer();
    server.epochs = true;
    server.append('lobby', 'u-x', 'a');
    const clock = new ManualClock();
    const dbName = `chat-${Math.random()}`;
    const client = await start(server, { clock, storage: 'indexeddb', dbName });
    const room = await client.join('lobby');
    expect(server.framesOf('join')[0].rev).toBeUndefined();
    server.open[0].deliver({ t: 'changed', room: 'lobby', seq: 1, rev: 7, body: 'a!', edited: 3 });
    await settle();
    expect(room.rev).toBe(7);
    server.open[0].drop(1001);
    await settle();
    await clock.advance(2000);
    await waitFor(() => server.framesOf('hello').length === 2);
    expect(server.framesOf('hello')[1].resume).toEqual({ lobby: { seq: 1, epoch: 'ep1', rev: 7 } });
    await client.close();
    const again = await start(server, { clock, storage: 'indexeddb', dbName });
    const opened = [];
    again.on('room', (r) => opened.push(r.messages.map((m) => `${m.body}/${m.rev}`)));
    const reloaded = await again.join('lobby');
    expect(opened).toEqual([['a!/7']]);
    expect(server.framesOf('join').at(-1)).toMatchObject({ room: 'lobby', rev: 7 });
    expect(reloaded.rev).toBe(7);
  });

  it('changesRecovered:false drops the cached messages and re-reads the held ones', async () => {
    const server = new FakeServer();
    for (let i = 1; i <= 5; i++) server.append('lobby', 'u-x', `m${i}`);
    const clock = new ManualClock();
    const client = await start(server, { clock });
    const room = await client.join('lobby');
    server.open[0].deliver({ t: 'changed', room: 'lobby', seq: 5, rev: 2, body: 'm5', reactions: [{ emoji: '👍', count: 1, users: ['u-x'] }] });
    await settle();
    expect(room.rev).toBe(2);
    // while away: 1,500 changes, among them m2 deleted and m4 edited
    const msgs = server.room('lobby').messages;
    Object.assign(msgs[1], { rev: 1400, deleted: true });
    delete msgs[1].body;
    Object.assign(msgs[3], { rev: 1500, body: 'm4 (edited)', edited: 77 });
    server.handlers.hello = (socket, f) => {
      server.handlers.hello = undefined;
      expect(f.resume.lobby).toBe(5); // no epochs here: the number form (rev goes only with an epoch)
      server.receive(socket, { ...f, resume: {} });
      server.room('lobby').members.set(socket, socket.user);
      socket.deliver({ t: 'joined', room: 'lobby', head: 5, mode: 'active', members: [socket.user], peers: [], rev: 1502, changesRecovered: false });
      return true;
    };
    const updates = [];
    room.on('update', (m) => updates.push(m.seq));
    server.open[0].drop(1001);
    await settle();
    await clock.advance(2000);
    await waitFor(() => updates.length === 2);
    expect(updates).toEqual([2, 4]);
    expect(room.messages.map((m) => m.body)).toEqual(['m1', '', 'm3', 'm4 (edited)', 'm5']);
    expect(room.messages[1].deleted).toBe(true);
    expect(room.rev).toBe(1502);
    await client.cache.flush();
    expect((await client.cache.after('lobby', 0, 10)).map((m) => m.body)).toEqual(['m1', '', 'm3', 'm4 (edited)', 'm5']);
    expect(await client.cache.revOf('lobby')).toBe(1502);
  });
});
