package io.switchboard.relay.auth;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class JwksFetcherTest {
  @Test
  void cacheControlLifetimes() {
    assertThat(JwksFetcher.maxAgeMs("public, max-age=600")).isEqualTo(600_000);
    assertThat(JwksFetcher.maxAgeMs("Max-Age=5, public")).isEqualTo(5_000);
    assertThat(JwksFetcher.maxAgeMs("max-age=\"30\"")).isEqualTo(30_000);
    assertThat(JwksFetcher.maxAgeMs("public, s-maxage=900")).as("a shared cache's lifetime is not ours").isEqualTo(-1);
    assertThat(JwksFetcher.maxAgeMs("no-store")).isZero();
    assertThat(JwksFetcher.maxAgeMs("private, no-cache")).isZero();
    assertThat(JwksFetcher.maxAgeMs("max-age=abc")).isEqualTo(-1);
    assertThat(JwksFetcher.maxAgeMs("max-age=99999999999999999999")).isEqualTo(-1);
    assertThat(JwksFetcher.maxAgeMs("xmax-age=60")).isEqualTo(-1);
    assertThat(JwksFetcher.maxAgeMs(null)).isEqualTo(-1);
  }
}
