// Time behind one object so tests can drive it (see test/unit/helpers.js) instead of sleeping.

/** @typedef {{now(): number, setTimeout(fn: () => void, ms: number): any, clearTimeout(h: any): void, setInterval(fn: () => void, ms: number): any, clearInterval(h: any): void}} Clock */

/** @type {Clock} */
export const systemClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h),
  setInterval: (fn, ms) => globalThis.setInterval(fn, ms),
  clearInterval: (h) => globalThis.clearInterval(h),
};

/** How many recent ping round trips the server-clock estimate chooses from. */
const CLOCK_SAMPLES = 8;

/**
 * The server's clock as seen from here: each `ping`/`pong` round trip gives the server's time at
 * about its midpoint; the sample with the shortest round trip of the last few is the least wrong
 * (queueing only ever delays). Message send times (`send.ts`, batch items, peer frames) use it, so
 * two users' clocks need not agree for their messages' times to.
 */
export class ServerClock {
  /** @type {{rttMs: number, offsetMs: number}[]} */
  #samples = [];
  /** ms to add to the local clock; 0 until a pong came. */
  offsetMs = 0;

  /** @param {Clock} clock */
  constructor(clock) {
    this.clock = clock;
  }

  /** A pong: the ping left at `sentAt` (local), came back now, stamped `serverTs` by the server. */
  sample(sentAt, serverTs) {
    const now = this.clock.now();
    const rttMs = now - sentAt;
    if (!(rttMs >= 0) || !Number.isFinite(serverTs)) return;
    this.#samples.push({ rttMs, offsetMs: serverTs + rttMs / 2 - now });
    if (this.#samples.length > CLOCK_SAMPLES) this.#samples.shift();
    const best = this.#samples.reduce((a, b) => (b.rttMs < a.rttMs ? b : a));
    this.offsetMs = Math.round(best.offsetMs);
  }

  /** Epoch ms on the server's clock, as well as this client can tell. */
  now() {
    return this.clock.now() + this.offsetMs;
  }
}
