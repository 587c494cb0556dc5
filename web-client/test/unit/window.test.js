import { describe, expect, it } from 'vitest';
import { SmartMessageWindow } from '../../src/window.js';

const msg = (seq, extra = {}) => ({ seq, cid: `c${seq ?? extra.cid}`, from: 'u', body: `m${seq}`, ts: seq ?? 0, ...extra });

/** A loader over seqs 1..total, as a server with full history would page them. */
function loaderOver(total) {
  const all = Array.from({ length: total }, (_, i) => msg(i + 1));
  const calls = [];
  return {
    calls,
    older: async (before, limit) => {
      calls.push(['older', before, limit]);
      const below = all.filter((m) => before === undefined || m.seq < before);
      return { messages: below.slice(-limit), hasMore: below.length > limit };
    },
    newer: async (after, limit) => {
      calls.push(['newer', after, limit]);
      const above = all.filter((m) => m.seq > after);
      return { messages: above.slice(0, limit), hasMore: above.length > limit };
    },
    latest: async (limit) => ({ messages: all.slice(-limit), hasMore: all.length > limit }),
  };
}

const seqs = (w) => w.items.map((m) => m.seq);

describe('SmartMessageWindow', () => {
  it('remove takes messages out by (from, cid) and reports a change only when one was there', () => {
    const w = new SmartMessageWindow(loaderOver(0));
    for (let s = 1; s <= 4; s++) w.upsert(msg(s));
    const changes = [];
    w.on('change', (c) => changes.push(c.items.map((m) => m.seq)));
    expect(w.remove([{ ...msg(2) }, msg(3)])).toBe(true);
    expect(seqs(w)).toEqual([1, 4]);
    expect(w.remove([msg(9)])).toBe(false);
    expect(changes).toEqual([[1, 4]]);
    w.upsert(msg(2));
    expect(seqs(w)).toEqual([1, 2, 4]);
  });

  it('never holds more than 50 messages; live messages push the oldest out', () => {
    const w = new SmartMessageWindow(loaderOver(0));
    for (let s = 1; s <= 120; s++) w.upsert(msg(s));
    expect(w.items).toHaveLength(50);
    expect(seqs(w)[0]).toBe(71);
    expect(seqs(w).at(-1)).toBe(120);
    expect(w.hasOlder).toBe(true);
    expect(w.hasNewer).toBe(false);
  });

  it('orders by seq, with unsequenced messages after the last seq in arrival order, whatever their ts', () => {
    const w = new SmartMessageWindow(loaderOver(0));
    w.upsert(msg(null, { cid: 'p2', ts: 20 }));
    w.upsert(msg(5));
    w.upsert(msg(null, { cid: 'p1', ts: 10 }));
    w.upsert(msg(3));
    // p1's sender's clock says earlier, but p2 was on screen first: p1 does not jump above it
    expect(w.items.map((m) => m.seq ?? m.cid)).toEqual([3, 5, 'p2', 'p1']);
    w.upsert(msg(null, { cid: 'p0', ts: 0 }));
    w.upsert({ ...w.items.find((m) => m.cid === 'p2'), status: 'sent' });
    expect(w.items.map((m) => m.seq ?? m.cid)).toEqual([3, 5, 'p2', 'p1', 'p0']);
  });

  it('moves a message into place when its seq is learned later', () => {
    const w = new SmartMessageWindow(loaderOver(0));
    const p2p = msg(null, { cid: 'late', ts: 1 });
    w.upsert(p2p);
    w.upsert(msg(7));
    w.upsert(msg(9));
    expect(w.items.map((m) => m.seq ?? m.cid)).toEqual([7, 9, 'late']);
    p2p.seq = 8;
    w.upsert(p2p);
    expect(seqs(w)).toEqual([7, 8, 9]);
    expect(w.items).toHaveLength(3);
  });

  it('emits change with the slice', () => {
    const w = new SmartMessageWindow(loaderOver(0));
    const changes = [];
    w.on('change', (c) => changes.push(c.items.length));
    w.upsert(msg(1));
    w.upsert(msg(2));
    expect(changes).toEqual([1, 2]);
  });

  it('loadOlder pages in older messages and releases the newest beyond the bound', async () => {
    const loader = loaderOver(200);
    const w = new SmartMessageWindow(loader);
    w.reset((await loader.latest(50)).messages, { hasOlder: true });
    expect(seqs(w)[0]).toBe(151);
    expect(await w.loadOlder()).toBe(25);
    expect(loader.calls.at(-1)).toEqual(['older', 151, 25]);
    expect(w.items).toHaveLength(50);
    expect(seqs(w)[0]).toBe(126);
    expect(seqs(w).at(-1)).toBe(175);
    expect(w.hasNewer).toBe(true);
    // back down
    expect(await w.loadNewer()).toBe(25);
    expect(seqs(w)[0]).toBe(151);
    expect(seqs(w).at(-1)).toBe(200);
    expect(w.hasNewer).toBe(false);
    expect(w.hasOlder).toBe(true);
  });

  it('stops at the first message', async () => {
    const loader = loaderOver(60);
    const w = new SmartMessageWindow(loader);
    w.reset((await loader.latest(50)).messages, { hasOlder: true });
    await w.loadOlder();
    expect(seqs(w)[0]).toBe(1);
    expect(w.hasOlder).toBe(false);
    expect(await w.loadOlder()).toBe(0);
  });

  it('away from the newest end, live messages are not pulled into memory', async () => {
    const loader = loaderOver(200);
    const w = new SmartMessageWindow(loader);
    w.reset((await loader.latest(50)).messages, { hasOlder: true });
    await w.loadOlder();
    expect(w.upsert(msg(201))).toBe(false);
    expect(seqs(w)).not.toContain(201);
    await w.jumpToLatest();
    expect(seqs(w).at(-1)).toBe(200);
    expect(w.hasNewer).toBe(false);
  });

  it('concurrent loads share one request', async () => {
    const loader = loaderOver(200);
    const w = new SmartMessageWindow(loader);
    w.reset((await loader.latest(50)).messages, { hasOlder: true });
    await Promise.all([w.loadOlder(), w.loadOlder()]);
    expect(loader.calls.filter((c) => c[0] === 'older')).toHaveLength(1);
  });
});
