package io.switchboard.relay.limits;

import io.switchboard.signaling.limit.KeyedBuckets;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.switchboard.protocol.ErrorCode;
import io.switchboard.relay.config.LimitsOptions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The limits with a hand-moved clock: no server, no sleeps. */
class AddressLimitsTest {
  private long now = 1_000_000_000L;
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private AddressLimits limits(LimitsOptions options) {
    return new AddressLimits(options, () -> now, registry);
  }

  @Test
  void connectionsPerAddressAreCountedUntilClosedAndOtherAddressesAreUnaffected() {
    AddressLimits l = limits(new LimitsOptions().setMaxConnectionsPerAddress(3).setHandshakeBurst(100));
    for (int i = 0; i < 3; i++) {
      assertThat(l.admitConnection("203.0.113.1")).isNull();
    }
    AddressLimits.Refusal refused = l.admitConnection("203.0.113.1");
    assertThat(refused.status()).isEqualTo(429);
    assertThat(refused.code()).isEqualTo(ErrorCode.RATE_LIMITED);
    assertThat(refused.retryAfterSeconds()).isPositive();
    assertThat(l.admitConnection("203.0.113.2")).isNull();
    l.connectionClosed("203.0.113.1");
    assertThat(l.admitConnection("203.0.113.1")).isNull();
    assertThat(l.connections("203.0.113.1")).isEqualTo(3);
    for (int i = 0; i < 3; i++) {
      l.connectionClosed("203.0.113.1");
    }
    assertThat(l.connections("203.0.113.1")).isZero();
    assertThat(registry.get("switchboard.limits.refused").tag("limit", "connections").counter().count()).isEqualTo(1);
  }

  @Test
  void handshakesPerAddressFollowTheirBucket() {
    AddressLimits l = limits(new LimitsOptions().setHandshakesPerAddressPerSecond(20).setHandshakeBurst(50));
    int admitted = 0;
    for (int i = 0; i < 80; i++) {
      if (l.admitConnection("198.51.100.1") == null) {
        admitted++;
        l.connectionClosed("198.51.100.1");
      }
    }
    assertThat(admitted).isEqualTo(50);
    now += TimeUnit.MILLISECONDS.toNanos(500); // 10 tokens back
    admitted = 0;
    for (int i = 0; i < 20; i++) {
      if (l.admitConnection("198.51.100.1") == null) {
        admitted++;
      }
    }
    assertThat(admitted).isEqualTo(10);
    assertThat(l.admitConnection("198.51.100.2")).isNull();
  }

  @Test
  void apiRequestsAndRoomLoadsPerAddress() {
    AddressLimits l = limits(new LimitsOptions().setHttpRequestsPerAddressPerSecond(50).setHttpBurst(100)
        .setRoomLoadsPerAddressPerSecond(20).setRoomLoadBurst(100));
    for (int i = 0; i < 100; i++) {
      assertThat(l.admitApiRequest("a")).isNull();
      assertThat(l.tryRoomLoad("a")).isTrue();
    }
    AddressLimits.Refusal refused = l.admitApiRequest("a");
    assertThat(refused.status()).isEqualTo(429);
    assertThat(refused.retryAfterSeconds()).isEqualTo(1);
    assertThat(l.tryRoomLoad("a")).isFalse();
    now += TimeUnit.MILLISECONDS.toNanos(100); // 5 requests, 2 room loads
    assertThat(l.admitApiRequest("a")).isNull();
    assertThat(l.tryRoomLoad("a")).isTrue();
    assertThat(l.tryRoomLoad("a")).isTrue();
    assertThat(l.tryRoomLoad("a")).isFalse();
  }

  @Test
  void concurrentHistoryReadsHaveAGlobalCapAndAShortQueue() {
    AddressLimits l = limits(new LimitsOptions().setMaxConcurrentHistoryReads(2));
    java.util.List<Integer> ran = new java.util.ArrayList<>();
    int total = 2 + AddressLimits.HISTORY_READS_WAITING;
    for (int i = 0; i < total; i++) {
      int read = i;
      assertThat(l.startHistoryRead(() -> ran.add(read))).isNull();
    }
    assertThat(ran).containsExactly(0, 1);
    AddressLimits.Refusal busy = l.startHistoryRead(() -> ran.add(-1));
    assertThat(busy.status()).isEqualTo(503);
    assertThat(busy.code()).isEqualTo(ErrorCode.OVERLOADED);
    l.historyReadDone();
    assertThat(ran).as("a finished read hands its slot to the oldest waiting one").containsExactly(0, 1, 2);
    for (int i = 3; i < total; i++) {
      l.historyReadDone();
    }
    assertThat(ran).hasSize(total).doesNotContain(-1);
    l.historyReadDone();
    l.historyReadDone();
    assertThat(l.startHistoryRead(() -> ran.add(99))).isNull();
    assertThat(ran).endsWith(99);
  }

  @Test
  void aFloodOfAddressesKeepsBoundedState() {
    AddressLimits l = limits(new LimitsOptions().setMaxTrackedAddresses(1000));
    for (int i = 0; i < 50_000; i++) {
      String key = "2001:db8:" + Integer.toHexString(i) + "::/64";
      if (l.admitConnection(key) == null) {
        l.connectionClosed(key);
      }
      l.admitApiRequest(key);
      l.tryRoomLoad(key);
    }
    assertThat(l.trackedAddresses()).isEqualTo(1000);
    assertThat(l.connections("2001:db8:0::/64")).isZero();
  }

  @Test
  void theLeastRecentlyUsedAddressIsForgottenFirst() {
    KeyedBuckets<String> b = new KeyedBuckets<>(1, 1, 2);
    assertThat(b.tryAcquire("hot", 0)).isTrue();
    assertThat(b.tryAcquire("x", 0)).isTrue();
    assertThat(b.tryAcquire("hot", 0)).isFalse(); // touched: now the most recent
    assertThat(b.tryAcquire("y", 0)).isTrue();    // evicts "x", not "hot"
    assertThat(b.tryAcquire("hot", 0)).isFalse();
    assertThat(b.size()).isEqualTo(2);
  }

  @Test
  void failedAdminAttemptsLockTheAddressOutUntilItsBucketWouldHaveRefilled() {
    AddressLimits l = limits(new LimitsOptions().setHttpRequestsPerAddressPerSecond(1).setHttpBurst(3)
        .setMaxTrackedAddresses(2));
    String a = "203.0.113.9";
    for (int i = 0; i < 3; i++) {
      assertThat(l.admitAdminAttempt(a)).isNull();
      assertThat(l.adminAttemptFailed(a)).isNull();
    }
    assertThat(l.admitAdminAttempt(a)).as("not locked before the bucket ran dry").isNull();
    AddressLimits.Refusal refused = l.adminAttemptFailed(a);
    assertThat(refused.status()).isEqualTo(429);
    assertThat(refused.code()).isEqualTo(ErrorCode.RATE_LIMITED);
    // locked: refused before any verification, for the bucket's retry-after
    AddressLimits.Refusal locked = l.admitAdminAttempt(a);
    assertThat(locked.status()).isEqualTo(429);
    assertThat(locked.retryAfterSeconds()).isBetween(1L, refused.retryAfterSeconds());
    assertThat(l.admitAdminAttempt("203.0.113.10")).as("other addresses").isNull();
    now += TimeUnit.SECONDS.toNanos(refused.retryAfterSeconds()) - 1;
    assertThat(l.admitAdminAttempt(a)).isNotNull();
    now += 1;
    assertThat(l.admitAdminAttempt(a)).isNull();
    // the API bucket refilled meanwhile: the next failure is a plain 401 again
    assertThat(l.adminAttemptFailed(a)).isNull();
    // the failure that emptied the bucket counts as the API rate, each request refused while locked as admin_auth
    assertThat(registry.get("switchboard.limits.refused").tag("limit", "http_rate").counter().count()).isEqualTo(1);
    assertThat(registry.get("switchboard.limits.refused").tag("limit", "admin_auth").counter().count()).isEqualTo(2);
  }

  @Test
  void lockedOutAddressesAreBoundedLeastRecentlySeenForgottenFirst() {
    AddressLimits l = limits(new LimitsOptions().setHttpRequestsPerAddressPerSecond(1).setHttpBurst(1)
        .setMaxTrackedAddresses(2));
    for (String a : new String[] {"203.0.113.1", "203.0.113.2", "203.0.113.3"}) {
      l.adminAttemptFailed(a);
      assertThat(l.adminAttemptFailed(a)).isNotNull();
    }
    assertThat(l.admitAdminAttempt("203.0.113.1")).as("forgotten").isNull();
    assertThat(l.admitAdminAttempt("203.0.113.3")).isNotNull();
  }

  @Test
  void connectionCountsStayExactWhenEveryShardLoopAdmitsAndClosesAtOnce() throws Exception {
    // the public server listens on every shard's loop: these calls come from several threads
    AddressLimits l = new AddressLimits(new LimitsOptions().setMaxConnectionsPerAddress(1_000_000)
        .setHandshakesPerAddressPerSecond(1_000_000).setHandshakeBurst(1_000_000), System::nanoTime, registry);
    int threads = 4;
    int rounds = 20_000;
    java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
    try {
      java.util.List<java.util.concurrent.Future<Integer>> refusals = new java.util.ArrayList<>();
      for (int t = 0; t < threads; t++) {
        refusals.add(pool.submit(() -> {
          start.await();
          int refused = 0;
          for (int i = 0; i < rounds; i++) {
            String key = "198.51.100." + (i % 8);
            if (l.admitConnection(key) != null) {
              refused++;
            } else if (i % 2 == 0) {
              l.connectionClosed(key);
            }
          }
          return refused;
        }));
      }
      start.countDown();
      for (java.util.concurrent.Future<Integer> f : refusals) {
        assertThat(f.get(30, java.util.concurrent.TimeUnit.SECONDS)).isZero();
      }
    } finally {
      pool.shutdownNow();
    }
    int open = 0;
    for (int k = 0; k < 8; k++) {
      open += l.connections("198.51.100." + k);
    }
    assertThat(open).as("every admitted connection not closed is counted, once").isEqualTo(threads * rounds / 2);
  }
}
