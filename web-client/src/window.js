// SmartMessageWindow: the only place message objects of a room stay in JS memory (≤ size). The
// list UI renders `items`; scrolling calls loadOlder/loadNewer, which page in from a loader
// (cache, then server) and release whatever falls out of the other end.
import { Emitter } from './emitter.js';

export const WINDOW_SIZE = 50;

/**
 * @typedef {{seq: number|null, cid: string, from: string, body: string, ts: number}} WindowMessage
 * @typedef {{messages: WindowMessage[], hasMore: boolean}} Page
 * @typedef {{
 *   older(beforeSeq: number|undefined, limit: number): Promise<Page>,
 *   newer(afterSeq: number, limit: number): Promise<Page>,
 *   latest(limit: number): Promise<Page>,
 * }} WindowLoader
 */

export const messageKey = (m) => `${m.from}\u0000${m.cid}`;

/**
 * Seq'd messages by seq; then those without one (own pending, P2P not yet uploaded) as they came
 * (the sort is stable and new ones are appended). Not by `ts`: that is each sender's clock, and a
 * message placed by it could land above one already on screen.
 */
export function compareMessages(a, b) {
  if (a.seq != null && b.seq != null) return a.seq - b.seq;
  if (a.seq != null) return -1;
  if (b.seq != null) return 1;
  return 0;
}

export class SmartMessageWindow extends Emitter {
  /** @type {Map<string, WindowMessage>} */
  #byKey = new Map();
  /** @type {WindowMessage[]} */
  #items = [];
  #loading = null;

  /**
   * @param {WindowLoader} loader
   * @param {{size?: number, pageSize?: number}} [opts]
   */
  constructor(loader, { size = WINDOW_SIZE, pageSize = Math.ceil(size / 2) } = {}) {
    super();
    this.loader = loader;
    this.size = size;
    this.pageSize = pageSize;
    /** Whether older messages exist beyond the slice (in cache or on the server). */
    this.hasOlder = false;
    /** Whether the slice is scrolled away from the newest messages. */
    this.hasNewer = false;
  }

  /** The current slice, ordered (a copy: safe to keep while the window moves). */
  get items() {
    return this.#items.slice();
  }

  get #maxSeq() {
    for (let i = this.#items.length - 1; i >= 0; i--) if (this.#items[i].seq != null) return this.#items[i].seq;
    return undefined;
  }

  get #minSeq() {
    return this.#items.find((m) => m.seq != null)?.seq;
  }

  /**
   * A live message, or a change to one (seq learned, status). Away from the newest end, newer
   * messages are not pulled into memory; `hasNewer` tells the UI there is more below.
   * @returns {boolean} whether the slice changed
   */
  upsert(m) {
    const key = messageKey(m);
    const held = this.#byKey.get(key);
    if (!held && this.hasNewer) {
      const max = this.#maxSeq;
      if (m.seq == null || max === undefined || m.seq > max) return false;
    }
    if (held && held !== m) Object.assign(held, m);
    else if (!held) {
      this.#byKey.set(key, m);
      this.#items.push(m);
    }
    this.#items.sort(compareMessages);
    this.#trim('oldest');
    this.#changed();
    return true;
  }

  /** Own messages written before the user was known got their `from` since: key them anew. */
  rekey() {
    this.#byKey = new Map(this.#items.map((m) => [messageKey(m), m]));
  }

  /** Takes messages out of the slice (they turned out not to exist). @returns {boolean} whether it changed */
  remove(messages) {
    const keys = new Set(messages.map(messageKey));
    const before = this.#items.length;
    this.#items = this.#items.filter((m) => !keys.has(messageKey(m)));
    for (const key of keys) this.#byKey.delete(key);
    if (this.#items.length === before) return false;
    this.#changed();
    return true;
  }

  /** Replaces the slice (a room opening: the cache's last page). */
  reset(messages, { hasOlder = false, hasNewer = false } = {}) {
    this.#byKey.clear();
    this.#items = [];
    for (const m of messages) this.#add(m);
    this.#items.sort(compareMessages);
    this.hasOlder = hasOlder;
    this.hasNewer = hasNewer;
    this.#trim('oldest');
    this.#changed();
  }

  /** Pages older messages in and releases the newest beyond the bound. @returns {Promise<number>} how many came in */
  loadOlder() {
    if (!this.hasOlder) return Promise.resolve(0);
    return this.#once(async () => {
      const page = await this.loader.older(this.#minSeq, this.pageSize);
      const added = page.messages.filter((m) => this.#add(m)).length;
      this.hasOlder = page.hasMore;
      this.#items.sort(compareMessages);
      this.#trim('newest');
      this.#changed();
      return added;
    });
  }

  /** Pages newer messages in and releases the oldest beyond the bound. @returns {Promise<number>} */
  loadNewer() {
    if (!this.hasNewer) return Promise.resolve(0);
    return this.#once(async () => {
      const page = await this.loader.newer(this.#maxSeq ?? 0, this.pageSize);
      const added = page.messages.filter((m) => this.#add(m)).length;
      this.hasNewer = page.hasMore;
      this.#items.sort(compareMessages);
      this.#trim('oldest');
      this.#changed();
      return added;
    });
  }

  /** Back to the newest messages (e.g. the app sent one while scrolled up). */
  jumpToLatest() {
    if (!this.hasNewer) return Promise.resolve();
    return this.#once(async () => {
      const page = await this.loader.latest(this.size);
      const unsequenced = this.#items.filter((m) => m.seq == null);
      this.reset([...page.messages, ...unsequenced], { hasOlder: page.hasMore });
    });
  }

  #add(m) {
    const key = messageKey(m);
    if (this.#byKey.has(key)) return false;
    this.#byKey.set(key, m);
    this.#items.push(m);
    return true;
  }

  #trim(end) {
    while (this.#items.length > this.size) {
      const dropped = end === 'oldest' ? this.#items.shift() : this.#items.pop();
      this.#byKey.delete(messageKey(dropped));
      if (end === 'oldest') this.hasOlder = true;
      else this.hasNewer = true;
    }
  }

  #once(load) {
    this.#loading ??= load().finally(() => {
      this.#loading = null;
    });
    return this.#loading;
  }

  #changed() {
    this.emit('change', { items: this.items, hasOlder: this.hasOlder, hasNewer: this.hasNewer });
  }
}
