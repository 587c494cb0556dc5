package io.switchboard.relay.auth;

import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.ProtocolException;
import io.switchboard.relay.config.AuthOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's authenticator, chosen from {@link AuthOptions}: guest tokens ({@code g1.…}) and
 * no token go to the guests when they are allowed, anything else to the JWT verifier when one is
 * configured; whatever has no taker is {@code unauthorized}.
 */
public final class CompositeAuthenticator implements Authenticator {
  private static final Logger LOG = LoggerFactory.getLogger(CompositeAuthenticator.class);

  private final GuestAuthenticator guests;
  private final JwtAuthenticator jwt;

  /** @param guests null when guests are off; @param jwt null when no JWT setting is given */
  public CompositeAuthenticator(GuestAuthenticator guests, JwtAuthenticator jwt) {
    this.guests = guests;
    this.jwt = jwt;
  }

  /** Builds what the options ask for; {@code guestSecret} is the relay's persistent secret. */
  public static CompositeAuthenticator create(Vertx vertx, AuthOptions options, byte[] guestSecret, LongSupplier millis) {
    GuestAuthenticator guests = !options.guestsAllowed() ? null
        : new GuestAuthenticator(guestSecret, options.getGuestTokenTtlSeconds() * 1000,
            options.getClockSkewSeconds() * 1000, millis);
    JwtAuthenticator jwt = null;
    if (options.jwtConfigured()) {
      JwksCache jwks = null;
      if (options.getJwksUrl() != null) {
        String source = options.getIssuer() != null ? options.getIssuer() : options.getJwksUrl();
        jwks = new JwksCache(source, new JwksFetcher(vertx, options.getJwksUrl()),
            options.getJwksRefetchIntervalMs(), millis);
      }
      if (options.getIssuer() == null) {
        LOG.warn("auth.issuer (SWITCHBOARD_AUTH_ISSUER) is not set: the iss claim of JWTs is not checked; set it to "
            + "your issuer (Supabase: https://<project>.supabase.co/auth/v1)");
      }
      jwt = new JwtAuthenticator(options, jwks, millis);
    }
    LOG.info("authentication: {}{}{}", jwt == null ? "" : "JWT (" + (options.getJwksUrl() != null ? "JWKS" : "")
            + (options.getJwksUrl() != null && options.getJwtSecret() != null ? " + " : "")
            + (options.getJwtSecret() != null ? "HS256 secret" : "") + ")",
        jwt != null && guests != null ? ", " : "", guests == null ? "" : "guests");
    return new CompositeAuthenticator(guests, jwt);
  }

  @Override
  public Future<Identity> authenticate(String token) {
    if (token == null || GuestAuthenticator.isGuestToken(token)) {
      if (guests == null) {
        return refused(token == null ? "this relay needs a token (guests are off)" : "guests are off on this relay");
      }
      return guests.authenticate(token);
    }
    if (jwt == null) {
      return refused("token not recognised; send hello without a token for a new guest identity");
    }
    return jwt.authenticate(token);
  }

  @Override
  public Future<Identity> authenticateService(String token) {
    return jwt == null ? refused("no JWT verification is configured") : jwt.authenticateService(token);
  }

  private static <T> Future<T> refused(String message) {
    return Future.failedFuture(new ProtocolException(ErrorCode.UNAUTHORIZED, message));
  }
}
