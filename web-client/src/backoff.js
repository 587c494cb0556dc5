// Reconnect policy as pure functions and a breaker with an injected clock, so tests move time.

/** @typedef {{baseMs: number, maxMs: number, factor: number, jitter: number}} BackoffOptions */

/** @type {BackoffOptions} */
export const DEFAULT_BACKOFF = Object.freeze({ baseMs: 500, maxMs: 30000, factor: 2, jitter: 0.5 });

/**
 * Delay before reconnect attempt `attempt` (0 = the first retry after a drop):
 * min(maxMs, baseMs·factor^attempt), then scaled by a random factor in [1 − jitter, 1] so a
 * server restart does not get every client back in the same millisecond.
 * @param {number} attempt
 * @param {Partial<BackoffOptions>} [opts]
 * @param {() => number} [random] in [0, 1)
 */
export function nextRetryDelay(attempt, opts = {}, random = Math.random) {
  const { baseMs, maxMs, factor, jitter } = { ...DEFAULT_BACKOFF, ...opts };
  const raw = Math.min(maxMs, baseMs * factor ** Math.max(0, attempt));
  return Math.round(raw * (1 - jitter * random()));
}

/** @typedef {{failures: number, openMs: number}} BreakerOptions */
export const DEFAULT_BREAKER = Object.freeze({ failures: 6, openMs: 60000 });

/**
 * Closed → (N consecutive failures) → open → (openMs later) half-open: one probe → closed on
 * success, open again on failure.
 */
export class CircuitBreaker {
  #failures = 0;
  #openedAt = 0;
  /** @type {'closed'|'open'|'half-open'} */
  #state = 'closed';

  /**
   * @param {Partial<BreakerOptions>} [opts]
   * @param {() => number} [now]
   */
  constructor(opts = {}, now = Date.now) {
    this.opts = { ...DEFAULT_BREAKER, ...opts };
    this.now = now;
  }

  get state() {
    if (this.#state === 'open' && this.now() - this.#openedAt >= this.opts.openMs) this.#state = 'half-open';
    return this.#state;
  }

  get failures() {
    return this.#failures;
  }

  /** Whether an attempt may be made now (closed, or the half-open probe). */
  canAttempt() {
    return this.state !== 'open';
  }

  /** Milliseconds until the breaker lets a probe through (0 unless open). */
  remainingOpenMs() {
    return this.state === 'open' ? this.opts.openMs - (this.now() - this.#openedAt) : 0;
  }

  recordSuccess() {
    this.#failures = 0;
    this.#state = 'closed';
  }

  /** @returns {boolean} true when this failure opened the breaker */
  recordFailure() {
    this.#failures++;
    const state = this.state;
    if (state === 'open') return false;
    if (state === 'half-open' || this.#failures >= this.opts.failures) {
      this.#state = 'open';
      this.#openedAt = this.now();
      return true;
    }
    return false;
  }

  reset() {
    this.recordSuccess();
  }
}
