package io.switchboard.relay.limits;

import java.util.HashMap;
import java.util.Map;

/**
 * Open connections per client address. An address is tracked only while it has one open, so the
 * map never outgrows the connections themselves. Confined to the relay's event loop.
 */
public final class ConnectionCounts {
  private final Map<String, Integer> open = new HashMap<>();

  /** Counts one more connection for {@code key}, unless it already has {@code max}. */
  public boolean tryOpen(String key, int max) {
    int current = open.getOrDefault(key, 0);
    if (current >= max) {
      return false;
    }
    open.put(key, current + 1);
    return true;
  }

  public void closed(String key) {
    open.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1);
  }

  public int count(String key) {
    return open.getOrDefault(key, 0);
  }

  public int addresses() {
    return open.size();
  }
}
