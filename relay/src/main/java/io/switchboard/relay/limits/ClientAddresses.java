package io.switchboard.relay.limits;

import java.util.List;

/**
 * Who the client is, for limits: the TCP peer, unless that peer is a trusted proxy; then the
 * right-most {@code X-Forwarded-For} entry that is not itself a trusted proxy (entries to its left
 * were written by whoever sent the request and prove nothing).
 */
public final class ClientAddresses {
  private final TrustedProxies trusted;

  public ClientAddresses(TrustedProxies trusted) {
    this.trusted = trusted;
  }

  /**
   * The limit key ({@link IpAddresses#limitKey(byte[])}) of the request's client.
   *
   * @param peer          the TCP peer's host (an IP literal)
   * @param forwardedFor  every {@code X-Forwarded-For} header value, in order (may be empty)
   */
  public String key(String peer, List<String> forwardedFor) {
    byte[] hop = IpAddresses.parse(peer);
    if (hop == null) {
      // A Unix socket or something stranger: all such clients share one key rather than none.
      return String.valueOf(peer);
    }
    if (!trusted.contains(hop) || forwardedFor.isEmpty()) {
      return IpAddresses.limitKey(hop);
    }
    for (int h = forwardedFor.size() - 1; h >= 0; h--) {
      String[] entries = forwardedFor.get(h).split(",");
      for (int i = entries.length - 1; i >= 0; i--) {
        byte[] entry = IpAddresses.parse(stripPort(entries[i].trim()));
        if (entry == null) {
          // A trusted proxy wrote something unreadable: the last address we could believe stands.
          return IpAddresses.limitKey(hop);
        }
        hop = entry;
        if (!trusted.contains(entry)) {
          return IpAddresses.limitKey(entry);
        }
      }
    }
    // Every hop was a trusted proxy: the left-most one is the closest to the client we know.
    return IpAddresses.limitKey(hop);
  }

  /** {@code 203.0.113.7:5000} and {@code [2001:db8::1]:5000} as some proxies write them. */
  static String stripPort(String entry) {
    if (entry.startsWith("[")) {
      int close = entry.indexOf(']');
      return close < 0 ? entry : entry.substring(0, close + 1);
    }
    int colon = entry.indexOf(':');
    if (colon > 0 && colon == entry.lastIndexOf(':') && entry.indexOf('.') > 0) {
      return entry.substring(0, colon);
    }
    return entry;
  }
}
