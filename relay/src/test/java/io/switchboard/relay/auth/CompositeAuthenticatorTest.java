package io.switchboard.relay.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.ProtocolException;
import io.switchboard.relay.TestClient;
import io.switchboard.relay.config.AuthOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Which authenticator the options choose (HS256 only here: no JWKS is fetched). */
class CompositeAuthenticatorTest {
  private static final byte[] GUEST_SECRET = "guest-secret-0123456789".getBytes(StandardCharsets.UTF_8);
  private static final String JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";
  private static Vertx vertx;
  private final long now = 1_764_000_000_000L;
  private final String jwt = TokenMinter.hs256(JWT_SECRET).mint(TokenMinter.userClaims("jwt-user", now));

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stopVertx() {
    TestClient.sync(vertx.close(), 10);
  }

  private CompositeAuthenticator create(AuthOptions options) {
    return CompositeAuthenticator.create(vertx, options, GUEST_SECRET, () -> now);
  }

  private static ErrorCode code(Future<?> f) {
    assertThat(f.failed()).isTrue();
    return ((ProtocolException) f.cause()).code();
  }

  @Test
  void withoutJwtSettingsOnlyGuests() {
    CompositeAuthenticator auth = create(new AuthOptions());
    Identity guest = auth.authenticate(null).result();
    assertThat(guest.guest()).isTrue();
    assertThat(auth.authenticate(guest.token()).result().user()).isEqualTo(guest.user());
    assertThat(code(auth.authenticate(jwt))).isEqualTo(ErrorCode.UNAUTHORIZED);
    assertThat(code(auth.authenticateService(jwt))).isEqualTo(ErrorCode.UNAUTHORIZED);
  }

  @Test
  void aJwtSettingTurnsGuestsOffUnlessAskedFor() {
    String guestToken = create(new AuthOptions()).authenticate(null).result().token();
    CompositeAuthenticator jwtOnly = create(new AuthOptions().setJwtSecret(JWT_SECRET));
    assertThat(jwtOnly.authenticate(jwt).result().user()).isEqualTo("jwt-user");
    assertThat(code(jwtOnly.authenticate(null))).isEqualTo(ErrorCode.UNAUTHORIZED);
    assertThat(code(jwtOnly.authenticate(guestToken))).isEqualTo(ErrorCode.UNAUTHORIZED);

    CompositeAuthenticator both = create(new AuthOptions().setJwtSecret(JWT_SECRET).setGuests(true));
    assertThat(both.authenticate(jwt).result().user()).isEqualTo("jwt-user");
    assertThat(both.authenticate(null).result().guest()).isTrue();
    assertThat(both.authenticate(guestToken).result().user()).isEqualTo(create(new AuthOptions()).authenticate(guestToken)
        .result().user());

    CompositeAuthenticator guestsOff = create(new AuthOptions().setGuests(false));
    assertThat(code(guestsOff.authenticate(null))).isEqualTo(ErrorCode.UNAUTHORIZED);
    assertThat(code(guestsOff.authenticate(jwt))).isEqualTo(ErrorCode.UNAUTHORIZED);
  }

  @Test
  void withoutAnIssuerTheStartLogsAWarningRecommendingIt() {
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(CompositeAuthenticator.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged =
        new ch.qos.logback.core.read.ListAppender<>();
    logged.start();
    logger.addAppender(logged);
    try {
      create(new AuthOptions().setJwtSecret(JWT_SECRET).setIssuer("https://p.supabase.co/auth/v1"));
      create(new AuthOptions());
      assertThat(logged.list).noneMatch(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN);
      create(new AuthOptions().setJwtSecret(JWT_SECRET));
      assertThat(logged.list).anyMatch(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN
          && e.getFormattedMessage().contains("SWITCHBOARD_AUTH_ISSUER"));
    } finally {
      logger.detachAppender(logged);
    }
  }
}
