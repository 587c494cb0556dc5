package io.switchboard.signaling.turn;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One TURN credential per user, reused while at least half its lifetime is left: every welcome and
 * steer of the same user names the same TURN user, so coturn's per-user quota ({@code user-quota})
 * counts a person rather than a connection. At most {@code maxUsers} are kept (least recently used
 * forgotten first). Confined to one thread.
 */
public final class CredentialCache {
  private final TurnCredentials issuer;
  private final Clock clock;
  private final Map<String, TurnCredentials.Credential> byUser;

  public CredentialCache(TurnCredentials issuer, Clock clock, int maxUsers) {
    if (maxUsers < 1) {
      throw new IllegalArgumentException("maxUsers must be >= 1");
    }
    this.issuer = issuer;
    this.clock = clock;
    this.byUser = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, TurnCredentials.Credential> eldest) {
        return size() > maxUsers;
      }
    };
  }

  /** The user's credential if at least half of the TTL is left on it, else null. */
  public TurnCredentials.Credential fresh(String user) {
    TurnCredentials.Credential c = byUser.get(user);
    return c != null && c.expiresAtEpochSeconds() - now() >= issuer.ttlSeconds() / 2 ? c : null;
  }

  /**
   * The user's credential while it is still valid at all (for when a new one may not be issued),
   * else null. A minute of margin: an ICE attempt takes seconds, a TURN allocation is refreshed
   * with the same credential only while it lives.
   */
  public TurnCredentials.Credential stillValid(String user) {
    TurnCredentials.Credential c = byUser.get(user);
    return c != null && c.expiresAtEpochSeconds() - now() >= 60 ? c : null;
  }

  /** A new credential for the user, remembered for reuse. */
  public TurnCredentials.Credential issue(String user) {
    TurnCredentials.Credential c = issuer.issue(user);
    byUser.put(user, c);
    return c;
  }

  public int size() {
    return byUser.size();
  }

  private long now() {
    return clock.instant().getEpochSecond();
  }
}
