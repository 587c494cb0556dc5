// Recent messages per room, bodies LZ-packed, so a room opens from disk before the network
// answers. Bounded per room and in rooms (least recently used room evicted); writes are batched
// into idle time because rendering matters more than persisting a copy of server data.
import { packBody, unpackBody } from './codec.js';
import { sealedBodies } from './e2ee.js';

export const DEFAULT_CACHE = Object.freeze({ maxMessagesPerRoom: 500, maxRooms: 50 });

const defaultIdle = (fn) =>
  typeof globalThis.requestIdleCallback === 'function'
    ? globalThis.requestIdleCallback(fn, { timeout: 1000 })
    : setTimeout(fn, 0);

/**
 * @typedef {{emoji: string, count: number, users: string[]}} StoredReaction
 * @typedef {{seq: number, cid: string, from: string, body: string, ts: number, path?: string,
 *   name?: string, rev?: number, edited?: number, deleted?: boolean, reactions?: StoredReaction[]}} StoredMessage
 *   (the chat state only where set)
 */

/** A message as a cache record: the body LZ-packed, the chat state (issue 17) only where set. */
function toRecord(room, m) {
  const r = { room, seq: m.seq, cid: m.cid, from: m.from, ts: m.ts, p: m.path };
  if (m.deleted) r.d = true;
  else r.b = packBody(sealedBodies.get(m) ?? m.body); // encrypted rooms: sealed at rest
  if (m.name !== undefined) r.n = m.name;
  if (m.rev > 0) r.r = m.rev;
  if (m.edited !== undefined) r.e = m.edited;
  if (m.reactions?.length > 0) r.x = m.reactions.map(({ emoji, count, users }) => ({ emoji, count, users: [...users] }));
  return r;
}

/** @returns {StoredMessage|null} null for a damaged record (the caller skips it) */
function fromRecord(r) {
  const body = r.d ? '' : unpackBody(r.b);
  if (body === null) return null;
  const m = { seq: r.seq, cid: r.cid, from: r.from, body, ts: r.ts, path: r.p };
  if (r.n !== undefined) m.name = r.n;
  if (r.r !== undefined) m.rev = r.r;
  if (r.x !== undefined) m.reactions = r.x;
  if (r.e !== undefined) m.edited = r.e;
  if (r.d) m.deleted = true;
  return m;
}

export class MessageCache {
  /** @type {Map<string, Map<number, StoredMessage>>} */
  #pending = new Map();
  #scheduled = false;
  /** @type {Promise<void>} */
  #writing = Promise.resolve();

  /**
   * @param {import('./storage.js').MemoryStorage} storage either backend of storage.js
   * @param {{maxMessagesPerRoom?: number, maxRooms?: number, idle?: (fn: () => void) => void, now?: () => number}} [opts]
   */
  constructor(storage, opts = {}) {
    this.storage = storage;
    this.opts = { ...DEFAULT_CACHE, ...opts };
    this.idle = opts.idle ?? defaultIdle;
    this.now = opts.now ?? Date.now;
  }

  /** Queues messages that have a seq for writing. */
  put(room, messages) {
    let queue = this.#pending.get(room);
    if (!queue) this.#pending.set(room, (queue = new Map()));
    for (const m of messages) if (m.seq != null) queue.set(m.seq, m);
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.idle(() => this.flush());
    }
  }

  /** Writes everything queued; resolves when it is in storage. */
  flush() {
    this.#scheduled = false;
    // Reads flush first; with nothing queued they only wait for writes under way (no eviction scan).
    if (this.#pending.size === 0) return this.#writing;
    const batch = this.#pending;
    this.#pending = new Map();
    this.#writing = this.#writing.then(() => this.#write(batch)).catch(() => {});
    return this.#writing;
  }

  async #write(batch) {
    for (const [room, queue] of batch) {
      if (queue.size === 0) continue;
      const records = [...queue.values()].map((m) => toRecord(room, m));
      await this.storage.messagesPut(records);
      const meta = await this.storage.roomGet(room);
      const lastSeq = Math.max(meta?.lastSeq ?? 0, ...records.map((r) => r.seq));
      await this.storage.roomPut({ ...meta, room, lastSeq, used: this.now() });
      await this.storage.messagesTrim(room, this.opts.maxMessagesPerRoom);
    }
    await this.#evictRooms();
  }

  async #evictRooms() {
    const rooms = await this.storage.roomsAll();
    if (rooms.length <= this.opts.maxRooms) return;
    rooms.sort((a, b) => a.used - b.used);
    for (const meta of rooms.slice(0, rooms.length - this.opts.maxRooms)) await this.storage.roomDelete(meta.room);
  }

  /** Marks a room as used now (LRU). */
  async touch(room) {
    await this.flush();
    const meta = await this.storage.roomGet(room);
    if (meta) await this.storage.roomPut({ ...meta, used: this.now() });
  }

  /** Highest seq cached for the room (0 when none). */
  async lastSeq(room) {
    await this.flush();
    return (await this.storage.roomGet(room))?.lastSeq ?? 0;
  }

  /** @returns {Promise<{lastSeq: number, epoch: string|null}>} what a reload resumes the room from */
  async roomState(room) {
    await this.flush();
    const meta = await this.storage.roomGet(room);
    return { lastSeq: meta?.lastSeq ?? 0, epoch: meta?.epoch ?? null };
  }

  /** @returns {Promise<number>} the room's rev: its changes (edits, deletes, reactions) the cached messages reflect */
  async revOf(room) {
    await this.flush();
    return (await this.storage.roomGet(room))?.rev ?? 0;
  }

  /** Records the room's rev, after the writes already queued (which carry the changes it counts). */
  setRev(room, rev) {
    return this.#afterWrites(async () => {
      const meta = await this.storage.roomGet(room);
      if ((meta?.rev ?? 0) === rev) return;
      await this.storage.roomPut({ room, lastSeq: 0, used: this.now(), ...meta, rev });
    });
  }

  /**
   * A `changed` for a message held only here: rewrites its cached copy with `update(message)` when
   * cached (after queued writes, so a queued copy is not written over the change).
   * @param {(m: StoredMessage) => boolean} update mutates the message; false: nothing to write
   */
  change(room, seq, update) {
    return this.#afterWrites(async () => {
      const [r] = await this.storage.messagesRange(room, { above: seq - 1, below: seq + 1, limit: 1 });
      const m = r && fromRecord(r);
      if (m && update(m)) await this.storage.messagesPut([toRecord(room, m)]);
    });
  }

  /**
   * Forgets the room's cached messages but not its epoch (the server could not send every change
   * since our rev: no cached copy can be trusted). Its rev and lastSeq restart at 0.
   */
  dropMessages(room) {
    this.#pending.delete(room);
    return this.#afterWrites(async () => {
      await this.storage.messagesDelete(room);
      const meta = await this.storage.roomGet(room);
      if (meta) await this.storage.roomPut({ ...meta, lastSeq: 0, rev: 0 });
    });
  }

  /** Records the room's epoch (from `joined`), after the writes already queued. */
  setEpoch(room, epoch) {
    return this.#afterWrites(async () => {
      const meta = await this.storage.roomGet(room);
      if (meta?.epoch === epoch) return;
      await this.storage.roomPut({ room, lastSeq: 0, used: this.now(), ...meta, epoch });
    });
  }

  /**
   * The room's messages after seq `after` may not exist (the relay started a new epoch): forgets
   * them and records the new epoch. Queued writes above `after` are dropped now, so replayed
   * messages put after this call are kept; stored ones go once the writes under way are done.
   * @returns {Promise<StoredMessage[]>} what was forgotten, to match against the server's answer
   */
  diverge(room, after, epoch) {
    const dropped = [];
    const queue = this.#pending.get(room);
    for (const [seq, m] of queue ?? []) {
      if (seq <= after) continue;
      queue.delete(seq);
      const copy = fromRecord(toRecord(room, m));
      if (copy) dropped.push(copy);
    }
    return this.#afterWrites(async () => {
      const stored = [];
      for (const r of await this.storage.messagesRange(room, { above: after })) {
        const m = fromRecord(r);
        if (m) stored.push(m);
      }
      await this.storage.messagesDelete(room, undefined, after);
      const meta = await this.storage.roomGet(room);
      await this.storage.roomPut({ used: this.now(), ...meta, room, lastSeq: Math.min(meta?.lastSeq ?? 0, after), epoch });
      return stored;
    }).then((stored) => [...(stored ?? []), ...dropped]);
  }

  /** Runs `op` after everything queued so far is written, before anything queued later. */
  #afterWrites(op) {
    const batch = this.#pending;
    this.#pending = new Map();
    const result = this.#writing.then(() => batch.size > 0 && this.#write(batch)).then(op);
    this.#writing = result.then(() => {}, () => {});
    return result.catch(() => undefined);
  }

  /** @returns {Promise<StoredMessage[]>} the newest `limit` messages with seq < before, ascending */
  async before(room, before, limit) {
    return this.#read(room, { below: before ?? undefined, limit, newest: true });
  }

  /** @returns {Promise<StoredMessage[]>} the oldest `limit` messages with seq > after, ascending */
  async after(room, after, limit) {
    return this.#read(room, { above: after, limit });
  }

  async #read(room, range) {
    await this.flush();
    const out = [];
    for (const r of await this.storage.messagesRange(room, range)) {
      const m = fromRecord(r);
      if (m) out.push(m);
    }
    return out;
  }

  /**
   * Forgets messages below `seq`: used when the server could not replay everything missed, so the
   * cache never claims to be contiguous across a hole.
   */
  async dropBelow(room, seq) {
    await this.flush();
    await this.storage.messagesDelete(room, seq);
  }

  /**
   * Forgets one room: queued writes, messages and bookkeeping (the server ended the membership,
   * so what the user could read there no longer stays on the device).
   */
  forget(room) {
    this.#pending.delete(room);
    return this.#afterWrites(() => this.storage.roomDelete(room));
  }

  /** Forgets everything cached (messages and room bookkeeping). */
  async clear() {
    await this.flush();
    await this.storage.clearCache();
  }
}
