package io.switchboard.relay.auth;

import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.ProtocolException;
import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.function.LongSupplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Anonymous guests with signed tokens {@code g1.<base64url user>.<issued ms>.<base64url HMAC-SHA256>}:
 * no token makes a new guest, a valid token keeps its user across reconnects and restarts (the
 * secret is persistent), anything else is refused. A token is accepted for {@code ttlMs} after it
 * was issued (and not when issued further in the future than the clock skew), and every accepted
 * one is answered with a fresh token: a guest that comes back within the TTL stays itself, a token
 * copied once cannot be replayed forever.
 */
public final class GuestAuthenticator implements Authenticator {
  private static final String VERSION = "g1";
  private static final String PREFIX = VERSION + ".";
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();

  private final SecretKeySpec key;
  private final long ttlMs;
  private final long skewMs;
  private final LongSupplier millis;
  private final SecureRandom random = new SecureRandom();

  public GuestAuthenticator(byte[] secret, long ttlMs, long skewMs, LongSupplier millis) {
    if (secret.length < 16) {
      throw new IllegalArgumentException("secret must be at least 16 bytes");
    }
    this.key = new SecretKeySpec(secret, "HmacSHA256");
    this.ttlMs = ttlMs;
    this.skewMs = skewMs;
    this.millis = millis;
  }

  /** True for what looks like a guest token (the composite authenticator routes on it). */
  public static boolean isGuestToken(String token) {
    return token != null && token.startsWith(PREFIX);
  }

  @Override
  public Future<Identity> authenticate(String token) {
    long now = millis.getAsLong();
    if (token == null) {
      byte[] id = new byte[9];
      random.nextBytes(id);
      return Future.succeededFuture(issue("u-" + B64.encodeToString(id), now));
    }
    String user = verify(token, now);
    if (user == null) {
      return Future.failedFuture(new ProtocolException(ErrorCode.UNAUTHORIZED,
          "guest token not recognised or expired; send hello without a token for a new guest identity"));
    }
    return Future.succeededFuture(issue(user, now));
  }

  @Override
  public Future<Identity> authenticateService(String token) {
    return Future.failedFuture(new ProtocolException(ErrorCode.UNAUTHORIZED, "guests are never service accounts"));
  }

  private Identity issue(String user, long now) {
    return Identity.guest(user, sign(user, now), now + ttlMs);
  }

  String sign(String user, long issuedAtMillis) {
    String payload = VERSION + "." + B64.encodeToString(user.getBytes(StandardCharsets.UTF_8)) + "." + issuedAtMillis;
    return payload + "." + B64.encodeToString(mac(payload));
  }

  /** Returns the token's user, or null when the token is malformed, not signed by us, expired or from the future. */
  String verify(String token, long now) {
    String[] parts = token.split("\\.", -1);
    if (parts.length != 4 || !VERSION.equals(parts[0])) {
      return null;
    }
    try {
      byte[] expected = mac(parts[0] + "." + parts[1] + "." + parts[2]);
      if (!MessageDigest.isEqual(expected, B64D.decode(parts[3]))) {
        return null;
      }
      long issued = Long.parseLong(parts[2]);
      if (issued > now + skewMs || now - issued > ttlMs) {
        return null;
      }
      return new String(B64D.decode(parts[1]), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private byte[] mac(String payload) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      return mac.doFinal(payload.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }
}
