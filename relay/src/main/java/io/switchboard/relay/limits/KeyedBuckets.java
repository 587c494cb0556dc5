package io.switchboard.relay.limits;

import io.switchboard.relay.session.TokenBucket;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A token bucket per key (client address), at most {@code maxKeys} of them: past that the least
 * recently used is forgotten, so a flood of addresses costs bounded memory. A forgotten address
 * starts again with a full burst, which is what it would have after a quiet while anyway.
 * Confined to one thread (the relay's event loop).
 */
public final class KeyedBuckets {
  private final double perSecond;
  private final int burst;
  private final Map<String, TokenBucket> buckets;

  public KeyedBuckets(double perSecond, int burst, int maxKeys) {
    if (maxKeys < 1) {
      throw new IllegalArgumentException("maxKeys must be >= 1");
    }
    this.perSecond = perSecond;
    this.burst = burst;
    this.buckets = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, TokenBucket> eldest) {
        return size() > maxKeys;
      }
    };
  }

  public boolean tryAcquire(String key, long nowNanos) {
    TokenBucket bucket = buckets.get(key);
    if (bucket == null) {
      bucket = new TokenBucket(perSecond, burst, nowNanos);
      buckets.put(key, bucket);
    }
    return bucket.tryAcquire(nowNanos);
  }

  /** Whole seconds until a refused caller has a token again (at least 1), for {@code Retry-After}. */
  public long retryAfterSeconds() {
    return Math.max(1, (long) Math.ceil(1 / perSecond));
  }

  public int size() {
    return buckets.size();
  }
}
