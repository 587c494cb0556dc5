// Persistence behind one small interface with two backends: IndexedDB (through idb) and memory
// (private windows, Node, or `storage:'memory'`). Outbox and cache only talk to this interface.
import { wrap } from 'idb';

const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/**
 * @typedef {{cid: string, room: string, body: string, ts: number, order: number, path?: string|null, sent?: boolean, sealed?: string}} OutboxRecord sealed: the body as it goes on the wire in an encrypted room
 * @typedef {{room: string, seq: number, cid: string, from: string, ts: number, b: string}} CachedMessage body LZ-packed in b
 * @typedef {{room: string, lastSeq: number, used: number, epoch?: string}} RoomMeta epoch: the room's, from the last `joined`
 * @typedef {{above?: number, below?: number, limit?: number, newest?: boolean}} SeqRange no limit: all
 */

/**
 * @param {{storage?: 'indexeddb'|'memory', dbName?: string, indexedDB?: IDBFactory, IDBKeyRange?: typeof IDBKeyRange}} opts
 */
export async function openStorage(opts = {}) {
  const factory = opts.indexedDB ?? globalThis.indexedDB;
  const keyRange = opts.IDBKeyRange ?? globalThis.IDBKeyRange;
  if (opts.storage === 'memory' || !factory || !keyRange) return new MemoryStorage();
  try {
    return await IdbStorage.open(factory, keyRange, opts.dbName ?? 'switchboard');
  } catch {
    // Blocked or broken IndexedDB (e.g. some private modes): the SDK still works, without persistence.
    return new MemoryStorage();
  }
}

class IdbStorage {
  kind = 'indexeddb';

  static async open(factory, keyRange, name) {
    const request = factory.open(name, 1);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore('outbox', { keyPath: 'cid' });
      db.createObjectStore('messages', { keyPath: ['room', 'seq'] });
      db.createObjectStore('rooms', { keyPath: 'room' });
      db.createObjectStore('kv');
    };
    return new IdbStorage(await wrap(request), keyRange);
  }

  constructor(db, keyRange) {
    this.db = db;
    this.keyRange = keyRange;
  }

  kvGet(key) {
    return this.db.get('kv', key);
  }

  async kvSet(key, value) {
    await this.db.put('kv', value, key);
  }

  async kvDelete(key) {
    await this.db.delete('kv', key);
  }

  /** @param {OutboxRecord} rec */
  async outboxPut(rec) {
    await this.db.put('outbox', rec);
  }

  async outboxDelete(cid) {
    await this.db.delete('outbox', cid);
  }

  /** @returns {Promise<OutboxRecord[]>} in send order */
  async outboxAll() {
    return (await this.db.getAll('outbox')).sort((a, b) => a.order - b.order);
  }

  /** @param {CachedMessage[]} records */
  async messagesPut(records) {
    const tx = this.db.transaction('messages', 'readwrite');
    await Promise.all([...records.map((r) => tx.store.put(r)), tx.done]);
  }

  #range(room, above = -1, below = MAX_SEQ + 1) {
    return this.keyRange.bound([room, above], [room, below], true, true);
  }

  /** @param {string} room @param {SeqRange} q @returns {Promise<CachedMessage[]>} ascending */
  async messagesRange(room, { above = -1, below, limit, newest = false }) {
    const range = this.#range(room, above, below);
    if (!newest) return this.db.getAll('messages', range, limit);
    const store = this.db.transaction('messages').store;
    let cursor = await store.openCursor(range, 'prev');
    if (!cursor) return [];
    // A room's cached messages are contiguous (a hole drops the older part), so the newest page is
    // one key range: one getAll instead of a request per message (a room opens from here).
    const top = cursor.value.seq;
    const lowest = Math.max(above + 1, top - limit + 1);
    const page = await store.getAll(this.#range(room, lowest - 1, top + 1), limit);
    if (page.length === limit || lowest === above + 1) return page;
    const out = [];
    while (cursor && out.length < limit) {
      out.push(cursor.value);
      cursor = await cursor.continue();
    }
    return out.reverse();
  }

  messagesCount(room) {
    return this.db.count('messages', this.#range(room, -1));
  }

  /** Deletes the oldest messages of `room` beyond the newest `keep`. */
  async messagesTrim(room, keep) {
    const tx = this.db.transaction('messages', 'readwrite');
    let excess = (await tx.store.count(this.#range(room, -1))) - keep;
    let cursor = excess > 0 ? await tx.store.openCursor(this.#range(room, -1)) : null;
    while (cursor && excess-- > 0) {
      await cursor.delete();
      cursor = await cursor.continue();
    }
    await tx.done;
  }

  /** Deletes messages of `room` with above < seq < below (all of the room without bounds). */
  async messagesDelete(room, below = MAX_SEQ + 1, above = -1) {
    await this.db.delete('messages', this.#range(room, above, below));
  }

  roomGet(room) {
    return this.db.get('rooms', room);
  }

  /** @param {RoomMeta} meta */
  async roomPut(meta) {
    await this.db.put('rooms', meta);
  }

  roomsAll() {
    return this.db.getAll('rooms');
  }

  async roomDelete(room) {
    await this.messagesDelete(room);
    await this.db.delete('rooms', room);
  }

  async clearCache() {
    await Promise.all([this.db.clear('messages'), this.db.clear('rooms')]);
  }

  close() {
    this.db.close();
  }
}

/** Same interface, in memory. */
export class MemoryStorage {
  kind = 'memory';
  #kv = new Map();
  #outbox = new Map();
  /** @type {Map<string, Map<number, CachedMessage>>} */
  #messages = new Map();
  #rooms = new Map();

  async kvGet(key) {
    return this.#kv.get(key);
  }

  async kvSet(key, value) {
    this.#kv.set(key, value);
  }

  async kvDelete(key) {
    this.#kv.delete(key);
  }

  async outboxPut(rec) {
    this.#outbox.set(rec.cid, structuredClone(rec));
  }

  async outboxDelete(cid) {
    this.#outbox.delete(cid);
  }

  async outboxAll() {
    return [...this.#outbox.values()].map((r) => structuredClone(r)).sort((a, b) => a.order - b.order);
  }

  #sorted(room) {
    return [...(this.#messages.get(room)?.values() ?? [])].sort((a, b) => a.seq - b.seq);
  }

  async messagesPut(records) {
    for (const r of records) {
      let m = this.#messages.get(r.room);
      if (!m) this.#messages.set(r.room, (m = new Map()));
      m.set(r.seq, { ...r });
    }
  }

  async messagesRange(room, { above = -1, below = MAX_SEQ + 1, limit, newest = false }) {
    const all = this.#sorted(room).filter((r) => r.seq > above && r.seq < below);
    return (newest ? all.slice(-limit) : all.slice(0, limit)).map((r) => ({ ...r }));
  }

  async messagesCount(room) {
    return this.#messages.get(room)?.size ?? 0;
  }

  async messagesTrim(room, keep) {
    const all = this.#sorted(room);
    for (const r of all.slice(0, Math.max(0, all.length - keep))) this.#messages.get(room).delete(r.seq);
  }

  async messagesDelete(room, below = MAX_SEQ + 1, above = -1) {
    for (const r of this.#sorted(room)) if (r.seq < below && r.seq > above) this.#messages.get(room).delete(r.seq);
  }

  async roomGet(room) {
    const meta = this.#rooms.get(room);
    return meta && { ...meta };
  }

  async roomPut(meta) {
    this.#rooms.set(meta.room, { ...meta });
  }

  async roomsAll() {
    return [...this.#rooms.values()].map((m) => ({ ...m }));
  }

  async roomDelete(room) {
    this.#messages.delete(room);
    this.#rooms.delete(room);
  }

  async clearCache() {
    this.#messages.clear();
    this.#rooms.clear();
  }

  close() {}
}
