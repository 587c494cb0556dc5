package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.relay.auth.JwksServer;
import io.switchboard.relay.auth.TokenMinter;
import io.switchboard.relay.config.AuthOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Guests kept on beside JWTs ({@code auth.guests=true}), their tokens' expiry with a moved clock,
 * and a JWKS endpoint that is down when the relay starts.
 */
class GuestAuthTest extends RelayTestBase {
  private static final long TTL_SECONDS = 3600;
  private static final long REFETCH_MS = 10_000;
  private static JwksServer jwks;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    jwks = JwksServer.start(vertx);
    jwks.failing(true);
    startRelay(baseOptions().setAuth(new AuthOptions().setJwksUrl(jwks.url()).setGuests(true)
        .setGuestTokenTtlSeconds(TTL_SECONDS).setJwksRefetchIntervalMs(REFETCH_MS)));
  }

  @AfterAll
  static void stopJwks() {
    stopRelay();
    jwks.close();
  }

  @BeforeEach
  void realTime() {
    clockOffsetMs.set(0);
  }

  @Test
  void guestsGetExpiringTokensAndAFreshOneOnEveryWelcome() {
    TestClient first = client();
    JsonObject welcome = first.hello();
    assertThat(welcome.getString("user")).startsWith("u-");
    long expiresAt = welcome.getLong("expiresAt");
    assertThat(expiresAt - relayNowMs()).isBetween(TTL_SECONDS * 1000 - 5_000, TTL_SECONDS * 1000);
    String token = welcome.getString("token");

    clockOffsetMs.addAndGet(TTL_SECONDS * 1000 - 60_000);
    JsonObject back = client().hello(token, null);
    assertThat(back.getString("user")).isEqualTo(welcome.getString("user"));
    assertThat(back.getString("token")).isNotEqualTo(token);
    assertThat(back.getLong("expiresAt")).isGreaterThan(expiresAt);

    // the first token is past its TTL now; the fresh one still carries the guest
    clockOffsetMs.addAndGet(120_000);
    TestClient stale = client();
    JsonObject refused = stale.request(new JsonObject().put("t", "hello").put("token", token));
    assertThat(refused.getString("code")).isEqualTo("unauthorized");
    assertThat(stale.awaitClose()).isTrue();
    assertThat(stale.closeCode()).isEqualTo((short) 1008);
    assertThat(client().hello(back.getString("token"), null).getString("user")).isEqualTo(welcome.getString("user"));
  }

  @Test
  void aGuestRefreshesWithAuthAndExpiresWithout() {
    TestClient c = client();
    JsonObject welcome = c.hello();
    clockOffsetMs.addAndGet(60_000);
    JsonObject authed = c.request(new JsonObject().put("t", "auth").put("token", welcome.getString("token")));
    assertThat(authed.getString("t")).as("%s", authed).isEqualTo("authed");
    assertThat(authed.getString("user")).isEqualTo(welcome.getString("user"));
    assertThat(authed.getString("token")).startsWith("g1.").isNotEqualTo(welcome.getString("token"));
    assertThat(authed.getLong("expiresAt")).isGreaterThan(welcome.getLong("expiresAt"));
    clockOffsetMs.addAndGet(TTL_SECONDS * 1000);
    assertThat(c.await(f -> "error".equals(f.getString("t"))).getString("code")).isEqualTo("token_expired");
  }

  @Test
  void anUnreachableJwksIsAuthUnavailableAndCloses1013UntilItIsBack() {
    String token = jwks.key("ES256").mint(TokenMinter.userClaims("jwt-user", relayNowMs()));
    TestClient c = client();
    JsonObject reply = c.request(new JsonObject().put("t", "hello").put("token", token));
    assertThat(reply.getString("code")).isEqualTo("auth_unavailable");
    assertThat(c.awaitClose()).isTrue();
    assertThat(c.closeCode()).isEqualTo((short) 1013);
    // guests are unaffected, and an auth that cannot be checked now leaves the connection as it is
    TestClient guest = client();
    assertThat(guest.hello().getString("user")).startsWith("u-");
    JsonObject unchecked = guest.request(new JsonObject().put("t", "auth").put("token", token));
    assertThat(unchecked.getString("code")).isEqualTo("auth_unavailable");
    assertThat(guest.request(new JsonObject().put("t", "ping")).getString("t")).isEqualTo("pong");
    assertThat(guest.isClosed()).isFalse();
    jwks.failing(false);
    clockOffsetMs.addAndGet(REFETCH_MS);
    String later = jwks.key("ES256").mint(TokenMinter.userClaims("jwt-user", relayNowMs()));
    assertThat(client().hello(later, null).getString("user")).isEqualTo("jwt-user");
  }
}
