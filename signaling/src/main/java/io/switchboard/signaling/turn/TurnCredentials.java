package io.switchboard.signaling.turn;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.util.Base64;
import java.util.Objects;

/**
 * Short-lived TURN credentials in the TURN REST API scheme (draft-uberti-behave-turn-rest, coturn's
 * {@code use-auth-secret}): username {@code <expiryEpochSeconds>:<userId>}, password
 * {@code base64(HMAC-SHA1(secret, username))}. coturn recomputes the password from the username
 * and the shared secret, and refuses the username once its expiry is in the past.
 *
 * <h2>The user id inside the username</h2>
 * coturn (4.6.1, {@code userdb.c}) reads the expiry from the text before the <em>first</em>
 * {@code ':'} when that text is all digits, and takes everything after it as the user (its
 * per-user quota key). A user id containing {@code ':'} therefore works unchanged:
 * {@code 1700003600:team:7:bob} expires at 1700003600 and belongs to {@code team:7:bob}.
 *
 * <p>coturn does refuse (400) a username containing a space, tab, CR, LF, {@code '}, {@code "} or
 * {@code \}, or containing both {@code union} and {@code select} in any case (its SQL-injection
 * guard, {@code is_secure_string}); NUL would cut it short, browsers may normalise non-ASCII text
 * before sending it, and it may be at most 512 bytes. So the user id is percent-encoded: its
 * UTF-8 bytes other than {@code A-Z a-z 0-9 - . _ ~ : @} become {@code %XX} (upper-case hex), and
 * when the result contains both {@code union} and {@code select}, the first letter of every
 * {@code union} is encoded too. Ordinary ids ({@code u-ab12}, {@code alice@example.com},
 * {@code team:7:bob}) come out unchanged; decoding always gives the id back, so two users never
 * share a username or a quota.
 *
 * <p>Thread-safe.
 */
public final class TurnCredentials {

  /** coturn's STUN_MAX_USERNAME_SIZE; RFC 8489 allows fewer than 513 bytes. */
  static final int MAX_USERNAME_BYTES = 512;

  /**
   * One credential for one browser: hand {@code username} and {@code password} (as the
   * RTCIceServer's {@code credential}) to the client together with the TURN urls.
   */
  public record Credential(String username, String password, long expiresAtEpochSeconds) {
  }

  private final SecretKeySpec key;
  private final long ttlSeconds;
  private final Clock clock;

  /**
   * @param secret     the secret coturn has as {@code static-auth-secret}
   * @param ttlSeconds how long an issued credential is valid (positive; {@link TurnOptions} bounds it)
   * @param clock      the clock expiries are computed from
   */
  public TurnCredentials(String secret, long ttlSeconds, Clock clock) {
    if (!TurnSecret.isValid(secret)) {
      throw new IllegalArgumentException("turn secret must be at least " + TurnOptions.MIN_SECRET_LENGTH
        + " printable ASCII characters without spaces");
    }
    if (ttlSeconds <= 0) {
      throw new IllegalArgumentException("ttlSeconds must be positive");
    }
    this.key = new SecretKeySpec(secret.getBytes(StandardCharsets.US_ASCII), "HmacSHA1");
    this.ttlSeconds = ttlSeconds;
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  public long ttlSeconds() {
    return ttlSeconds;
  }

  /**
   * Issues a credential for {@code userId} that expires {@code ttlSeconds} from now.
   *
   * @throws IllegalArgumentException when {@code userId} is empty, not valid Unicode, or too long
   *                                  for a TURN username once encoded
   */
  public Credential issue(String userId) {
    long expiresAt = clock.instant().getEpochSecond() + ttlSeconds;
    String username = expiresAt + ":" + encodeUserId(userId);
    if (username.length() > MAX_USERNAME_BYTES) {
      throw new IllegalArgumentException("userId is too long for a TURN username (" + username.length()
        + " bytes encoded, at most " + MAX_USERNAME_BYTES + ")");
    }
    return new Credential(username, password(username), expiresAt);
  }

  private String password(String username) {
    try {
      Mac mac = Mac.getInstance("HmacSHA1");
      mac.init(key);
      return Base64.getEncoder().encodeToString(mac.doFinal(username.getBytes(StandardCharsets.US_ASCII)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA1 is part of every Java runtime", e);
    }
  }

  /** The user id as it appears after the first {@code ':'} of the username (see the class comment). */
  static String encodeUserId(String userId) {
    if (userId == null || userId.isEmpty()) {
      throw new IllegalArgumentException("userId must not be empty");
    }
    ByteBuffer utf8;
    try {
      utf8 = StandardCharsets.UTF_8.newEncoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .encode(CharBuffer.wrap(userId));
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("userId is not valid Unicode (lone surrogate)", e);
    }
    StringBuilder out = new StringBuilder(utf8.remaining());
    while (utf8.hasRemaining()) {
      int b = utf8.get() & 0xff;
      if (isKept(b)) {
        out.append((char) b);
      } else {
        appendEscaped(out, b);
      }
    }
    String encoded = out.toString();
    if (!(containsIgnoreCase(encoded, "union") && containsIgnoreCase(encoded, "select"))) {
      return encoded;
    }
    StringBuilder guarded = new StringBuilder(encoded.length() + 8);
    for (int i = 0; i < encoded.length(); i++) {
      char c = encoded.charAt(i);
      if (encoded.regionMatches(true, i, "union", 0, 5)) {
        appendEscaped(guarded, c); // %75 or %55 is not a letter, so no new "union" can form
      } else {
        guarded.append(c);
      }
    }
    return guarded.toString();
  }

  private static boolean isKept(int b) {
    return (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9')
      || b == '-' || b == '.' || b == '_' || b == '~' || b == ':' || b == '@';
  }

  private static void appendEscaped(StringBuilder out, int b) {
    out.append('%').append(Character.toUpperCase(Character.forDigit(b >> 4, 16)))
      .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
  }

  private static boolean containsIgnoreCase(String s, String word) {
    for (int i = 0; i + word.length() <= s.length(); i++) {
      if (s.regionMatches(true, i, word, 0, word.length())) {
        return true;
      }
    }
    return false;
  }
}
