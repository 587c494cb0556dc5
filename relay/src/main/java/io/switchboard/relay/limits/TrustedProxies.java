package io.switchboard.relay.limits;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The proxies whose {@code X-Forwarded-For} is believed: IPs and CIDR ranges. Everyone else can
 * write anything into that header, so without a trusted proxy in front the TCP peer is the client.
 */
public final class TrustedProxies {
  private record Range(byte[] network, int prefix) {
    boolean contains(byte[] address) {
      if (address.length != network.length) {
        return false;
      }
      int full = prefix / 8;
      for (int i = 0; i < full; i++) {
        if (address[i] != network[i]) {
          return false;
        }
      }
      int rest = prefix % 8;
      if (rest == 0) {
        return true;
      }
      int mask = (0xff << (8 - rest)) & 0xff;
      return (address[full] & mask) == (network[full] & mask);
    }
  }

  private final List<Range> ranges;

  private TrustedProxies(List<Range> ranges) {
    this.ranges = List.copyOf(ranges);
  }

  public static final TrustedProxies NONE = new TrustedProxies(List.of());

  /**
   * Parses {@code "10.0.0.1, 192.168.0.0/16, 2001:db8::/32"}; empty means none.
   *
   * @throws IllegalArgumentException naming the entry that is not an IP or CIDR
   */
  public static TrustedProxies parse(String list) {
    List<Range> ranges = new ArrayList<>();
    for (String raw : list.split(",")) {
      String entry = raw.trim();
      if (entry.isEmpty()) {
        continue;
      }
      int slash = entry.indexOf('/');
      byte[] address = IpAddresses.parse(slash < 0 ? entry : entry.substring(0, slash));
      if (address == null) {
        throw new IllegalArgumentException("trustedProxies: '" + entry + "' is not an IP address or CIDR range");
      }
      int prefix = address.length * 8;
      if (slash >= 0) {
        try {
          prefix = Integer.parseInt(entry.substring(slash + 1));
        } catch (NumberFormatException e) {
          prefix = -1;
        }
        if (prefix < 0 || prefix > address.length * 8) {
          throw new IllegalArgumentException("trustedProxies: '" + entry + "' has an invalid prefix length");
        }
      }
      ranges.add(new Range(address, prefix));
    }
    return ranges.isEmpty() ? NONE : new TrustedProxies(ranges);
  }

  public boolean isEmpty() {
    return ranges.isEmpty();
  }

  public boolean contains(byte[] address) {
    if (address == null) {
      return false;
    }
    // An IPv4 client of a dual-stack socket shows up as ::ffff:a.b.c.d; match it against IPv4 ranges.
    byte[] a = address.length == 16 && IpAddresses.isV4Mapped(address) ? Arrays.copyOfRange(address, 12, 16) : address;
    for (Range r : ranges) {
      if (r.contains(a)) {
        return true;
      }
    }
    return false;
  }
}
