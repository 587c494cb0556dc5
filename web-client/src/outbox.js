// Every message the app sends lives here, persisted (before the relay socket sees it; a P2P send
// does not wait for the write) until the server confirms it is stored (`ack stored:true`). A
// reload rebuilds it from storage.
import { newCid } from './uuid.js';

/**
 * @typedef {import('./storage.js').OutboxRecord} OutboxRecord
 */

export class Outbox {
  /** @type {Map<string, OutboxRecord>} */
  #records = new Map();
  #order = 0;

  /**
   * @param {import('./storage.js').MemoryStorage} storage either backend of storage.js
   */
  constructor(storage) {
    this.storage = storage;
  }

  /** Loads what a previous page (or client) left unconfirmed. */
  async load() {
    for (const rec of await this.storage.outboxAll()) {
      this.#records.set(rec.cid, rec);
      this.#order = Math.max(this.#order, rec.order);
    }
    return this;
  }

  get size() {
    return this.#records.size;
  }

  /**
   * Persists a new message; resolves once it is in storage, so nothing reaches a wire unsaved.
   * @returns {Promise<OutboxRecord>}
   */
  async add(room, body, ts) {
    const rec = this.create(room, body, ts);
    await this.persist(rec);
    return rec;
  }

  /** A new record, held in memory only until {@link persist} resolves. */
  create(room, body, ts) {
    const rec = { cid: newCid(), room, body, ts, order: ++this.#order, path: null, sent: false };
    this.#records.set(rec.cid, rec);
    return rec;
  }

  /** Writes a record made by {@link create}; a record the ack removed meanwhile stays removed. */
  async persist(rec) {
    await this.storage.outboxPut(rec);
    if (!this.#records.has(rec.cid)) await this.storage.outboxDelete(rec.cid);
  }

  get(cid) {
    return this.#records.get(cid);
  }

  /** Records how a message went out (path) or that delivery was confirmed (sent). */
  async update(cid, patch) {
    const rec = this.#records.get(cid);
    if (!rec) return;
    Object.assign(rec, patch);
    await this.storage.outboxPut(rec);
  }

  /** Only on `ack stored:true`: the server has the row, the outbox may forget it. */
  async remove(cid) {
    if (!this.#records.delete(cid)) return false;
    await this.storage.outboxDelete(cid);
    return true;
  }

  /** @returns {OutboxRecord[]} the room's unconfirmed messages in the order they were written */
  forRoom(room) {
    return [...this.#records.values()].filter((r) => r.room === room).sort((a, b) => a.order - b.order);
  }
}
