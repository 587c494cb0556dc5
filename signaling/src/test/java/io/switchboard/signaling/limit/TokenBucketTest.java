package io.switchboard.signaling.limit;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TokenBucketTest {
  private static final long SECOND = 1_000_000_000L;

  @Test
  void allowsTheBurstThenTheRate() {
    TokenBucket bucket = new TokenBucket(10, 5, 0);
    for (int i = 0; i < 5; i++) {
      assertThat(bucket.tryAcquire(0)).isTrue();
    }
    assertThat(bucket.tryAcquire(0)).isFalse();
    assertThat(bucket.tryAcquire(SECOND / 10)).isTrue();
    assertThat(bucket.tryAcquire(SECOND / 10)).isFalse();
  }

  @Test
  void refillStopsAtTheBurst() {
    TokenBucket bucket = new TokenBucket(10, 3, 0);
    int granted = 0;
    for (int i = 0; i < 10; i++) {
      granted += bucket.tryAcquire(100 * SECOND) ? 1 : 0;
    }
    assertThat(granted).isEqualTo(3);
  }

  @Test
  void manyTokensAreTakenAllOrNone() {
    TokenBucket bucket = new TokenBucket(10, 10, 0);
    assertThat(bucket.tryAcquire(0, 8)).isTrue();
    assertThat(bucket.tryAcquire(0, 3)).as("2 left: none taken").isFalse();
    assertThat(bucket.tryAcquire(0, 2)).isTrue();
    assertThat(bucket.tryAcquire(SECOND / 2, 6)).as("5 refilled").isFalse();
    assertThat(bucket.tryAcquire(SECOND / 2, 5)).isTrue();
  }
}
