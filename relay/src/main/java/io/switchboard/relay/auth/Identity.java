package io.switchboard.relay.auth;

/**
 * Who is on a connection or behind an HTTP request.
 *
 * @param user the stable user id (a guest's {@code u-…}, a JWT's {@code sub})
 * @param token what the client sends in its next hello to stay this user (a guest token; a JWT as given)
 * @param name display name from the token ({@code user_metadata.name}, else the email's local part); null: none
 * @param expiresAtMs when the token stops being accepted (epoch ms); {@link Long#MAX_VALUE}: never
 * @param role the JWT's {@code role} claim ({@code authenticated}, {@code service_role}); null for guests
 * @param guest true for the relay's own guest identities
 */
public record Identity(String user, String token, String name, long expiresAtMs, String role, boolean guest) {
  public static final String SERVICE_ROLE = "service_role";

  public static Identity guest(String user, String token, long expiresAtMs) {
    return new Identity(user, token, null, expiresAtMs, null, true);
  }

  /** Supabase's service key: may use the admin API, never a chat connection's rooms as a user. */
  public boolean serviceRole() {
    return SERVICE_ROLE.equals(role);
  }
}
