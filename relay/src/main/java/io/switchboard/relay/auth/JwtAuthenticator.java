package io.switchboard.relay.auth;

import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.Limits;
import io.switchboard.protocol.ProtocolException;
import io.switchboard.relay.config.AuthOptions;
import io.vertx.core.Future;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.Callable;
import java.util.function.LongSupplier;

/**
 * Verifies the app's JWTs locally (Supabase Auth): HS256 with the legacy secret, ES256/RS256 with
 * the JWKS's keys. What is checked is documented in docs/operations.md ("Authentication"):
 * <ul>
 *   <li>the key: a header {@code alg} of HS256 uses the secret; any other is looked up in the JWKS by
 *   issuer and {@code kid}; the header's {@code alg} must equal the key's, so {@code none}, an HS256
 *   token "signed" with a public key and an RS256 token for an EC key are refused;</li>
 *   <li>{@code exp} required; {@code exp}, {@code nbf}, {@code iat} within {@code clockSkewSeconds};</li>
 *   <li>users: {@code iss} when an issuer is configured, {@code aud} when an audience is, a non-empty
 *   {@code sub} matching the protocol's user pattern, and a {@code role} other than {@code service_role};</li>
 *   <li>the service key: {@code role} = {@code service_role}, {@code iss} = the issuer or
 *   {@code supabase} (Supabase's legacy service key); no {@code sub} or {@code aud} needed.</li>
 * </ul>
 */
public final class JwtAuthenticator implements Authenticator {
  /** The {@code iss} of Supabase's legacy anon and service keys. */
  public static final String SUPABASE_KEY_ISSUER = "supabase";
  private static final Base64.Decoder B64 = Base64.getUrlDecoder();

  private final JwtKey secret;
  private final JwksCache jwks;
  private final String issuer;
  private final String audience;
  private final long skewMs;
  private final LongSupplier millis;
  private final Offload offload;

  /**
   * Runs a signature check off the event loop and completes on the caller's context: an ES256
   * verification costs the JDK 0.5-4 ms of CPU, too long for the loop that carries every socket
   * (the relay passes {@code check -> vertx.executeBlocking(check, false)}).
   */
  public interface Offload {
    Future<Boolean> run(Callable<Boolean> check);
  }

  /** @param jwks null without a JWKS URL; the secret is used when {@code options.getJwtSecret()} is set */
  public JwtAuthenticator(AuthOptions options, JwksCache jwks, LongSupplier millis, Offload offload) {
    this.secret = options.getJwtSecret() == null ? null
        : JwtKey.secret(options.getJwtSecret().getBytes(StandardCharsets.UTF_8));
    this.jwks = jwks;
    this.issuer = options.getIssuer();
    this.audience = options.getAudience();
    this.skewMs = options.getClockSkewSeconds() * 1000;
    this.millis = millis;
    this.offload = offload;
  }

  @Override
  public Future<Identity> authenticate(String token) {
    if (token == null) {
      return refused("a token is required");
    }
    return verified(token).compose(claims -> {
      if (issuer != null && !issuer.equals(claims.getValue("iss"))) {
        return refused("token of another issuer");
      }
      if (audience != null && !audienceMatches(claims.getValue("aud"))) {
        return refused("token for another audience");
      }
      if (!(claims.getValue("sub") instanceof String sub) || sub.isBlank()) {
        return refused("token without a subject");
      }
      // The user id travels in frames, is stored with every message, names TURN users and must be
      // nameable in grant/revoke and the admin API: the protocol's user pattern (Supabase: a UUID).
      if (!Limits.USER.matcher(sub).matches()) {
        return refused("subject is not a user id of 1-128 of A-Z a-z 0-9 . _ : @ | + = -");
      }
      Object role = claims.getValue("role");
      if (Identity.SERVICE_ROLE.equals(role)) {
        return refused("a service_role token is for the admin API, not for chat connections");
      }
      return Future.succeededFuture(new Identity(sub, token, DisplayName.of(claims), expiresAtMs(claims),
          role instanceof String r ? r : null, false));
    });
  }

  @Override
  public Future<Identity> authenticateService(String token) {
    if (token == null) {
      return refused("a service_role token is required");
    }
    return verified(token).compose(claims -> {
      Object iss = claims.getValue("iss");
      if (issuer != null && !issuer.equals(iss) && !SUPABASE_KEY_ISSUER.equals(iss)) {
        return refused("token of another issuer");
      }
      if (!Identity.SERVICE_ROLE.equals(claims.getValue("role"))) {
        return Future.failedFuture(new ProtocolException(ErrorCode.FORBIDDEN, "needs a service_role token"));
      }
      String sub = claims.getValue("sub") instanceof String s && !s.isBlank() ? s : Identity.SERVICE_ROLE;
      return Future.succeededFuture(new Identity(sub, token, null, expiresAtMs(claims), Identity.SERVICE_ROLE, false));
    });
  }

  /** Signature and time claims; the claims on success. */
  private Future<JsonObject> verified(String token) {
    String[] parts = token.split("\\.", -1);
    if (parts.length != 3) {
      return refused("not a JWT");
    }
    JsonObject header;
    JsonObject claims;
    byte[] signature;
    try {
      header = new JsonObject(new String(B64.decode(parts[0]), StandardCharsets.UTF_8));
      claims = new JsonObject(new String(B64.decode(parts[1]), StandardCharsets.UTF_8));
      signature = B64.decode(parts[2]);
    } catch (IllegalArgumentException | DecodeException | ClassCastException e) {
      return refused("malformed JWT");
    }
    if (!(header.getValue("alg") instanceof String alg) || header.containsKey("crit")) {
      return refused("JWT header without alg, or with crit extensions");
    }
    Object kidValue = header.getValue("kid");
    if (kidValue != null && !(kidValue instanceof String)) {
      return refused("malformed kid");
    }
    Future<JwtKey> key;
    if (JwtKey.HS256.equals(alg)) {
      key = secret != null ? Future.succeededFuture(secret) : refused("HS256 tokens are not accepted here");
    } else if (jwks == null) {
      return refused("only HS256 tokens are accepted here");
    } else if (!JwtKey.RS256.equals(alg) && !JwtKey.ES256.equals(alg)) {
      return refused("unsupported alg");
    } else {
      key = jwks.key(keySource(claims), (String) kidValue);
    }
    byte[] input = (parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII);
    return key.compose(k -> {
      if (!k.alg().equals(alg)) {
        return refused("bad signature");
      }
      // HMAC takes microseconds; public-key checks go to a worker
      Future<Boolean> valid = k.alg().equals(JwtKey.HS256) ? Future.succeededFuture(k.verify(input, signature))
          : offload.run(() -> k.verify(input, signature));
      return valid.compose(ok -> ok ? timeChecked(claims) : refused("bad signature"));
    });
  }

  /**
   * Which key source a token may use: with an issuer configured the token's {@code iss} must be it
   * (the JWKS is that issuer's), so a kid another issuer also uses never selects these keys.
   */
  private String keySource(JsonObject claims) {
    if (issuer == null) {
      return jwks.source();
    }
    Object iss = claims.getValue("iss");
    return iss instanceof String s ? s : "";
  }

  private Future<JsonObject> timeChecked(JsonObject claims) {
    long now = millis.getAsLong();
    Long exp = epochMs(claims, "exp");
    Long nbf = epochMs(claims, "nbf");
    Long iat = epochMs(claims, "iat");
    if (exp == null || (claims.containsKey("nbf") && nbf == null) || (claims.containsKey("iat") && iat == null)) {
      return refused("token without a numeric exp, or with a non-numeric nbf/iat");
    }
    if (now > exp + skewMs) {
      return refused("token expired");
    }
    if ((nbf != null && nbf > now + skewMs) || (iat != null && iat > now + skewMs)) {
      return refused("token not valid yet (nbf/iat in the future); check the clocks");
    }
    return Future.succeededFuture(claims);
  }

  private static long expiresAtMs(JsonObject claims) {
    return epochMs(claims, "exp");
  }

  private static Long epochMs(JsonObject claims, String name) {
    if (claims.getValue(name) instanceof Number n) {
      double ms = n.doubleValue() * 1000;
      return Double.isFinite(ms) ? (long) ms : null;
    }
    return null;
  }

  private boolean audienceMatches(Object aud) {
    if (aud instanceof String s) {
      return s.equals(audience);
    }
    return aud instanceof JsonArray list && list.contains(audience);
  }

  private static <T> Future<T> refused(String message) {
    return Future.failedFuture(new ProtocolException(ErrorCode.UNAUTHORIZED, message));
  }
}
