import { describe, expect, it } from 'vitest';
import { CircuitBreaker, nextRetryDelay } from '../../src/backoff.js';

describe('nextRetryDelay', () => {
  const noJitter = { jitter: 0 };

  it('grows by the factor from the base', () => {
    expect([0, 1, 2, 3, 4].map((a) => nextRetryDelay(a, noJitter))).toEqual([500, 1000, 2000, 4000, 8000]);
    expect(nextRetryDelay(2, { baseMs: 100, factor: 3, jitter: 0 })).toBe(900);
  });

  it('is capped at maxMs', () => {
    expect(nextRetryDelay(10, noJitter)).toBe(30000);
    expect(nextRetryDelay(1000, noJitter)).toBe(30000);
    expect(nextRetryDelay(5, { maxMs: 5000, jitter: 0 })).toBe(5000);
  });

  it('jitters down by at most the jitter fraction', () => {
    expect(nextRetryDelay(3, {}, () => 0)).toBe(4000);
    expect(nextRetryDelay(3, {}, () => 0.999999)).toBe(2000);
    for (let i = 0; i < 200; i++) {
      const d = nextRetryDelay(3, { jitter: 0.5 });
      expect(d).toBeGreaterThanOrEqual(2000);
      expect(d).toBeLessThanOrEqual(4000);
    }
  });
});

describe('CircuitBreaker', () => {
  const make = () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failures: 3, openMs: 1000 }, () => now);
    return { breaker, advance: (ms) => (now += ms) };
  };

  it('opens after N consecutive failures, not before', () => {
    const { breaker } = make();
    expect(breaker.recordFailure()).toBe(false);
    expect(breaker.recordFailure()).toBe(false);
    expect(breaker.canAttempt()).toBe(true);
    expect(breaker.recordFailure()).toBe(true);
    expect(breaker.state).toBe('open');
    expect(breaker.canAttempt()).toBe(false);
  });

  it('a success in between resets the count', () => {
    const { breaker } = make();
    breaker.recordFailure();
    breaker.recordFailure();
    breaker.recordSuccess();
    breaker.recordFailure();
    breaker.recordFailure();
    expect(breaker.state).toBe('closed');
  });

  it('lets one probe through after openMs (half-open); a failed probe reopens it', () => {
    const { breaker, advance } = make();
    for (let i = 0; i < 3; i++) breaker.recordFailure();
    advance(999);
    expect(breaker.state).toBe('open');
    expect(breaker.remainingOpenMs()).toBe(1);
    advance(1);
    expect(breaker.state).toBe('half-open');
    expect(breaker.canAttempt()).toBe(true);
    expect(breaker.recordFailure()).toBe(true);
    expect(breaker.state).toBe('open');
    expect(breaker.remainingOpenMs()).toBe(1000);
  });

  it('a successful probe closes it', () => {
    const { breaker, advance } = make();
    for (let i = 0; i < 3; i++) breaker.recordFailure();
    advance(1000);
    breaker.recordSuccess();
    expect(breaker.state).toBe('closed');
    expect(breaker.failures).toBe(0);
    expect(breaker.recordFailure()).toBe(false);
  });
});
