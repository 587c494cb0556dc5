import { afterEach, describe, expect, it } from 'vitest';
import { decodeBatch } from '../../src/codec.js';
import { connect } from '../../src/index.js';
import { fakeRtc } from './fake-rtc.js';
import { FakeServer, ManualClock, settle, waitFor } from './helpers.js';

let clients = [];
afterEach(async () => {
  for (const c of clients) await c.close();
  clients = [];
});

async function start(server, extra = {}) {
  const client = await connect('ws://t/ws', { WebSocket: server.WebSocket, storage: 'memory', p2p: false, idle: (fn) => fn(), random: () => 0, ...extra });
  clients.push(client);
  return client;
}

describe('resume edge cases', () => {
  it('recovered:false starts the window at replayFrom and pages older from the server', async () => {
    const server = new FakeServer();
    const clock = new ManualClock();
    server.append('lobby', 'u-x', 'seen');
    const client = await start(server, { clock });
    const room = await client.join('lobby');
    server.open[0].drop(1001);
    for (let i = 0; i < 30; i++) server.append('lobby', 'u-x', `missed ${i}`);
    // a server that replays only from seq 22 (as if its replay bound were 10)
    server.handlers.hello = (socket, f) => {
      server.handlers.hello = undefined;
      server.receive(socket, { ...f, resume: {} });
      const r = server.room('lobby');
      r.members.set(socket, socket.user);
      socket.deliver({ t: 'joined', room: 'lobby', head: r.seq, mode: 'active', members: [socket.user], peers: [], recovered: false, replayFrom: 22 });
      for (const m of r.messages.filter((x) => x.seq >= 22)) socket.deliver({ t: 'msg', room: 'lobby', ...m });
      return true;
    };
    await settle();
    await clock.advance(500);
    await waitFor(() => room.messages.length === 10);
    expect(room.messages.map((m) => m.seq)).toEqual([22, 23, 24, 25, 26, 27, 28, 29, 30, 31]);
    expect(room.window.hasOlder).toBe(true);
    await room.loadOlder();
    expect(room.messages[0].seq).toBe(1);
    expect(server.framesOf('history').at(-1)).toMatchObject({ before: 22 });
  });

  it('background rooms stay in the background after a reconnect', async () => {
    const server = new FakeServer();
    const clock = new ManualClock();
    const client = await start(server, { clock });
    await client.join('quiet', { mode: 'background' });
    server.open[0].drop(1001);
    await settle();
    await clock.advance(500);
    expect(server.framesOf('mode')).toEqual([expect.objectContaining({ room: 'quiet', mode: 'background' })]);
  });

  it('a server without batch gets P2P messages as resends instead', async () => {
    const server = new FakeServer();
    server.handlers.batch = (socket, f) => {
      socket.deliver({ t: 'error', code: 'unknown_type', message: 'unknown type batch', ref: f.id });
      return true;
    };
    const clock = new ManualClock();
    const rtc = fakeRtc();
    const a = await start(server, { clock, p2p: true, RTCPeerConnection: rtc.RTCPeerConnection });
    const b = await start(server, { clock, p2p: true, RTCPeerConnection: rtc.RTCPeerConnection });
    const roomA = await a.join('lobby');
    const roomB = await b.join('lobby');
    await settle();
    server.open[0].deliver({ t: 'steer', room: 'lobby', peer: b.session, mode: 'p2p', polite: false, iceServers: [] });
    server.open[1].deliver({ t: 'steer', room: 'lobby', peer: a.session, mode: 'p2p', polite: true, iceServers: [] });
    await waitFor(() => roomA.peers()[0]?.path === 'p2p' && roomB.peers()[0]?.path === 'p2p');
    const errors = [];
    a.on('error', (e) => errors.push(e));
    const m = await roomA.send('p2p first');
    expect(m.path).toBe('p2p');
    await clock.advance(50); // the quick upload, refused: the relay takes it as a resend
    await waitFor(() => m.status === 'stored');
    expect(server.framesOf('send')).toEqual([expect.objectContaining({ cid: m.cid, resend: true })]);
    expect(roomA.pathOf(m.cid)).toBe('p2p');
    expect(errors).toEqual([]);
    expect(decodeBatch(server.framesOf('batch')[0].data)).toEqual([{ cid: m.cid, body: 'p2p first', ts: m.ts }]);
  });
});
