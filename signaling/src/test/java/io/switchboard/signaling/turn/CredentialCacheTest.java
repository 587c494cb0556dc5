package io.switchboard.signaling.turn;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class CredentialCacheTest {
  private final AtomicLong nowSeconds = new AtomicLong(1_700_000_000L);
  private final Clock clock = new Clock() {
    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochSecond(nowSeconds.get());
    }
  };
  private final TurnCredentials issuer = new TurnCredentials(TurnCredentialsTest.SECRET, 3600, clock);

  @Test
  void aUserKeepsOneCredentialWhileHalfItsLifetimeIsLeft() {
    CredentialCache cache = new CredentialCache(issuer, clock, 10);
    assertThat(cache.fresh("alice")).isNull();
    TurnCredentials.Credential first = cache.issue("alice");
    assertThat(first.username()).isEqualTo("1700003600:alice");
    nowSeconds.addAndGet(1800);
    assertThat(cache.fresh("alice")).isEqualTo(first);
    nowSeconds.addAndGet(1);
    assertThat(cache.fresh("alice")).isNull();
    // Past half-life it may still stand in when no new one may be issued, until a minute before expiry.
    assertThat(cache.stillValid("alice")).isEqualTo(first);
    nowSeconds.set(1_700_003_600L - 59);
    assertThat(cache.stillValid("alice")).isNull();
    assertThat(cache.issue("alice").username()).isEqualTo((1_700_003_600L - 59 + 3600) + ":alice");
  }

  @Test
  void theCacheIsBounded() {
    CredentialCache cache = new CredentialCache(issuer, clock, 100);
    for (int i = 0; i < 10_000; i++) {
      cache.issue("u-" + i);
    }
    assertThat(cache.size()).isEqualTo(100);
    assertThat(cache.fresh("u-9999")).isNotNull();
    assertThat(cache.fresh("u-0")).isNull();
  }
}
