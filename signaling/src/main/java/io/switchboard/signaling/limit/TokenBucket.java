package io.switchboard.signaling.limit;

/** A rate limit (per connection, per signal stream, or one of {@link KeyedBuckets}). Time comes from the caller (nanoseconds), so tests move it by hand. */
public final class TokenBucket {
  private final double ratePerNano;
  private final double burst;
  private double tokens;
  private long lastNanos;

  public TokenBucket(double perSecond, int burst, long nowNanos) {
    if (perSecond <= 0 || burst < 1) {
      throw new IllegalArgumentException("rate must be > 0 and burst >= 1");
    }
    this.ratePerNano = perSecond / 1e9;
    this.burst = burst;
    this.tokens = burst;
    this.lastNanos = nowNanos;
  }

  public boolean tryAcquire(long nowNanos) {
    return tryAcquire(nowNanos, 1);
  }

  /** Takes {@code count} tokens, or none when fewer are there. */
  public boolean tryAcquire(long nowNanos, int count) {
    long elapsed = nowNanos - lastNanos;
    if (elapsed > 0) {
      tokens = Math.min(burst, tokens + elapsed * ratePerNano);
      lastNanos = nowNanos;
    }
    if (tokens >= count) {
      tokens -= count;
      return true;
    }
    return false;
  }
}
