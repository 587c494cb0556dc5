package io.switchboard.signaling.turn;

import io.switchboard.signaling.turn.TurnCredentials.Credential;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

class TurnCredentialsTest {

  static final String SECRET = "switchboard-turn-test-secret";
  /** 2023-11-14T22:13:20Z; one hour later is 1700003600. */
  static final Clock CLOCK = Clock.fixed(Instant.ofEpochSecond(1_700_000_000L), ZoneOffset.UTC);

  final TurnCredentials credentials = new TurnCredentials(SECRET, 3600, CLOCK);

  /*
   * Computed independently of Java:
   *   printf %s '1700003600:alice' | openssl dgst -sha1 -hmac 'switchboard-turn-test-secret' -binary | base64
   *   zocFoRqzDr92jN53DLGmJVizCGY=
   *   printf %s '1700003600:team:7:bob' | openssl dgst -sha1 -hmac 'switchboard-turn-test-secret' -binary | base64
   *   q5qIjVpoIDx2XYYqGqF4Yhm3XRc=
   *   printf %s '1700003600:o%27neil%20%C3%BC' | openssl dgst -sha1 -hmac 'switchboard-turn-test-secret' -binary | base64
   *   O/b5aPNVuYCLq82bDY1/l+aZOE0=
   */
  static Stream<Arguments> opensslVectors() {
    return Stream.of(
      arguments("alice", "1700003600:alice", "zocFoRqzDr92jN53DLGmJVizCGY="),
      arguments("team:7:bob", "1700003600:team:7:bob", "q5qIjVpoIDx2XYYqGqF4Yhm3XRc="),
      arguments("o'neil ü", "1700003600:o%27neil%20%C3%BC", "O/b5aPNVuYCLq82bDY1/l+aZOE0="));
  }

  @ParameterizedTest
  @MethodSource("opensslVectors")
  void matchesVectorsComputedWithOpenssl(String userId, String username, String password) {
    Credential credential = credentials.issue(userId);

    assertThat(credential.username()).isEqualTo(username);
    assertThat(credential.password()).isEqualTo(password);
    assertThat(credential.expiresAtEpochSeconds()).isEqualTo(1_700_003_600L);
  }

  @Test
  void agreesWithOpensslOnRandomInput() throws Exception {
    assumeTrue(TurnTestSupport.onPath("openssl"), "openssl is not installed; the fixed vectors above still hold");
    String secret = "s-" + Long.toHexString(ThreadLocalRandom.current().nextLong()) + "-0123456789";
    String userId = "u-" + Long.toHexString(ThreadLocalRandom.current().nextLong());
    Credential credential = new TurnCredentials(secret, 600, Clock.systemUTC()).issue(userId);

    Process openssl = new ProcessBuilder("openssl", "dgst", "-sha1", "-hmac", secret, "-binary").start();
    openssl.getOutputStream().write(credential.username().getBytes(StandardCharsets.US_ASCII));
    openssl.getOutputStream().close();
    byte[] mac = openssl.getInputStream().readAllBytes();
    assertThat(openssl.waitFor(10, TimeUnit.SECONDS)).isTrue();

    assertThat(credential.password()).isEqualTo(Base64.getEncoder().encodeToString(mac));
  }

  @Test
  void expiresTtlSecondsAfterNowRoundedDownToTheSecond() {
    Clock clock = Clock.fixed(Instant.ofEpochSecond(1_800_000_000L, 999_999_999), ZoneOffset.UTC);

    Credential credential = new TurnCredentials(SECRET, 90, clock).issue("u-ab12");

    assertThat(credential.expiresAtEpochSeconds()).isEqualTo(1_800_000_090L);
    assertThat(credential.username()).isEqualTo("1800000090:u-ab12");
  }

  @Test
  void coturnReadsTheExpiryBeforeTheFirstColonAndTheUserAfterIt() {
    // coturn's get_rest_api_timestamp / get_real_username: digits up to the first ':' are the
    // expiry, the rest is the user (its quota key) — colons in the user id are harmless.
    String username = credentials.issue("room:lobby:carol").username();
    int first = username.indexOf(':');

    assertThat(Long.parseLong(username.substring(0, first))).isEqualTo(1_700_003_600L);
    assertThat(username.substring(first + 1)).isEqualTo("room:lobby:carol");
  }

  @Test
  void passwordIsTheBase64OfATwentyByteHmac() {
    String password = credentials.issue("alice").password();

    assertThat(Base64.getDecoder().decode(password)).hasSize(20);
  }

  static Stream<Arguments> encodings() {
    return Stream.of(
      arguments("u-ab12", "u-ab12"),
      arguments("alice@example.com", "alice@example.com"),
      arguments("a.b_c-d~e", "a.b_c-d~e"),
      arguments("with space", "with%20space"),
      arguments("tab\there", "tab%09here"),
      arguments("quote'd", "quote%27d"),
      arguments("dq\"x", "dq%22x"),
      arguments("back\\slash", "back%5Cslash"),
      arguments("100%", "100%25"),
      arguments("ü", "%C3%BC"),
      arguments("😀", "%F0%9F%98%80"),
      arguments("reunion", "reunion"),
      arguments("UnionSelect", "%55nionSelect"),
      arguments("union-all-select-union", "%75nion-all-select-%75nion"));
  }

  @ParameterizedTest
  @MethodSource("encodings")
  void encodesWhatCoturnWouldRefuse(String userId, String encoded) {
    assertThat(TurnCredentials.encodeUserId(userId)).isEqualTo(encoded);
  }

  @Test
  void encodesControlCharacters() {
    assertThat(TurnCredentials.encodeUserId("a\u0000b\r\n")).isEqualTo("a%00b%0D%0A");
  }

  @Test
  void encodedUsernamesPassCoturnsUsernameCheck() {
    // coturn's is_secure_string, lower-cased: no blank, quote, backslash, CR/LF, nor union+select
    for (String userId : new String[] {"x' union select 1 --", "a\"b\\c\td\re\nf", "UNION\u00a0SELECT"}) {
      String lower = credentials.issue(userId).username().toLowerCase(Locale.ROOT);

      assertThat(lower).doesNotContain(" ", "\t", "'", "\"", "\n", "\r", "\\");
      assertThat(lower.contains("union") && lower.contains("select")).as(lower).isFalse();
    }
  }

  @Test
  void rejectsUserIdsThatCannotBecomeAUsername() {
    assertThatThrownBy(() -> credentials.issue("")).isInstanceOf(IllegalArgumentException.class)
      .hasMessageContaining("userId must not be empty");
    assertThatThrownBy(() -> credentials.issue(null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> credentials.issue("lone \ud800 surrogate")).isInstanceOf(IllegalArgumentException.class)
      .hasMessageContaining("not valid Unicode");
    assertThatThrownBy(() -> credentials.issue("x".repeat(502))).isInstanceOf(IllegalArgumentException.class)
      .hasMessageContaining("too long");
    assertThat(credentials.issue("x".repeat(501)).username()).hasSize(TurnCredentials.MAX_USERNAME_BYTES);
  }

  @Test
  void rejectsBadConstructorArguments() {
    assertThatThrownBy(() -> new TurnCredentials("short", 3600, CLOCK)).isInstanceOf(IllegalArgumentException.class)
      .hasMessageContaining("at least 16");
    assertThatThrownBy(() -> new TurnCredentials(null, 3600, CLOCK)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new TurnCredentials("has a space in it!", 3600, CLOCK))
      .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new TurnCredentials(SECRET, 0, CLOCK)).isInstanceOf(IllegalArgumentException.class)
      .hasMessageContaining("ttlSeconds");
    assertThatThrownBy(() -> new TurnCredentials(SECRET, 60, null)).isInstanceOf(NullPointerException.class);
  }
}
