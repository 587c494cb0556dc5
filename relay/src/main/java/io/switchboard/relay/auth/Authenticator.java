package io.switchboard.relay.auth;

import io.vertx.core.Future;

/**
 * The seam for authentication: turns the token of a {@code hello} into an identity. Guests for now
 * ({@link GuestAuthenticator}); a JWT or Supabase-auth implementation plugs in here later.
 */
public interface Authenticator {
  /**
   * @param token the hello's token, or null for none
   * @return the identity, or a failed future with a {@code ProtocolException(UNAUTHORIZED)}
   */
  Future<Identity> authenticate(String token);
}
