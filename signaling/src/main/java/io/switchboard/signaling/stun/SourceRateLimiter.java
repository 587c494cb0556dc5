package io.switchboard.signaling.stun;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A token bucket per source IP address, for the STUN service: a Binding answer is larger than the
 * request, so without a bound any host could aim the service at a victim by spoofing its address.
 * <p>
 * At most {@code maxSources} buckets are kept, least recently used evicted first, so memory is
 * bounded whatever the sources. Eviction hands an evicted source a fresh (full) bucket later, but
 * evicting one takes {@code maxSources} datagrams from other sources, which buys the evicted
 * source at most {@code burst} answers: the bound on reflected traffic per victim stays close to
 * {@code rate}. Not thread-safe: the STUN sockets share one event loop.
 */
final class SourceRateLimiter {

  /** Enough for every client behind a busy site's NATs; ~130 bytes each, so ~1.3 MB at most. */
  static final int DEFAULT_MAX_SOURCES = 10_000;

  private final double tokensPerNano;
  private final double burst;
  private final Map<InetAddress, Bucket> buckets;

  SourceRateLimiter(int ratePerSecond, int burst, int maxSources) {
    if (ratePerSecond < 1 || burst < 1 || maxSources < 1) {
      throw new IllegalArgumentException("rate, burst and maxSources must be positive");
    }
    this.tokensPerNano = ratePerSecond / 1e9;
    this.burst = burst;
    this.buckets = new LinkedHashMap<>(64, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<InetAddress, Bucket> eldest) {
        return size() > maxSources;
      }
    };
  }

  /** Takes one token from {@code source}'s bucket at {@code nowNanos}; false when it is empty. */
  boolean tryAcquire(InetAddress source, long nowNanos) {
    Bucket bucket = buckets.get(source);
    if (bucket == null) {
      bucket = new Bucket(burst, nowNanos);
      buckets.put(source, bucket);
    } else {
      bucket.tokens = Math.min(burst, bucket.tokens + Math.max(0, nowNanos - bucket.at) * tokensPerNano);
      bucket.at = nowNanos;
    }
    if (bucket.tokens < 1) {
      return false;
    }
    bucket.tokens -= 1;
    return true;
  }

  /** Sources with a bucket now (for tests of the bound). */
  int tracked() {
    return buckets.size();
  }

  private static final class Bucket {
    double tokens;
    long at;

    Bucket(double tokens, long at) {
      this.tokens = tokens;
      this.at = at;
    }
  }
}
