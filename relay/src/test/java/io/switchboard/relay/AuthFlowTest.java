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
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * JWT users and guests over real sockets: one relay with a JWKS served on loopback (down when the
 * relay starts), the HS256 secret and guests kept on beside them ({@code auth.guests=true}), its
 * wall clock moved instead of sleeping. (Guests off with JWT settings: CompositeAuthenticatorTest;
 * the socket closes the same way for every refused token.)
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AuthFlowTest extends RelayTestBase {
  private static final String ISSUER = "https://project.supabase.co/auth/v1";
  private static final String SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";
  private static final String GUEST_SECRET = "relay-guest-secret-0123456789";
  private static final long GRACE_MS = 5_000;
  private static final long TTL_SECONDS = 3600;
  private static final long REFETCH_MS = 10_000;
  private static JwksServer jwks;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    jwks = JwksServer.start(vertx);
    jwks.failing(true);
    startRelay(baseOptions().setSecret(GUEST_SECRET).setAuth(new AuthOptions().setJwksUrl(jwks.url())
        .setJwtSecret(SECRET).setIssuer(ISSUER).setExpiryGraceMs(GRACE_MS).setGuests(true)
        .setGuestTokenTtlSeconds(TTL_SECONDS).setJwksRefetchIntervalMs(REFETCH_MS)));
  }

  @AfterAll
  static void stopJwks() {
    stopRelay();
    jwks.close();
  }

  /** Whether the relay has fetched the JWKS since it came back (every test but the first needs it). */
  private static boolean jwksUp;

  @BeforeEach
  void realTimeAndKeys(TestInfo test) {
    clockOffsetMs.set(0);
    if (!jwksUp && !test.getTestMethod().orElseThrow().isAnnotationPresent(Order.class)) {
      // this test runs alone, without the first one that brings the JWKS back
      jwks.failing(false);
      clockOffsetMs.set(REFETCH_MS);
      assertThat(client().hello(es256(claims("warm-up", 600)), null).getString("user")).isEqualTo("warm-up");
      clockOffsetMs.set(0);
      jwksUp = true;
    }
  }

  private static JsonObject claims(String sub, long expiresInSeconds) {
    long now = relayNowMs() / 1000;
    return new JsonObject().put("sub", sub).put("aud", "authenticated").put("role", "authenticated").put("iss", ISSUER)
        .put("iat", now).put("exp", now + expiresInSeconds);
  }

  private static String es256(JsonObject claims) {
    return jwks.key("ES256").mint(claims);
  }

  private JsonObject helloFrame(String token) {
    JsonObject hello = new JsonObject().put("t", "hello").put("id", 1);
    return token == null ? hello : hello.put("token", token);
  }

  /** A client that said hello with this token and got its welcome. */
  private TestClient user(String token) {
    TestClient c = client();
    c.hello(token, null);
    return c;
  }

  private void refusedAndClosed(String token, String why) {
    TestClient c = client();
    JsonObject reply = c.request(helloFrame(token));
    assertThat(reply.getString("t")).as(why + ": %s", reply).isEqualTo("error");
    assertThat(reply.getString("code")).as(why).isEqualTo("unauthorized");
    assertThat(c.awaitClose()).as(why).isTrue();
    assertThat(c.closeCode()).as(why).isEqualTo((short) 1008);
  }

  @Test
  void helloWithAJwtWelcomesItsUserWithNameAndExpiry() {
    JsonObject c = claims("5f0c-ada", 3600).put("user_metadata", new JsonObject().put("name", " Ada Lovelace "));
    String token = es256(c);
    JsonObject welcome = client().hello(token, null);
    assertThat(welcome.getString("user")).isEqualTo("5f0c-ada");
    assertThat(welcome.getString("name")).isEqualTo("Ada Lovelace");
    assertThat(welcome.getLong("expiresAt")).isEqualTo(c.getLong("exp") * 1000);
    assertThat(welcome.getString("token")).isEqualTo(token);
    JsonObject rs = client().hello(jwks.key("RS256").mint(claims("rs-user", 60).put("email", "grace@example.com")), null);
    assertThat(rs.getString("user")).isEqualTo("rs-user");
    assertThat(rs.getString("name")).isEqualTo("grace");
    JsonObject hs = client().hello(TokenMinter.hs256(SECRET).mint(claims("hs-user", 60)), null);
    assertThat(hs.getString("user")).isEqualTo("hs-user");
    assertThat(hs.containsKey("name")).isFalse();
  }

  @Test
  void badTokensAreRefusedAndTheSocketCloses() {
    refusedAndClosed(es256(claims("u", -3600)), "expired");
    refusedAndClosed(es256(claims("u", 60).put("aud", "other")), "wrong aud");
    refusedAndClosed(es256(claims("u", 60).put("iss", "https://evil.example")), "wrong iss");
    refusedAndClosed(TokenMinter.unsigned(claims("u", 60)), "alg none");
    refusedAndClosed(jwks.key("ES256").hs256WithPublicKey(claims("u", 60))[0], "HS256 with the public key");
    refusedAndClosed(es256(claims("u", 60).put("role", "service_role")), "service_role");
    refusedAndClosed(TokenMinter.hs256("wrong-secret-wrong-secret-wrong-secret").mint(claims("u", 60)), "wrong secret");
    refusedAndClosed("g1.dXNlcg.1764043200000.c2ln", "a guest token the relay did not sign");
  }

  @Test
  void displayNamesTravelInJoinedAndPresence() {
    TestClient ada = user(es256(claims("ada-id", 600).put("user_metadata", new JsonObject().put("name", "Ada"))));
    ada.join("names-room");
    TestClient grace = user(es256(claims("grace-id", 600).put("email", "grace@example.com")));
    TestClient anon = user(es256(claims("anon-id", 600)));
    JsonObject joined = grace.join("names-room");
    assertThat(joined.getJsonObject("names").getMap()).containsEntry("ada-id", "Ada").containsEntry("grace-id", "grace");
    assertThat(joined.getJsonArray("peers").getJsonObject(0).getString("name")).isEqualTo("Ada");
    JsonObject presence = ada.nextPresence();
    assertThat(presence.getString("user")).isEqualTo("grace-id");
    assertThat(presence.getString("name")).isEqualTo("grace");
    JsonObject third = anon.join("names-room");
    assertThat(third.getJsonObject("names").getMap()).doesNotContainKey("anon-id").hasSize(2);
    assertThat(ada.nextPresence().containsKey("name")).isFalse();
  }

  @Test
  void aTokensNameWinsOverHelloNameWhichServesTokensWithoutOne() {
    JsonObject named = claims("jwt-named", 600).put("user_metadata", new JsonObject().put("name", "Ada"));
    TestClient ada = client();
    ada.send(helloFrame(es256(named)).put("name", "Mallory"));
    assertThat(ada.await("welcome").getString("name")).isEqualTo("Ada");
    TestClient bo = client();
    bo.send(helloFrame(TokenMinter.hs256(SECRET).mint(claims("jwt-nameless", 600))).put("name", " Bo "));
    assertThat(bo.await("welcome").getString("name")).isEqualTo("Bo");
    // the hello name outlives a token refresh that still has none
    JsonObject authed = bo.request(new JsonObject().put("t", "auth")
        .put("token", TokenMinter.hs256(SECRET).mint(claims("jwt-nameless", 900))));
    assertThat(authed.getString("name")).isEqualTo("Bo");
    ada.join("jwt-names");
    JsonObject joined = bo.join("jwt-names");
    assertThat(joined.getJsonObject("names").getMap()).containsEntry("jwt-named", "Ada").containsEntry("jwt-nameless", "Bo");
    ada.send(new JsonObject().put("t", "send").put("room", "jwt-names").put("cid", "n1").put("body", "hi"));
    assertThat(bo.await("msg").getString("name")).isEqualTo("Ada");
  }

  @Test
  void anExpiredTokenGetsTokenExpiredThenTheSocketClosesAfterTheGrace() {
    TestClient c = user(es256(claims("expiring", 60)));
    c.join("expiry-room");
    clockOffsetMs.addAndGet(61_000);
    JsonObject expired = c.await(f -> "error".equals(f.getString("t")));
    assertThat(expired.getString("code")).isEqualTo("token_expired");
    assertThat(c.isClosed()).isFalse();
    clockOffsetMs.addAndGet(GRACE_MS);
    assertThat(c.awaitClose()).isTrue();
    assertThat(c.closeCode()).isEqualTo((short) 1008);
    assertThat(c.closeReason()).isEqualTo("token expired");
  }

  @Test
  void aRefreshKeepsTheConnectionBeforeAndAfterExpiry() {
    TestClient c = user(es256(claims("refresher", 60)));
    c.join("refresh-room");
    // before expiry: the new token's expiry replaces the old one
    JsonObject fresh = claims("refresher", 120).put("user_metadata", new JsonObject().put("name", "Renamed"));
    JsonObject authed = c.request(new JsonObject().put("t", "auth").put("token", es256(fresh)));
    assertThat(authed.getString("t")).as("%s", authed).isEqualTo("authed");
    assertThat(authed.getString("user")).isEqualTo("refresher");
    assertThat(authed.getString("name")).isEqualTo("Renamed");
    assertThat(authed.getLong("expiresAt")).isEqualTo(fresh.getLong("exp") * 1000);
    assertThat(authed.containsKey("token")).as("JWT users hold their token").isFalse();
    // past the first token's expiry, nothing happens; past the second's, token_expired
    clockOffsetMs.addAndGet(61_000);
    TestClient witness = user(es256(claims("witness", 30)));
    clockOffsetMs.addAndGet(60_000);
    assertThat(witness.await(f -> "error".equals(f.getString("t"))).getString("code")).isEqualTo("token_expired");
    assertThat(c.await(f -> "error".equals(f.getString("t"))).getString("code")).isEqualTo("token_expired");
    // within the grace: a refresh (HS256 now, same user) keeps it
    JsonObject again = c.request(new JsonObject().put("t", "auth").put("token",
        TokenMinter.hs256(SECRET).mint(claims("refresher", 3600))));
    assertThat(again.getString("t")).as("%s", again).isEqualTo("authed");
    clockOffsetMs.addAndGet(GRACE_MS);
    // the witness's close proves an expiry tick ran with the clock past the grace
    assertThat(witness.awaitClose()).isTrue();
    assertThat(c.isClosed()).isFalse();
    assertThat(c.sendMessage("refresh-room", "r1", "still here").getLong("seq")).isPositive();
  }

  @Test
  void anAuthWithAnotherUsersOrABadTokenClosesTheSocket() {
    TestClient c = user(es256(claims("owner-of-socket", 600)));
    JsonObject reply = c.request(new JsonObject().put("t", "auth").put("token", es256(claims("someone-else", 600))));
    assertThat(reply.getString("code")).isEqualTo("unauthorized");
    assertThat(c.awaitClose()).isTrue();
    assertThat(c.closeCode()).isEqualTo((short) 1008);

    TestClient d = user(es256(claims("other-socket", 600)));
    JsonObject bad = d.request(new JsonObject().put("t", "auth").put("token", es256(claims("other-socket", -600))));
    assertThat(bad.getString("code")).isEqualTo("unauthorized");
    assertThat(d.awaitClose()).isTrue();

    TestClient early = client();
    JsonObject beforeHello = early.request(new JsonObject().put("t", "auth").put("token", es256(claims("x", 600))));
    assertThat(beforeHello.getString("code")).isEqualTo("unauthorized");
  }

  /** First: nothing may have fetched the JWKS yet. */
  @Test
  @Order(1)
  void anUnreachableJwksIsAuthUnavailableAndCloses1013UntilItIsBack() {
    String token = jwks.key("ES256").mint(claims("jwt-user", 600));
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
    String later = jwks.key("ES256").mint(claims("jwt-user", 600));
    assertThat(client().hello(later, null).getString("user")).isEqualTo("jwt-user");
    jwksUp = true;
  }

  @Test
  void guestsGetExpiringTokensAndAFreshOneOnEveryWelcome() {
    TestClient first = client();
    JsonObject welcome = first.hello();
    assertThat(welcome.getString("user")).startsWith("u-");
    long expiresAt = welcome.getLong("expiresAt");
    assertThat(expiresAt - relayNowMs()).isBetween(TTL_SECONDS * 1000 - 60_000, TTL_SECONDS * 1000);
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
}
