package io.switchboard.relay.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.ProtocolException;
import io.switchboard.relay.TestClient;
import io.switchboard.relay.config.AuthOptions;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The JWT verifier against a real JWKS endpoint on loopback (generated ES256/RS256 keys) and the
 * HS256 secret, with an injected clock.
 */
class JwtAuthenticatorTest {
  private static final String SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";
  private static final String ISSUER = "https://project.supabase.co/auth/v1";
  private static final long INTERVAL_MS = 10_000;
  private static Vertx vertx;
  private static Context context;
  private final AtomicLong now = new AtomicLong(1_764_000_000_000L);
  private JwksServer jwks;
  private final TokenMinter hs = TokenMinter.hs256(SECRET);

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
  }

  @AfterAll
  static void stopVertx() {
    TestClient.sync(vertx.close(), 10);
  }

  @BeforeEach
  void startJwks() {
    jwks = JwksServer.start(vertx);
  }

  @AfterEach
  void stopJwks() {
    jwks.close();
  }

  private AuthOptions options() {
    return new AuthOptions().setJwksUrl(jwks.url()).setJwtSecret(SECRET).setIssuer(ISSUER)
        .setJwksRefetchIntervalMs(INTERVAL_MS);
  }

  /** Built and used on one Vert.x context, as the relay does (the JWKS cache has no locks). */
  private JwtAuthenticator authenticator(AuthOptions o) {
    return onContext(() -> {
      JwksCache cache = o.getJwksUrl() == null ? null
          : new JwksCache(o.getIssuer() != null ? o.getIssuer() : o.getJwksUrl(), new JwksFetcher(vertx, o.getJwksUrl()),
              o.getJwksRefetchIntervalMs(), now::get);
      return Future.succeededFuture(new JwtAuthenticator(o, cache, now::get, check -> vertx.executeBlocking(check, false)));
    });
  }

  private static <T> T onContext(Supplier<Future<T>> action) {
    Promise<T> p = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(p));
    return TestClient.sync(p.future(), 15);
  }

  private static Throwable failure(Supplier<Future<?>> action) {
    Promise<Throwable> p = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(ar -> p.complete(ar.cause())));
    return TestClient.sync(p.future(), 15);
  }

  private JsonObject claims(String sub) {
    return TokenMinter.userClaims(sub, now.get()).put("iss", ISSUER);
  }

  private Identity accepted(JwtAuthenticator auth, String token) {
    return onContext(() -> auth.authenticate(token));
  }

  private void refused(JwtAuthenticator auth, String token, String why) {
    refusedWith(auth, token, why, ErrorCode.UNAUTHORIZED);
  }

  private void refusedWith(JwtAuthenticator auth, String token, String why, ErrorCode code) {
    Throwable cause = failure(() -> auth.authenticate(token));
    assertThat(cause).as(why).isInstanceOf(ProtocolException.class);
    assertThat(((ProtocolException) cause).code()).as(why).isEqualTo(code);
  }

  @Test
  void hs256WithTheSecretIsAcceptedAndGivesTheIdentity() {
    JwtAuthenticator auth = authenticator(new AuthOptions().setJwtSecret(SECRET));
    JsonObject c = TokenMinter.userClaims("user-1", now.get()).put("email", "ada@example.com");
    Identity id = accepted(auth, hs.mint(c));
    assertThat(id.user()).isEqualTo("user-1");
    assertThat(id.name()).isEqualTo("ada");
    assertThat(id.expiresAtMs()).isEqualTo(c.getLong("exp") * 1000);
    assertThat(id.role()).isEqualTo("authenticated");
    assertThat(id.guest()).isFalse();
    refused(auth, TokenMinter.hs256(SECRET + "x").mint(c), "another secret");
    refused(auth, jwks.key("ES256").mint(c), "an ES256 token without a JWKS configured");
  }

  @Test
  void es256AndRs256FromTheJwksAndHs256AreAcceptedTogether() {
    JwtAuthenticator auth = authenticator(options());
    assertThat(accepted(auth, jwks.key("ES256").mint(claims("es-user"))).user()).isEqualTo("es-user");
    assertThat(accepted(auth, jwks.key("RS256").mint(claims("rs-user"))).user()).isEqualTo("rs-user");
    assertThat(accepted(auth, hs.mint(claims("hs-user"))).user()).isEqualTo("hs-user");
    assertThat(jwks.requests()).isEqualTo(1);
  }

  @Test
  void algorithmConfusionAndUnsignedTokensAreRefused() {
    JwtAuthenticator auth = authenticator(options());
    TokenMinter es = jwks.key("ES256");
    TokenMinter rs = jwks.key("RS256");
    JsonObject c = claims("mallory");
    refused(auth, TokenMinter.unsigned(c), "alg none");
    refused(auth, hs.mint(hs.header().put("alg", "none"), c).replaceAll("\\.[^.]*$", "."), "alg none, secret set");
    for (String t : es.hs256WithPublicKey(c)) {
      refused(auth, t, "HS256 signed with the EC public key");
    }
    for (String t : rs.hs256WithPublicKey(c)) {
      refused(auth, t, "HS256 signed with the RSA public key");
    }
    // an RS256 token naming the EC key's kid: the key decides, and it is ES256
    refused(auth, rs.mint(rs.header().put("kid", es.kid()), c), "RS256 token for an EC key");
    refused(auth, es.mint(es.header().put("alg", "RS256"), c), "ES256 signature labelled RS256");
    refused(auth, es.mint(es.header().put("alg", "ES384"), c), "unsupported alg");
    refused(auth, es.mint(es.header().put("crit", new JsonArray().add("exp")), c), "crit header");
    String good = es.mint(c);
    String[] parts = good.split("\\.");
    String tampered = parts[0] + "." + TokenMinter.userClaims("admin", now.get()).put("iss", ISSUER).toString() + "." + parts[2];
    refused(auth, tampered, "payload swapped");
    String otherPayload = parts[0] + "." + es.mint(claims("admin")).split("\\.")[1] + "." + parts[2];
    refused(auth, otherPayload, "signature of another payload");
    refused(auth, "a.b", "two parts");
    refused(auth, "!!!.###.$$$", "not base64");
    java.util.Base64.Encoder b64 = java.util.Base64.getUrlEncoder().withoutPadding();
    String goodHeader = good.split("\\.")[0];
    for (String json : new String[] {"null", "[]", "1", "\"s\"", "{", "{\"alg\":null}", "{\"alg\":\"ES256\",\"kid\":7}"}) {
      String part = b64.encodeToString(json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      refused(auth, part + "." + good.split("\\.")[1] + "." + good.split("\\.")[2], "header " + json);
      refused(auth, goodHeader + "." + part + "." + good.split("\\.")[2], "payload " + json);
    }
    assertThat(accepted(auth, good).user()).isEqualTo("mallory");
  }

  @Test
  void claimsOutsideTheRulesAreRefused() {
    JwtAuthenticator auth = authenticator(options());
    TokenMinter es = jwks.key("ES256");
    long s = now.get() / 1000;
    long skew = AuthOptions.DEFAULT_CLOCK_SKEW_SECONDS;
    refused(auth, es.mint(claims("u").put("aud", "someone-else")), "wrong aud");
    refused(auth, es.mint(claims("u").remove("aud") == null ? null : claims("u").put("aud", new JsonArray().add("x"))), "aud list without ours");
    assertThat(accepted(auth, es.mint(claims("u").put("aud", new JsonArray().add("x").add("authenticated")))).user())
        .isEqualTo("u");
    refused(auth, es.mint(claims("u").put("iss", "https://evil.example/auth/v1")), "wrong iss");
    JsonObject noIss = claims("u");
    noIss.remove("iss");
    refused(auth, es.mint(noIss), "no iss while an issuer is set");
    refused(auth, es.mint(claims("u").put("exp", s - skew - 1)), "expired beyond the skew");
    assertThat(accepted(auth, es.mint(claims("u").put("exp", s - skew + 1))).user()).as("expired within the skew").isEqualTo("u");
    JsonObject noExp = claims("u");
    noExp.remove("exp");
    refused(auth, es.mint(noExp), "no exp");
    refused(auth, es.mint(claims("u").put("exp", "tomorrow")), "exp not a number");
    refused(auth, es.mint(claims("u").put("nbf", s + skew + 5)), "nbf in the future");
    assertThat(accepted(auth, es.mint(claims("u").put("nbf", s + skew - 5))).user()).isEqualTo("u");
    refused(auth, es.mint(claims("u").put("iat", s + skew + 5)), "iat in the future");
    JsonObject noSub = claims("u");
    noSub.remove("sub");
    refused(auth, es.mint(noSub), "no sub");
    refused(auth, es.mint(claims("")), "empty sub");
    refused(auth, es.mint(claims("   ")), "blank sub");
    refused(auth, es.mint(claims("u").put("sub", 42)), "numeric sub");
    refused(auth, es.mint(claims("x".repeat(129))), "overlong sub");
    refused(auth, es.mint(claims("two words")), "sub outside the user pattern");
    refused(auth, es.mint(claims("\"quoted\"")), "sub outside the user pattern");
    assertThat(accepted(auth, es.mint(claims("x".repeat(128)))).user()).hasSize(128);
    assertThat(accepted(auth, es.mint(claims("auth0|5f7c8ec7c33c6c004bbafe82"))).user()).isEqualTo("auth0|5f7c8ec7c33c6c004bbafe82");
    // Supabase's anon key: HS256, iss supabase, role anon, no sub and no aud
    refused(auth, hs.mint(new JsonObject().put("iss", "supabase").put("role", "anon").put("iat", s - 10).put("exp", s + 3600)),
        "the anon key");
    refused(auth, es.mint(claims("u").put("role", "service_role")), "service_role on a chat connection");
    refused(auth, hs.mint(claims("u").put("role", "service_role")), "service_role via the secret");
  }

  @Test
  void withoutAnIssuerItIsNotCheckedAndTheUrlIsTheKeySource() {
    JwtAuthenticator auth = authenticator(options().setIssuer(null));
    JsonObject c = TokenMinter.userClaims("u", now.get()).put("iss", "anything");
    assertThat(accepted(auth, jwks.key("ES256").mint(c)).user()).isEqualTo("u");
  }

  @Test
  void publicKeyChecksRunOffTheEventLoop() {
    AuthOptions o = options();
    List<Boolean> onEventLoop = new java.util.concurrent.CopyOnWriteArrayList<>();
    JwtAuthenticator auth = onContext(() -> Future.succeededFuture(new JwtAuthenticator(o,
        new JwksCache(ISSUER, new JwksFetcher(vertx, o.getJwksUrl()), INTERVAL_MS, now::get), now::get,
        check -> vertx.executeBlocking(() -> {
          onEventLoop.add(Context.isOnEventLoopThread());
          return check.call();
        }, false))));
    accepted(auth, jwks.key("ES256").mint(claims("es")));
    accepted(auth, jwks.key("RS256").mint(claims("rs")));
    assertThat(onEventLoop).containsExactly(false, false);
    accepted(auth, hs.mint(claims("hs")));
    assertThat(onEventLoop).as("HMAC stays inline").hasSize(2);
  }

  @Test
  void anEmptyAudienceSettingTurnsTheAudienceCheckOff() {
    // as the relay gets it: from the environment's empty string, through the options' JSON round trip
    AuthOptions noAudience = new AuthOptions(new AuthOptions().setJwtSecret(SECRET).setAudience("").toJson());
    assertThat(noAudience.getAudience()).isNull();
    JwtAuthenticator auth = authenticator(noAudience);
    JsonObject c = TokenMinter.userClaims("u", now.get()).put("aud", "some-other-app");
    assertThat(accepted(auth, hs.mint(c)).user()).isEqualTo("u");
    refused(authenticator(new AuthOptions().setJwtSecret(SECRET)), hs.mint(c), "default audience");
  }

  @Test
  void anotherIssuersKeyWithTheSameKidIsRefused() {
    // issuer B (configured) and issuer A both publish a key with kid "shared"
    TokenMinter b = TokenMinter.es256("shared");
    TokenMinter a = TokenMinter.es256("shared");
    try (JwksServer issuerB = JwksServer.start(vertx, b); JwksServer issuerA = JwksServer.start(vertx, a)) {
      JwtAuthenticator auth = authenticator(options().setJwksUrl(issuerB.url()));
      assertThat(accepted(auth, b.mint(claims("ok"))).user()).isEqualTo("ok");
      refused(auth, a.mint(TokenMinter.userClaims("u", now.get()).put("iss", "https://a.example/auth/v1")),
          "issuer A's token, kid also in B's JWKS");
      refused(auth, a.mint(claims("u")), "A's key claiming to be B");
      assertThat(issuerA.requests()).isZero();
    }
  }

  @Test
  void aRotatedKidIsPickedUpWithoutRestart() {
    JwtAuthenticator auth = authenticator(options());
    assertThat(accepted(auth, jwks.key("ES256").mint(claims("before"))).user()).isEqualTo("before");
    TokenMinter rotated = jwks.rotate();
    // within the interval of the last fetch the new kid cannot be looked up yet: retry, not a bad token
    refusedWith(auth, rotated.mint(claims("early")), "rotated within the interval", ErrorCode.AUTH_UNAVAILABLE);
    now.addAndGet(INTERVAL_MS);
    assertThat(accepted(auth, rotated.mint(claims("after"))).user()).isEqualTo("after");
    assertThat(jwks.requests()).isEqualTo(2);
    // the old key left the JWKS: refused once the cache knows
    now.addAndGet(JwksCache.MAX_AGE_MS);
    refused(auth, TokenMinter.es256("es-1").mint(claims("old")), "the retired kid");
  }

  @Test
  void aFloodOfUnknownKidsCostsOneFetchPerInterval() {
    JwtAuthenticator auth = authenticator(options());
    TokenMinter es = jwks.key("ES256");
    accepted(auth, es.mint(claims("warm")));
    assertThat(jwks.requests()).isEqualTo(1);
    now.addAndGet(INTERVAL_MS);
    // all at once, so most arrive while the first refetch is in flight: they share it
    List<Future<Identity>> flood = new ArrayList<>();
    onContext(() -> {
      for (int i = 0; i < 300; i++) {
        flood.add(auth.authenticate(es.mint(es.header().put("kid", "random-" + i), claims("x"))));
      }
      return Future.join(flood).transform(all -> Future.succeededFuture(flood.size()));
    });
    assertThat(flood).allSatisfy(f -> assertThat(f.failed()).isTrue());
    // those that shared the refetch learnt the kid is not there
    assertThat(flood).allSatisfy(f -> assertThat(((ProtocolException) f.cause()).code()).isEqualTo(ErrorCode.UNAUTHORIZED));
    // later ones within the interval cannot be checked (a key rotated in meanwhile would be found on retry)
    for (int i = 0; i < 300; i++) {
      refusedWith(auth, es.mint(es.header().put("kid", "later-" + i), claims("x")), "kid flood, sequential",
          ErrorCode.AUTH_UNAVAILABLE);
    }
    assertThat(jwks.requests()).isEqualTo(2);
    now.addAndGet(INTERVAL_MS);
    refused(auth, es.mint(es.header().put("kid", "next-interval"), claims("x")), "next interval");
    assertThat(jwks.requests()).isEqualTo(3);
    // known keys keep working throughout
    assertThat(accepted(auth, es.mint(claims("fine"))).user()).isEqualTo("fine");
    assertThat(jwks.requests()).isEqualTo(3);
  }

  @Test
  void anUnreachableJwksIsAuthUnavailableNotABadToken() {
    jwks.failing(true);
    JwtAuthenticator auth = authenticator(options());
    TokenMinter es = jwks.key("ES256");
    refusedWith(auth, es.mint(claims("u")), "JWKS down, nothing cached", ErrorCode.AUTH_UNAVAILABLE);
    refusedWith(auth, es.mint(claims("u")), "still down within the interval", ErrorCode.AUTH_UNAVAILABLE);
    assertThat(jwks.requests()).isEqualTo(1);
    // HS256 needs no JWKS
    assertThat(accepted(auth, hs.mint(claims("hs"))).user()).isEqualTo("hs");
    jwks.failing(false);
    now.addAndGet(INTERVAL_MS);
    assertThat(accepted(auth, es.mint(claims("u"))).user()).isEqualTo("u");
    // down again after the cache went stale: the last keys stay in use
    jwks.failing(true);
    now.addAndGet(JwksCache.MAX_AGE_MS + 1);
    assertThat(accepted(auth, es.mint(claims("u2"))).user()).isEqualTo("u2");
    refusedWith(auth, es.mint(es.header().put("kid", "unknown"), claims("x")), "unknown kid while down, keys cached",
        ErrorCode.AUTH_UNAVAILABLE);
  }

  @Test
  void warmingFetchesOnceAndLoginsThenNeedNoFetch() {
    JwksCache cache = onContext(() -> {
      JwksCache c = new JwksCache(ISSUER, new JwksFetcher(vertx, jwks.url()), INTERVAL_MS, now::get);
      c.warm();
      return Future.succeededFuture(c);
    });
    org.awaitility.Awaitility.await().until(() -> jwks.requests() == 1);
    JwtAuthenticator auth = onContext(() -> Future.succeededFuture(new JwtAuthenticator(options(), cache, now::get,
        check -> vertx.executeBlocking(check, false))));
    assertThat(accepted(auth, jwks.key("ES256").mint(claims("u"))).user()).isEqualTo("u");
    assertThat(jwks.requests()).isEqualTo(1);
  }

  @Test
  void theCacheLivesAtMostTenMinutesOrTheResponsesMaxAge() {
    JwtAuthenticator auth = authenticator(options());
    TokenMinter es = jwks.key("ES256");
    jwks.cacheControl("public, max-age=86400");
    accepted(auth, es.mint(claims("u")));
    now.addAndGet(JwksCache.MAX_AGE_MS - 1);
    accepted(auth, es.mint(claims("u")));
    assertThat(jwks.requests()).isEqualTo(1);
    now.addAndGet(1);
    jwks.cacheControl("max-age=60");
    accepted(auth, es.mint(claims("u")));
    assertThat(jwks.requests()).isEqualTo(2);
    now.addAndGet(59_999);
    accepted(auth, es.mint(claims("u")));
    assertThat(jwks.requests()).isEqualTo(2);
    now.addAndGet(1);
    accepted(auth, es.mint(claims("u")));
    assertThat(jwks.requests()).isEqualTo(3);
  }

  @Test
  void theServiceKeyPassesOnlyAuthenticateService() {
    JwtAuthenticator auth = authenticator(options());
    long s = now.get() / 1000;
    // Supabase's legacy service key: HS256, iss supabase, no sub, no aud
    String serviceKey = hs.mint(new JsonObject().put("iss", "supabase").put("ref", "project").put("role", "service_role")
        .put("iat", s - 1000).put("exp", s + 10 * 365 * 86400L));
    Identity service = onContext(() -> auth.authenticateService(serviceKey));
    assertThat(service.serviceRole()).isTrue();
    refused(auth, serviceKey, "service key on a chat connection");
    String userToken = hs.mint(claims("u"));
    Throwable userAsService = failure(() -> auth.authenticateService(userToken));
    assertThat(((ProtocolException) userAsService).code()).isEqualTo(ErrorCode.FORBIDDEN);
    String otherIssuer = hs.mint(new JsonObject().put("iss", "elsewhere").put("role", "service_role").put("exp", s + 60));
    assertThat(((ProtocolException) failure(() -> auth.authenticateService(otherIssuer))).code())
        .isEqualTo(ErrorCode.UNAUTHORIZED);
    String expired = hs.mint(new JsonObject().put("iss", "supabase").put("role", "service_role").put("exp", s - 3600));
    assertThat(failure(() -> auth.authenticateService(expired))).isInstanceOf(ProtocolException.class);
    String forged = TokenMinter.hs256("not-the-secret-but-long-enough-32+").mint(
        new JsonObject().put("iss", "supabase").put("role", "service_role").put("exp", s + 60));
    assertThat(failure(() -> auth.authenticateService(forged))).isInstanceOf(ProtocolException.class);
    // a JWKS-signed service token of the configured issuer works too
    String viaJwks = jwks.key("RS256").mint(new JsonObject().put("iss", ISSUER).put("role", "service_role").put("exp", s + 60));
    assertThat(onContext(() -> auth.authenticateService(viaJwks)).serviceRole()).isTrue();
  }

  @Test
  void displayNamesComeFromMetadataOrEmailCleanedAndCapped() {
    JwtAuthenticator auth = authenticator(new AuthOptions().setJwtSecret(SECRET));
    JsonObject c = TokenMinter.userClaims("u", now.get()).put("email", "grace.hopper@example.com");
    assertThat(accepted(auth, hs.mint(c.copy())).name()).isEqualTo("grace.hopper");
    c.put("user_metadata", new JsonObject().put("name", "  Grace\u0000 \u202EHopper\n\u0007 "));
    assertThat(accepted(auth, hs.mint(c.copy())).name()).isEqualTo("Grace Hopper");
    c.put("user_metadata", new JsonObject().put("name", "\uD83D\uDE00".repeat(70)));
    String capped = accepted(auth, hs.mint(c.copy())).name();
    assertThat(capped.codePointCount(0, capped.length())).isEqualTo(64);
    assertThat(capped).isEqualTo("\uD83D\uDE00".repeat(64));
    c.put("user_metadata", new JsonObject().put("name", " \u0001 "));
    assertThat(accepted(auth, hs.mint(c.copy())).name()).as("empty after cleaning: the email").isEqualTo("grace.hopper");
    c.put("user_metadata", new JsonObject().put("name", 7));
    c.remove("email");
    assertThat(accepted(auth, hs.mint(c.copy())).name()).isNull();
  }
}
