// Which relay URL the next connect goes to: the app's list in order, staying on the one that works
// (its rooms are sequenced there; another relay would have to wait for their leases) and moving
// on past one that failed or sent us away, which is then skipped for a while.
import { SwitchboardError } from './errors.js';

/** How long a URL that failed or refused is skipped while another one is usable. */
export const DEFAULT_URL_COOLDOWN_MS = 30000;

export class UrlRotation {
  #index = 0;
  /** Per URL: epoch ms until which it is skipped (0: usable). */
  #skipUntil;

  /**
   * @param {string[]} urls at least one, in order of preference
   * @param {{cooldownMs?: number, now?: () => number}} [opts]
   */
  constructor(urls, { cooldownMs = DEFAULT_URL_COOLDOWN_MS, now = Date.now } = {}) {
    if (!Array.isArray(urls) || urls.length === 0 || urls.some((u) => typeof u !== 'string' || u === '')) {
      throw new SwitchboardError('bad_url', `expected a relay URL or a non-empty array of them, got ${JSON.stringify(urls)}`);
    }
    this.urls = [...urls];
    this.cooldownMs = cooldownMs;
    this.now = now;
    this.#skipUntil = new Array(urls.length).fill(0);
  }

  /** The URL the next connect goes to. */
  get current() {
    return this.urls[this.#index];
  }

  /**
   * The current URL failed (no welcome: refused, unreachable, timed out) or sent the client away
   * (close 1001/1012/1013): skip it for `cooldownMs` and move to the next URL in order that is not
   * skipped; when every one is, to the one whose wait ends first (backoff and breaker still pace
   * the attempts).
   */
  refused() {
    this.#skipUntil[this.#index] = this.now() + this.cooldownMs;
    const n = this.urls.length;
    const t = this.now();
    let soonest = -1;
    // in order after the current one (the current one last), so ties go round the list
    for (let k = 1; k <= n; k++) {
      const i = (this.#index + k) % n;
      if (this.#skipUntil[i] <= t) {
        this.#index = i;
        return;
      }
      if (soonest < 0 || this.#skipUntil[i] < this.#skipUntil[soonest]) soonest = i;
    }
    this.#index = soonest;
  }

  /**
   * The current relay cannot serve what the client needs (another live relay sequences one of its
   * rooms): move to the next URL, skipping this one, if another is usable now.
   * @returns {boolean} whether it moved
   */
  moveOn() {
    const t = this.now();
    if (!this.#skipUntil.some((until, i) => i !== this.#index && until <= t)) return false;
    this.refused();
    return true;
  }

  /** The current URL said welcome: it is usable again, and the client stays on it. */
  succeeded() {
    this.#skipUntil[this.#index] = 0;
  }
}
