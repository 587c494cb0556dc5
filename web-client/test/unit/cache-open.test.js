import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/index.js';
import { FakeServer, ManualClock, settle, waitFor } from './helpers.js';

let clients = [];
afterEach(async () => {
  for (const c of clients) await c.close();
  clients = [];
});

let n = 0;
async function start(server, dbName) {
  const client = await connect('ws://t/ws', { WebSocket: server.WebSocket, dbName, clock: new ManualClock(), p2p: false, idle: (fn) => fn() });
  clients.push(client);
  return client;
}

describe('a room opens from the cache, then delta-syncs', () => {
  it('shows the cached page before joined, then fetches only what is newer', async () => {
    const server = new FakeServer();
    const dbName = `open-${++n}`;
    for (let i = 1; i <= 5; i++) server.append('lobby', 'u-x', `old ${i}`);
    const first = await start(server, dbName);
    await first.join('lobby');
    await first.close();
    clients = [];

    server.append('lobby', 'u-x', 'new 6');
    server.append('lobby', 'u-x', 'new 7');
    let held;
    server.handlers.join = (socket, f) => {
      held = () => {
        server.handlers.join = undefined;
        server.receive(socket, f);
      };
      return true;
    };
    const second = await start(server, dbName);
    let opened;
    second.on('room', (room) => (opened = room.messages.map((m) => m.body)));
    const joining = second.join('lobby');
    await waitFor(() => opened && held);
    expect(opened).toEqual(['old 1', 'old 2', 'old 3', 'old 4', 'old 5']);
    held();
    const room = await joining;
    const history = server.framesOf('history').at(-1);
    expect(history).toMatchObject({ room: 'lobby', limit: 2 });
    expect(history.before).toBeUndefined();
    expect(room.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(room.lastSeq).toBe(7);
  });

  it('a gap larger than a page drops the stale cache part instead of bridging it', async () => {
    const server = new FakeServer();
    const dbName = `gap-${++n}`;
    server.append('lobby', 'u-x', 'ancient');
    const first = await start(server, dbName);
    await first.join('lobby');
    await first.close();
    clients = [];
    for (let i = 0; i < 80; i++) server.append('lobby', 'u-x', `m${i}`);
    const second = await start(server, dbName);
    const room = await second.join('lobby');
    expect(room.messages).toHaveLength(50);
    expect(room.messages[0].seq).toBe(32);
    expect(room.window.hasOlder).toBe(true);
    await settle();
    expect((await second.cache.before('lobby', undefined, 100)).map((m) => m.seq)[0]).toBe(32);
    // paging older now goes to the server for what the cache lacks
    await room.loadOlder();
    expect(room.messages[0].seq).toBe(7);
    expect(server.framesOf('history').at(-1)).toMatchObject({ before: 32, limit: 25 });
  });

  it('clearCache empties it', async () => {
    const server = new FakeServer();
    server.append('lobby', 'u-x', 'x');
    const client = await start(server, `clear-${++n}`);
    await client.join('lobby');
    await settle();
    expect(await client.cache.lastSeq('lobby')).toBe(1);
    await client.clearCache();
    expect(await client.cache.lastSeq('lobby')).toBe(0);
  });
});
