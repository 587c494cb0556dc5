package io.switchboard.relay.auth;

import io.vertx.core.Future;

/**
 * The seam for authentication: turns the token of a {@code hello}, an {@code auth} refresh or an
 * HTTP bearer into an identity.
 */
public interface Authenticator {
  /**
   * @param token the hello's token, or null for none
   * @return the identity, or a failed future with a {@code ProtocolException(UNAUTHORIZED)}
   */
  Future<Identity> authenticate(String token);

  /**
   * The admin API's bearer: a JWT with {@code role} = {@code service_role} (Supabase's service key),
   * verified with the same keys; a user's token, a guest token or anything else fails with
   * {@code ProtocolException(UNAUTHORIZED or FORBIDDEN)}.
   */
  Future<Identity> authenticateService(String token);
}
