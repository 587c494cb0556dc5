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
