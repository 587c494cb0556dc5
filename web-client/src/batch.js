// The sync batch: messages that went over DataChannels are uploaded so the server's history is
// complete and each gets its seq. A room's new items go up `delayMs` after the first of them (one
// frame for what was sent meanwhile): a seq that comes late moves a message on screen. Every tick
// re-sends whatever is still unacked (acks come per item, by cid); the server dedupes by
// (room, sender, cid), so a retry never stores twice.
//
// What keeps P2P's savings at the relay: a frame says which peers got every item over their
// DataChannel (`to`: they get one bodiless `seqs` frame instead of a `msg` per item) and whether
// it holds only first uploads (`resend:false`: the relay skips its storage lookup).
import { encodeBatch, MAX_BATCH_ITEMS } from './codec.js';
import { utf8Bytes } from './protocol.js';

export class SyncBatcher {
  /**
   * @type {Map<string, Map<string, {cid: string, body: string, ts?: number, to?: string[], resend: boolean, sentAt?: number}>>}
   * room → cid → item
   */
  #queue = new Map();
  /** @type {Map<string, any>} room → timer of its quick upload */
  #soon = new Map();
  /** @type {Map<number, string>} ids of the batch frames in flight → room, so their errors can be told apart and routed */
  #ids = new Map();
  #timer = null;

  /**
   * @param {{
   *   send: (frame: object) => boolean, nextId: () => number, intervalMs: number, delayMs: number,
   *   maxFrameBytes: () => number, clock: import('./clock.js').Clock,
   * }} opts
   */
  constructor(opts) {
    this.opts = opts;
    /** Batch frames sent (each retry counts). */
    this.sent = 0;
  }

  start() {
    // The tick is the retry: items sent less than half an interval ago still wait for their ack.
    this.#timer ??= this.opts.clock.setInterval(() => this.flush(this.opts.intervalMs / 2), this.opts.intervalMs);
  }

  stop() {
    this.opts.clock.clearInterval(this.#timer);
    this.#timer = null;
    for (const timer of this.#soon.values()) this.opts.clock.clearTimeout(timer);
    this.#soon.clear();
  }

  /**
   * @param {number} [ts] when the user sent it (server clock), uploaded as the item's `ts`
   * @param {{to?: string[], resend?: boolean}} [how] `to`: the peers whose DataChannel took it;
   *   `resend: false`: never uploaded before (the default, true, lets the relay look it up in storage)
   */
  add(room, cid, body, ts, { to, resend = true } = {}) {
    let q = this.#queue.get(room);
    if (!q) this.#queue.set(room, (q = new Map()));
    const item = { cid, body, resend };
    if (Number.isSafeInteger(ts) && ts >= 0) item.ts = ts;
    if (to?.length) item.to = to;
    q.set(cid, item);
  }

  /** Uploads the room's unsent items after `delayMs`, together with whatever is added meanwhile. */
  soon(room) {
    if (this.#soon.has(room)) return;
    this.#soon.set(room, this.opts.clock.setTimeout(() => {
      this.#soon.delete(room);
      this.#flushRoom(room, Infinity);
    }, this.opts.delayMs));
  }

  /** The item's ack arrived (stored or not): the server has it, stop uploading it. */
  acked(room, cid) {
    this.#queue.get(room)?.delete(cid);
  }

  /** Removes and returns a room's unacked items (e.g. to send them another way). */
  take(room) {
    const items = [...(this.#queue.get(room)?.values() ?? [])].map(({ cid, body, ts }) => (ts === undefined ? { cid, body } : { cid, body, ts }));
    this.#queue.delete(room);
    this.opts.clock.clearTimeout(this.#soon.get(room));
    this.#soon.delete(room);
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

  /**
   * Sends every unacked item now, in frames of 1–50 items that stay under the frame limit.
   * @param {number} [olderThanMs] only items never sent or sent at least this long ago
   */
  flush(olderThanMs = 0) {
    if (this.#ids.size > 1000) this.#ids.clear();
    for (const room of this.#queue.keys()) this.#flushRoom(room, olderThanMs);
  }

  /** @param {number} olderThanMs Infinity: only items never sent */
  #flushRoom(room, olderThanMs) {
    const q = this.#queue.get(room);
    if (!q) return;
    const now = this.opts.clock.now();
    // LZ over base64 can grow incompressible text by about a third: budget the raw size accordingly.
    const budget = Math.floor(this.opts.maxFrameBytes() / 2);
    let chunk = [];
    let bytes = 0;
    for (const item of q.values()) {
      if (item.sentAt !== undefined && !(now - item.sentAt >= olderThanMs)) continue;
      const size = utf8Bytes(item.body) + item.cid.length + 40;
      // First uploads and retries go in separate frames: `resend` is the frame's.
      if (chunk.length && (chunk.length === MAX_BATCH_ITEMS || bytes + size > budget || chunk[0].resend !== item.resend)) {
        this.#send(room, chunk, now);
        chunk = [];
        bytes = 0;
      }
      chunk.push(item);
      bytes += size;
    }
    if (chunk.length) this.#send(room, chunk, now);
  }

  #send(room, items, now) {
    const id = this.opts.nextId();
    const frame = { t: 'batch', id, room, enc: 'lz', data: encodeBatch(items) };
    const to = holders(items);
    if (to.length) frame.to = to;
    if (!items[0].resend) frame.resend = false;
    try {
      if (this.opts.send(frame)) {
        this.#ids.set(id, room);
        this.sent++;
        for (const item of items) {
          item.sentAt = now;
          item.resend = true; // any later upload of it is a retry
        }
      }
    } catch {
      // Refused by the frame check (over the limit after all): the next tick retries in new chunks.
    }
  }
}

/** The peers that got every item over a DataChannel (at most 64, as the relay takes). */
function holders(items) {
  let to = items[0].to ?? [];
  for (const item of items) {
    if (to.length === 0) break;
    const has = new Set(item.to ?? []);
    to = to.filter((peer) => has.has(peer));
  }
  return to.slice(0, 64);
}
