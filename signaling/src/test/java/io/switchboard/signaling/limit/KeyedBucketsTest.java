package io.switchboard.signaling.limit;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Token buckets per key (here STUN sources), on a clock the test moves. */
class KeyedBucketsTest {

  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
  private static final InetAddress A = address(192, 0, 2, 1);
  private static final InetAddress B = address(192, 0, 2, 2);

  @Test
  void aBurstThenTheRate() {
    KeyedBuckets<InetAddress> limiter = new KeyedBuckets<>(20, 40, 100);
    long now = 1_000 * MS;

    assertThat(acquired(limiter, A, 100, now)).isEqualTo(40);
    assertThat(acquired(limiter, A, 100, now + 500 * MS)).as("half a second at 20/s").isEqualTo(10);
    assertThat(acquired(limiter, A, 1, now + 549 * MS)).isZero();
    assertThat(acquired(limiter, A, 1, now + 550 * MS)).isEqualTo(1);
    // a long pause refills only up to the burst
    assertThat(acquired(limiter, A, 100, now + 3_600_000 * MS)).isEqualTo(40);
  }

  @Test
  void sourcesHaveTheirOwnBuckets() {
    KeyedBuckets<InetAddress> limiter = new KeyedBuckets<>(1, 2, 100);

    assertThat(acquired(limiter, A, 10, 0)).isEqualTo(2);
    assertThat(acquired(limiter, B, 10, 0)).isEqualTo(2);
  }

  /** A million spoofed sources hold at most maxKeys buckets; the least recently seen go first. */
  @Test
  void trackedSourcesAreBounded() {
    KeyedBuckets<InetAddress> limiter = new KeyedBuckets<>(1, 1, 1_000);
    for (int i = 0; i < 1_000_000; i++) {
      limiter.tryAcquire(address(10, i >> 16, i >> 8, i), 0);
    }
    assertThat(limiter.size()).isEqualTo(1_000);

    limiter.tryAcquire(A, 0);
    assertThat(limiter.tryAcquire(A, 0)).as("A's bucket is kept while it is recent").isFalse();
    for (int i = 0; i < 999; i++) {
      limiter.tryAcquire(address(10, 200, i >> 8, i), 0);
    }
    assertThat(limiter.tryAcquire(A, 0)).as("still within the last 1,000 sources seen").isFalse();
    assertThat(limiter.size()).isEqualTo(1_000);
  }

  @Test
  void aClockGoingBackDoesNotTakeTokens() {
    KeyedBuckets<InetAddress> limiter = new KeyedBuckets<>(1, 2, 10);
    limiter.tryAcquire(A, 10_000 * MS);

    assertThat(acquired(limiter, A, 5, 0)).isEqualTo(1);
  }

  @Test
  void settingsMustBePositive() {
    assertThatThrownBy(() -> new KeyedBuckets<InetAddress>(0, 1, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new KeyedBuckets<InetAddress>(1, 0, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new KeyedBuckets<InetAddress>(1, 1, 0)).isInstanceOf(IllegalArgumentException.class);
  }

  private static int acquired(KeyedBuckets<InetAddress> limiter, InetAddress source, int tries, long now) {
    int ok = 0;
    for (int i = 0; i < tries; i++) {
      if (limiter.tryAcquire(source, now)) {
        ok++;
      }
    }
    return ok;
  }

  private static InetAddress address(int a, int b, int c, int d) {
    try {
      return InetAddress.getByAddress(new byte[] {(byte) a, (byte) b, (byte) c, (byte) d});
    } catch (java.net.UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }
}
