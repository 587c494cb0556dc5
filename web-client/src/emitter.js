/**
 * A small event emitter. A throwing listener never breaks the SDK: its error is reported to the
 * host (reportError in browsers) and the other listeners still run.
 */
export class Emitter {
  #listeners = new Map();

  /**
   * @param {string} event
   * @param {(arg: any) => void} fn
   * @returns {() => void} unsubscribe
   */
  on(event, fn) {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(fn);
    return () => this.off(event, fn);
  }

  off(event, fn) {
    this.#listeners.get(event)?.delete(fn);
  }

  once(event, fn) {
    const off = this.on(event, (arg) => {
      off();
      fn(arg);
    });
    return off;
  }

  emit(event, arg) {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(arg);
      } catch (err) {
        report(err);
      }
    }
  }
}

function report(err) {
  if (typeof globalThis.reportError === 'function') globalThis.reportError(err);
  else console.error(err);
}
