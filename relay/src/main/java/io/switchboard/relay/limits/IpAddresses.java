package io.switchboard.relay.limits;

import io.netty.util.NetUtil;

/**
 * IP literals without DNS: a header value that is not an address must never turn into a lookup.
 * The limit key groups IPv6 by /64, because one subscriber usually gets a whole /64 from its ISP
 * and can pick any address inside it.
 */
public final class IpAddresses {
  private IpAddresses() {
  }

  /** The 4 or 16 bytes of an IPv4 or IPv6 literal ({@code [..]} allowed), or null when it is none. */
  public static byte[] parse(String literal) {
    if (literal == null) {
      return null;
    }
    String s = literal.trim();
    if (s.startsWith("[") && s.endsWith("]")) {
      s = s.substring(1, s.length() - 1);
    }
    // Zone ids name a local interface: never a client's address worth a limit of its own.
    if (s.isEmpty() || s.indexOf('%') >= 0) {
      return null;
    }
    return NetUtil.createByteArrayFromIpAddressString(s);
  }

  /**
   * The key limits are counted under: an IPv4 address as itself (an IPv4-mapped IPv6 address too),
   * an IPv6 address as its /64 ({@code 2001:db8:0:1::/64}).
   */
  public static String limitKey(byte[] address) {
    if (address.length == 4) {
      return (address[0] & 0xff) + "." + (address[1] & 0xff) + "." + (address[2] & 0xff) + "." + (address[3] & 0xff);
    }
    if (address.length != 16) {
      throw new IllegalArgumentException("not an IP address: " + address.length + " bytes");
    }
    if (isV4Mapped(address)) {
      return limitKey(java.util.Arrays.copyOfRange(address, 12, 16));
    }
    StringBuilder out = new StringBuilder(24);
    for (int i = 0; i < 8; i += 2) {
      out.append(Integer.toHexString(((address[i] & 0xff) << 8) | (address[i + 1] & 0xff))).append(':');
    }
    return out.append(":/64").toString();
  }

  /** The limit key of a literal, or null when it is not one. */
  public static String limitKey(String literal) {
    byte[] address = parse(literal);
    return address == null ? null : limitKey(address);
  }

  static boolean isV4Mapped(byte[] a) {
    for (int i = 0; i < 10; i++) {
      if (a[i] != 0) {
        return false;
      }
    }
    return (a[10] & 0xff) == 0xff && (a[11] & 0xff) == 0xff;
  }
}
