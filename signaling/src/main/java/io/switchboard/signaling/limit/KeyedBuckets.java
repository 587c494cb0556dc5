package io.switchboard.signaling.limit;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A token bucket per key (a client address, a STUN source), at most {@code maxKeys} of them: past
 * that the least recently used is forgotten, so a flood of keys costs bounded memory. A forgotten
 * key starts again with a full burst, which is what it would have after a quiet while anyway; to
 * get there an attacker must send from {@code maxKeys} other keys first. Confined to one thread.
 */
public final class KeyedBuckets<K> {
  private final double perSecond;
  private final int burst;
  private final Map<K, TokenBucket> buckets;

  public KeyedBuckets(double perSecond, int burst, int maxKeys) {
    if (perSecond <= 0 || burst < 1 || maxKeys < 1) {
      throw new IllegalArgumentException("rate must be > 0, burst and maxKeys >= 1");
    }
    this.perSecond = perSecond;
    this.burst = burst;
    this.buckets = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<K, TokenBucket> eldest) {
        return size() > maxKeys;
      }
    };
  }

  /** Takes one token from {@code key}'s bucket at {@code nowNanos}; false when it is empty. */
  public boolean tryAcquire(K key, long nowNanos) {
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

  /** Keys with a bucket now. */
  public int size() {
    return buckets.size();
  }
}
