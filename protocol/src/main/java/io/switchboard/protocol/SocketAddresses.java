package io.switchboard.protocol;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/** Validates IP literals from the network without ever resolving a name. */
public final class SocketAddresses {
  private static final Pattern IPV4 =
      Pattern.compile("((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)");
  private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]{2,45}");

  private SocketAddresses() {
  }

  /** An IPv4 dotted quad or an IPv6 literal (no brackets, no zone). */
  public static boolean isIp(String s) {
    if (IPV4.matcher(s).matches()) {
      return true;
    }
    if (!s.contains(":") || !IPV6_CHARS.matcher(s).matches()) {
      return false;
    }
    try {
      // With a ':' in it, getByName parses an IPv6 literal and never asks DNS.
      InetAddress.getByName(s);
      return true;
    } catch (UnknownHostException e) {
      return false;
    }
  }

  /** {@code 203.0.113.5:40000} or {@code [2001:db8::1]:40000}, port 1–65535. */
  public static boolean isIpAndPort(String s) {
    int colon = s.lastIndexOf(':');
    if (colon <= 0 || colon == s.length() - 1 || s.length() - colon > 6) {
      return false;
    }
    String ip = s.substring(0, colon);
    if (ip.startsWith("[") && ip.endsWith("]")) {
      ip = ip.substring(1, ip.length() - 1);
      if (!ip.contains(":")) {
        return false;
      }
    } else if (ip.contains(":")) {
      return false;
    }
    String port = s.substring(colon + 1);
    for (int i = 0; i < port.length(); i++) {
      if (port.charAt(i) < '0' || port.charAt(i) > '9') {
        return false;
      }
    }
    int p = Integer.parseInt(port);
    return p >= 1 && p <= 65535 && isIp(ip);
  }

  /** The IP part of a string {@link #isIpAndPort} accepted. */
  public static String ipOf(String ipAndPort) {
    String ip = ipAndPort.substring(0, ipAndPort.lastIndexOf(':'));
    return ip.startsWith("[") ? ip.substring(1, ip.length() - 1) : ip;
  }
}
