// The sync batch: messages that went over DataChannels are uploaded so the server's history is
// complete. Every tick re-sends whatever is still unacked (acks come per item, by cid); the
// server dedupes by (room, sender, cid), so a retry never stores twice.
import { encodeBatch, MAX_BATCH_ITEMS } from './codec.js';
import { utf8Bytes } from './protocol.js';

export class SyncBatcher {
  /** @type {Map<string, Map<string, {cid: string, body: string}>>} room → cid → item */
  #queue = new Map();
  /** @type {Map<number, string>} ids of the batch frames in flight → room, so their errors can be told apart and routed */
  #ids = new Map();
  #timer = null;

  /**
   * @param {{
   *   send: (frame: object) => boolean, nextId: () => number, intervalMs: number,
   *   maxFrameBytes: () => number, clock: import('./clock.js').Clock,
   * }} opts
   */
  constructor(opts) {
    this.opts = opts;
    /** Batch frames sent (each retry counts). */
    this.sent = 0;
  }

  start() {
    this.#timer ??= this.opts.clock.setInterval(() => this.flush(), this.opts.intervalMs);
  }

  stop() {
    this.opts.clock.clearInterval(this.#timer);
    this.#timer = null;
  }

  add(room, cid, body) {
    let q = this.#queue.get(room);
    if (!q) this.#queue.set(room, (q = new Map()));
    q.set(cid, { cid, body });
  }

  /** The item's ack arrived (stored or not): the server has it, stop uploading it. */
  acked(room, cid) {
    this.#queue.get(room)?.delete(cid);
  }

  /** Removes and returns a room's unacked items (e.g. to send them another way). */
  take(room) {
    const items = [...(this.#queue.get(room)?.values() ?? [])];
    this.#queue.delete(room);
    return items;
  }

  rooms() {
    return [...this.#queue.keys()];
  }

  get size() {
    let n = 0;
    for (const q of this.#queue.values()) n += q.size;
    return n;
  }

  ownsId(id) {
    return this.#ids.has(id);
  }

  /** The room a batch frame in flight was for. */
  roomOf(id) {
    return this.#ids.get(id);
  }

  /** Sends every unacked item now, in frames of 1–50 items that stay under the frame limit. */
  flush() {
    if (this.#ids.size > 1000) this.#ids.clear();
    // LZ over base64 can grow incompressible text by about a third: budget the raw size accordingly.
    const budget = Math.floor(this.opts.maxFrameBytes() / 2);
    for (const [room, q] of this.#queue) {
      let chunk = [];
      let bytes = 0;
      for (const item of q.values()) {
        const size = utf8Bytes(item.body) + item.cid.length + 20;
        if (chunk.length && (chunk.length === MAX_BATCH_ITEMS || bytes + size > budget)) {
          this.#send(room, chunk);
          chunk = [];
          bytes = 0;
        }
        chunk.push(item);
        bytes += size;
      }
      if (chunk.length) this.#send(room, chunk);
    }
  }

  #send(room, items) {
    const id = this.opts.nextId();
    try {
      if (this.opts.send({ t: 'batch', id, room, enc: 'lz', data: encodeBatch(items) })) {
        this.#ids.set(id, room);
        this.sent++;
      }
    } catch {
      // Refused by the frame check (over the limit after all): the next tick retries in new chunks.
    }
  }
}
