import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { MessageCache } from '../../src/cache.js';
import { openStorage } from '../../src/storage.js';

let n = 0;
const fresh = async (opts = {}) => {
  const storage = await openStorage({ dbName: `cache-${++n}` });
  let now = 0;
  const cache = new MessageCache(storage, { idle: () => {}, now: () => ++now, ...opts });
  return { storage, cache };
};
const msg = (seq, body = `m${seq}`) => ({ seq, cid: `c${seq}`, from: 'u', body, ts: 1000 + seq, path: 'relay' });

describe('MessageCache (IndexedDB)', () => {
  it('uses IndexedDB when it is there', async () => {
    const { storage } = await fresh();
    expect(storage.kind).toBe('indexeddb');
  });

  it('round-trips messages, bodies LZ-compressed at rest', async () => {
    const { storage, cache } = await fresh();
    const body = '안녕하세요 👋 '.repeat(50);
    cache.put('lobby', [msg(1, body), msg(2, '🎉')]);
    expect(await cache.before('lobby', undefined, 10)).toEqual([msg(1, body), msg(2, '🎉')]);
    const raw = await storage.messagesRange('lobby', { limit: 10 });
    expect(raw[0].b).not.toBe(body);
    expect(raw[0].b.length).toBeLessThan(body.length / 3);
    expect(await cache.lastSeq('lobby')).toBe(2);
  });

  it('pages before and after a seq', async () => {
    const { cache } = await fresh();
    cache.put('r', Array.from({ length: 30 }, (_, i) => msg(i + 1)));
    expect((await cache.before('r', 11, 5)).map((m) => m.seq)).toEqual([6, 7, 8, 9, 10]);
    expect((await cache.after('r', 25, 10)).map((m) => m.seq)).toEqual([26, 27, 28, 29, 30]);
    expect((await cache.before('r', undefined, 3)).map((m) => m.seq)).toEqual([28, 29, 30]);
  });

  it('finds the newest page in one range when contiguous, and across a hole when not', async () => {
    const { cache } = await fresh();
    cache.put('h', [...Array.from({ length: 10 }, (_, i) => msg(i + 1)), ...Array.from({ length: 6 }, (_, i) => msg(i + 20))]);
    expect((await cache.before('h', undefined, 4)).map((m) => m.seq)).toEqual([22, 23, 24, 25]);
    expect((await cache.before('h', undefined, 8)).map((m) => m.seq)).toEqual([9, 10, 20, 21, 22, 23, 24, 25]);
    expect((await cache.before('h', 21, 3)).map((m) => m.seq)).toEqual([9, 10, 20]);
    expect((await cache.before('h', undefined, 100)).map((m) => m.seq)).toHaveLength(16);
  });

  it('keeps rooms apart', async () => {
    const { cache } = await fresh();
    cache.put('a', [msg(1)]);
    cache.put('a:b', [msg(2)]);
    expect((await cache.before('a', undefined, 10)).map((m) => m.seq)).toEqual([1]);
  });

  it('keeps at most maxMessagesPerRoom, dropping the oldest', async () => {
    const { cache } = await fresh({ maxMessagesPerRoom: 10 });
    cache.put('r', Array.from({ length: 25 }, (_, i) => msg(i + 1)));
    await cache.flush();
    const all = await cache.before('r', undefined, 100);
    expect(all.map((m) => m.seq)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
  });

  it('evicts the least recently used room beyond maxRooms', async () => {
    const { cache, storage } = await fresh({ maxRooms: 2 });
    cache.put('a', [msg(1)]);
    await cache.flush();
    cache.put('b', [msg(1)]);
    await cache.flush();
    await cache.touch('a');
    cache.put('c', [msg(1)]);
    await cache.flush();
    expect((await storage.roomsAll()).map((r) => r.room).sort()).toEqual(['a', 'c']);
    expect(await cache.before('b', undefined, 10)).toEqual([]);
  });

  it('dropBelow forgets the part before a hole; clear forgets everything', async () => {
    const { cache } = await fresh();
    cache.put('r', [msg(1), msg(2), msg(9)]);
    await cache.dropBelow('r', 9);
    expect((await cache.before('r', undefined, 10)).map((m) => m.seq)).toEqual([9]);
    await cache.clear();
    expect(await cache.before('r', undefined, 10)).toEqual([]);
    expect(await cache.lastSeq('r')).toBe(0);
  });

  it('keeps the room epoch across later writes', async () => {
    const { cache } = await fresh();
    cache.put('r', [msg(1)]);
    await cache.setEpoch('r', 'k3f9a2x1');
    cache.put('r', [msg(2)]);
    expect(await cache.roomState('r')).toEqual({ lastSeq: 2, epoch: 'k3f9a2x1' });
    expect(await cache.roomState('other')).toEqual({ lastSeq: 0, epoch: null });
  });

  for (const kind of ['indexeddb', 'memory']) {
    it(`diverge forgets what is after the divergence, queued or stored, but not what is put later (${kind})`, async () => {
      const storage = await openStorage({ storage: kind, dbName: `cache-${++n}` });
      const cache = new MessageCache(storage, { idle: () => {}, now: () => 1 });
      cache.put('r', [msg(1), msg(2), msg(3), msg(4)]);
      await cache.flush();
      cache.put('r', [msg(5)]); // queued, not yet written
      cache.put('s', [msg(4)]);
      const forgotten = cache.diverge('r', 2, 'ep2');
      cache.put('r', [msg(3, 'replayed')]); // the replay follows the joined at once
      expect((await forgotten).map((m) => m.seq).sort()).toEqual([3, 4, 5]);
      expect((await cache.after('r', 0, 10)).map((m) => `${m.seq}:${m.body}`)).toEqual(['1:m1', '2:m2', '3:replayed']);
      expect(await cache.roomState('r')).toEqual({ lastSeq: 3, epoch: 'ep2' });
      expect((await cache.after('s', 0, 10)).map((m) => m.seq)).toEqual([4]);
    });
  }

  it('defers writes to idle time', async () => {
    const idle = [];
    const { cache, storage } = await fresh({ idle: (fn) => idle.push(fn) });
    cache.put('r', [msg(1)]);
    cache.put('r', [msg(2)]);
    expect(idle).toHaveLength(1);
    expect(await storage.messagesCount('r')).toBe(0);
    await idle[0]();
    expect(await storage.messagesCount('r')).toBe(2);
  });

  it('works the same in memory', async () => {
    const storage = await openStorage({ storage: 'memory' });
    expect(storage.kind).toBe('memory');
    const cache = new MessageCache(storage, { idle: () => {}, maxMessagesPerRoom: 3 });
    cache.put('r', [msg(1), msg(2), msg(3), msg(4, '한글')]);
    expect((await cache.before('r', undefined, 10)).map((m) => m.body)).toEqual(['m2', 'm3', '한글']);
  });
});
