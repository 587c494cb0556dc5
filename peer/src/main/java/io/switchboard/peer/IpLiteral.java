package io.switchboard.peer;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * Parses IP address literals without ever touching DNS.
 *
 * <p>{@link InetAddress#getByName} resolves anything that does not look like a literal, so hostile
 * input ("evil.example", mDNS names) would make this process send DNS queries. Here only strings
 * made of literal characters reach it: a dotted quad, or hex digits, colons and dots containing a
 * colon (which the JDK parses as an IPv6 literal or rejects, never looks up).
 */
final class IpLiteral {
  private static final Pattern IPV4 =
      Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
  private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]{2,45}");

  private IpLiteral() {}

  /** Whether {@code s} is an IPv4 or IPv6 literal (no brackets, no zone id). */
  static boolean isLiteral(String s) {
    return s != null && (IPV4.matcher(s).matches() || (IPV6_CHARS.matcher(s).matches() && s.indexOf(':') >= 0));
  }

  /**
   * The address for a literal.
   *
   * @throws IllegalArgumentException naming {@code what} if {@code s} is not a literal
   */
  static InetAddress parse(String s, String what) {
    if (!isLiteral(s)) {
      throw new IllegalArgumentException(what + " is not an IP address literal: " + abbreviate(s));
    }
    try {
      return InetAddress.getByName(s);
    } catch (UnknownHostException | RuntimeException e) {
      throw new IllegalArgumentException(what + " is not a valid IP address: " + abbreviate(s), e);
    }
  }

  /** The canonical text of an address as used in SDP: no brackets, no zone id. */
  static String format(InetAddress address) {
    String text = address.getHostAddress();
    int zone = text.indexOf('%');
    return zone < 0 ? text : text.substring(0, zone);
  }

  static boolean isIpv6(InetAddress address) {
    return address instanceof Inet6Address;
  }

  /** Hostile strings end up in exception messages; keep those short and printable. */
  static String abbreviate(String s) {
    if (s == null) {
      return "null";
    }
    StringBuilder out = new StringBuilder("'");
    int max = Math.min(s.length(), 80);
    for (int i = 0; i < max; i++) {
      char c = s.charAt(i);
      out.append(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return out.append(s.length() > max ? "…'" : "'").toString();
  }
}
