package io.switchboard.relay.auth;

import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.ProtocolException;
import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Anonymous guests with signed tokens {@code g1.<base64url user>.<issued ms>.<base64url HMAC-SHA256>}:
 * no token makes a new guest, a valid token keeps its user across reconnects and restarts (the
 * secret is persistent), anything else is refused.
 */
public final class GuestAuthenticator implements Authenticator {
  private static final String VERSION = "g1";
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();

  private final SecretKeySpec key;
  private final SecureRandom random = new SecureRandom();

  public GuestAuthenticator(byte[] secret) {
    if (secret.length < 16) {
      throw new IllegalArgumentException("secret must be at least 16 bytes");
    }
    this.key = new SecretKeySpec(secret, "HmacSHA256");
  }

  @Override
  public Future<Identity> authenticate(String token) {
    if (token == null) {
      byte[] id = new byte[9];
      random.nextBytes(id);
      String user = "u-" + B64.encodeToString(id);
      return Future.succeededFuture(Identity.guest(user, sign(user, System.currentTimeMillis()), Long.MAX_VALUE));
    }
    String user = verify(token);
    if (user == null) {
      return Future.failedFuture(new ProtocolException(ErrorCode.UNAUTHORIZED, "token not recognised; send hello without a token for a new guest identity"));
    }
    return Future.succeededFuture(Identity.guest(user, token, Long.MAX_VALUE));
  }

  @Override
  public Future<Identity> authenticateService(String token) {
    return Future.failedFuture(new ProtocolException(ErrorCode.UNAUTHORIZED, "guests are never service accounts"));
  }

  String sign(String user, long issuedAtMillis) {
    String payload = VERSION + "." + B64.encodeToString(user.getBytes(StandardCharsets.UTF_8)) + "." + issuedAtMillis;
    return payload + "." + B64.encodeToString(mac(payload));
  }

  /** Returns the token's user, or null when the token is malformed or not signed by us. */
  String verify(String token) {
    String[] parts = token.split("\\.", -1);
    if (parts.length != 4 || !VERSION.equals(parts[0])) {
      return null;
    }
    try {
      byte[] expected = mac(parts[0] + "." + parts[1] + "." + parts[2]);
      if (!MessageDigest.isEqual(expected, B64D.decode(parts[3]))) {
        return null;
      }
      Long.parseLong(parts[2]);
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
