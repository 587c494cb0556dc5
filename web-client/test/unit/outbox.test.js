import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/index.js';
import { Outbox } from '../../src/outbox.js';
import { openStorage } from '../../src/storage.js';
import { FakeServer, ManualClock, settle } from './helpers.js';

let n = 0;
let clients = [];
afterEach(async () => {
  for (const c of clients) await c.close();
  clients = [];
});

async function start(server, dbName, extra = {}) {
  const client = await connect('ws://test/ws', {
    WebSocket: server.WebSocket, dbName, clock: extra.clock ?? new ManualClock(), p2p: false, idle: (fn) => fn(),
    reconnect: { jitter: 0 }, ...extra,
  });
  clients.push(client);
  return client;
}

describe('Outbox', () => {
  it('persists before add resolves, keeps order, and survives a reload', async () => {
    const dbName = `outbox-${++n}`;
    const storage = await openStorage({ dbName });
    const outbox = await new Outbox(storage).load();
    const a = await outbox.add('lobby', 'first', 1);
    const b = await outbox.add('lobby', 'second', 2);
    await outbox.add('other', 'elsewhere', 3);
    expect((await storage.outboxAll()).map((r) => r.body)).toEqual(['first', 'second', 'elsewhere']);
    storage.close();

    const reloaded = await new Outbox(await openStorage({ dbName })).load();
    expect(reloaded.forRoom('lobby').map((r) => r.cid)).toEqual([a.cid, b.cid]);
    const c = await reloaded.add('lobby', 'third', 4);
    expect(c.order).toBeGreaterThan(b.order);
    expect(reloaded.forRoom('lobby').map((r) => r.body)).toEqual(['first', 'second', 'third']);
  });

  it('forgets a message only when removed', async () => {
    const storage = await openStorage({ dbName: `outbox-${++n}` });
    const outbox = await new Outbox(storage).load();
    const a = await outbox.add('r', 'x', 1);
    await outbox.update(a.cid, { path: 'relay', sent: true });
    expect(await storage.outboxAll()).toEqual([expect.objectContaining({ cid: a.cid, path: 'relay', sent: true })]);
    expect(await outbox.remove(a.cid)).toBe(true);
    expect(await storage.outboxAll()).toEqual([]);
  });
});

describe('offline and reload delivery', () => {
  it('messages written while offline go out after reconnect, in order, once each, with resend', async () => {
    const server = new FakeServer();
    const clock = new ManualClock();
    const client = await start(server, `deliver-${++n}`, { clock });
    const room = await client.join('lobby');
    server.accepting = false;
    server.open[0].drop(1001, 'going away');
    await settle();
    expect(client.state).toBe('reconnecting');
    const sent = [];
    for (const body of ['one', 'two', 'three']) sent.push(await room.send(body));
    expect(sent.map((m) => m.status)).toEqual(['pending', 'pending', 'pending']);
    expect(client.stats().outbox).toBe(3);

    server.accepting = true;
    await clock.advance(500);
    await settle();
    expect(client.state).toBe('open');
    const sends = server.framesOf('send');
    expect(sends.map((f) => [f.body, f.resend])).toEqual([['one', true], ['two', true], ['three', true]]);
    expect(server.room('lobby').messages.map((m) => m.body)).toEqual(['one', 'two', 'three']);
    expect(sent.map((m) => [m.seq, m.status])).toEqual([[1, 'stored'], [2, 'stored'], [3, 'stored']]);
    expect(client.stats().outbox).toBe(0);
  });

  it('messages left unconfirmed before a reload are delivered by the next client, once', async () => {
    const server = new FakeServer();
    const dbName = `reload-${++n}`;
    server.autoAck = false; // delivered but never confirmed
    const before = await start(server, dbName);
    const room = await before.join('lobby');
    await room.send('delivered, unconfirmed');
    server.accepting = false;
    server.open[0].drop(1006);
    await settle();
    await room.send('written offline');
    await before.close();
    clients = [];

    server.accepting = true;
    server.autoAck = true;
    const after = await start(server, dbName);
    expect(after.user).toBe(before.user); // the token came from storage
    const again = await after.join('lobby');
    await settle();
    expect(server.room('lobby').messages.map((m) => m.body)).toEqual(['delivered, unconfirmed', 'written offline']);
    expect(server.framesOf('send').slice(1).every((f) => f.resend === true)).toBe(true);
    expect(again.messages.map((m) => [m.body, m.status])).toEqual([['delivered, unconfirmed', 'stored'], ['written offline', 'stored']]);
    expect(after.stats().outbox).toBe(0);
    expect(await after.storage.outboxAll()).toEqual([]);
  });

  it('storage_unavailable keeps the message and retries it', async () => {
    const server = new FakeServer();
    const clock = new ManualClock();
    let refuse = true;
    server.handlers.send = (socket, f) => {
      if (!refuse) return false;
      socket.deliver({ t: 'error', code: 'storage_unavailable', message: 'queue full', ref: f.id });
      return true;
    };
    const client = await start(server, `unavail-${++n}`, { clock });
    const room = await client.join('lobby');
    const m = await room.send('patience');
    await settle();
    expect(m.status).toBe('pending');
    expect(client.stats().outbox).toBe(1);
    refuse = false;
    await clock.advance(2000);
    await settle();
    expect(m.status).toBe('stored');
    expect(server.room('lobby').messages.map((x) => x.body)).toEqual(['patience']);
  });
});

describe('client message ids', async () => {
  const { newCid } = await import('../../src/uuid.js');
  const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  it('are v4 UUIDs, also where randomUUID is missing (plain http pages)', () => {
    expect(newCid()).toMatch(UUID_V4);
    const insecure = { getRandomValues: (a) => globalThis.crypto.getRandomValues(a) };
    const ids = new Set(Array.from({ length: 100 }, () => newCid(insecure)));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(UUID_V4);
  });
});
