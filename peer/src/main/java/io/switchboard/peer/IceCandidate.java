package io.switchboard.peer;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One ICE candidate as carried in SDP: the value of an {@code a=candidate} attribute, which is also
 * what a browser's {@code RTCIceCandidate.candidate} holds, for example
 * {@code candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host} or
 * {@code candidate:2 1 udp 16777215 127.0.0.1 49160 typ relay raddr 127.0.0.1 rport 50000}.
 *
 * <p>{@link #parse} is strict (RFC 8839 §5.1 grammar, single spaces, IP literals only: no
 * hostnames, no mDNS names, so parsing never causes a DNS lookup) and rejects anything else with an
 * {@link IllegalArgumentException}. Extensions ({@code generation 0}, {@code ufrag …},
 * {@code network-id …}, {@code tcptype …}) are checked for shape and otherwise ignored.
 *
 * @param foundation 1–32 ice-chars
 * @param component component id, 1–256 (this peer uses only component 1)
 * @param transport {@code "udp"} or {@code "tcp"}, lower case
 * @param priority 1 – 2³¹−1
 * @param address the candidate's transport address
 * @param type {@code host}, {@code srflx}, {@code prflx} or {@code relay}
 * @param relatedAddress {@code raddr}/{@code rport}, or {@code null} when absent
 */
public record IceCandidate(
    String foundation,
    int component,
    String transport,
    long priority,
    InetSocketAddress address,
    String type,
    InetSocketAddress relatedAddress) {

  public static final String HOST = "host";
  public static final String SRFLX = "srflx";
  public static final String PRFLX = "prflx";
  public static final String RELAY = "relay";
  /** Longest candidate line accepted. */
  public static final int MAX_LENGTH = 512;

  private static final String PREFIX = "candidate:";
  private static final Set<String> TYPES = Set.of(HOST, SRFLX, PRFLX, RELAY);
  private static final Pattern ICE_CHARS = Pattern.compile("[A-Za-z0-9+/]{1,32}");
  private static final Pattern DIGITS = Pattern.compile("[0-9]{1,10}");
  private static final Pattern EXTENSION_TOKEN = Pattern.compile("[\\x21-\\x7e]{1,64}");
  private static final int MAX_EXTENSIONS = 16;

  public IceCandidate {
    if (foundation == null || !ICE_CHARS.matcher(foundation).matches()) {
      throw new IllegalArgumentException("candidate foundation must be 1-32 ice-chars: " + IpLiteral.abbreviate(foundation));
    }
    if (component < 1 || component > 256) {
      throw new IllegalArgumentException("candidate component id must be 1-256: " + component);
    }
    if (!"udp".equals(transport) && !"tcp".equals(transport)) {
      throw new IllegalArgumentException("candidate transport must be udp or tcp: " + IpLiteral.abbreviate(transport));
    }
    if (priority < 1 || priority > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("candidate priority must be 1 to 2^31-1: " + priority);
    }
    if (address == null || address.isUnresolved()) {
      throw new IllegalArgumentException("candidate address must be a resolved IP address");
    }
    InetAddress ip = address.getAddress();
    if (ip.isAnyLocalAddress() || ip.isMulticastAddress()) {
      throw new IllegalArgumentException("candidate address must be unicast: " + IpLiteral.format(ip));
    }
    if (address.getPort() == 0 && "udp".equals(transport)) {
      throw new IllegalArgumentException("udp candidate port must be 1-65535");
    }
    if (type == null || !TYPES.contains(type)) {
      throw new IllegalArgumentException("candidate type must be host, srflx, prflx or relay: " + IpLiteral.abbreviate(type));
    }
    if (relatedAddress != null && relatedAddress.isUnresolved()) {
      throw new IllegalArgumentException("candidate related address must be a resolved IP address");
    }
  }

  /** Whether this is a relayed (TURN) candidate. */
  public boolean isRelay() {
    return RELAY.equals(type);
  }

  /** The SDP attribute value, {@code candidate:…}; {@link #parse} of it gives back an equal record. */
  public String toSdp() {
    StringBuilder sb = new StringBuilder(96)
        .append(PREFIX).append(foundation)
        .append(' ').append(component)
        .append(' ').append(transport)
        .append(' ').append(priority)
        .append(' ').append(IpLiteral.format(address.getAddress()))
        .append(' ').append(address.getPort())
        .append(" typ ").append(type);
    if (relatedAddress != null) {
      sb.append(" raddr ").append(IpLiteral.format(relatedAddress.getAddress()))
          .append(" rport ").append(relatedAddress.getPort());
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    return toSdp();
  }

  /**
   * Parses a candidate attribute value.
   *
   * @throws IllegalArgumentException with a message saying what is wrong, for any malformed input
   */
  public static IceCandidate parse(String line) {
    if (line == null) {
      throw new IllegalArgumentException("candidate is null");
    }
    if (line.length() > MAX_LENGTH) {
      throw new IllegalArgumentException("candidate longer than " + MAX_LENGTH + " characters");
    }
    if (!line.startsWith(PREFIX)) {
      throw new IllegalArgumentException("candidate must start with 'candidate:': " + IpLiteral.abbreviate(line));
    }
    String[] t = line.substring(PREFIX.length()).split(" ", -1);
    if (t.length < 8) {
      throw new IllegalArgumentException("candidate has " + t.length + " fields, at least 8 expected: " + IpLiteral.abbreviate(line));
    }
    for (String token : t) {
      if (token.isEmpty()) {
        throw new IllegalArgumentException("candidate fields must be separated by single spaces: " + IpLiteral.abbreviate(line));
      }
    }
    String foundation = t[0];
    int component = (int) number(t[1], "component id", 256);
    String transport = t[2].toLowerCase(Locale.ROOT);
    long priority = number(t[3], "priority", Integer.MAX_VALUE);
    InetAddress ip = IpLiteral.parse(t[4], "candidate address");
    int port = (int) number(t[5], "port", 65535);
    if (!"typ".equals(t[6])) {
      throw new IllegalArgumentException("candidate field 7 must be 'typ': " + IpLiteral.abbreviate(t[6]));
    }
    String type = t[7];

    InetAddress raddr = null;
    int rport = -1;
    int extensions = 0;
    for (int i = 8; i < t.length; i += 2) {
      if (i + 1 >= t.length) {
        throw new IllegalArgumentException("candidate attribute '" + IpLiteral.abbreviate(t[i]) + "' has no value");
      }
      String name = t[i];
      String value = t[i + 1];
      switch (name) {
        case "raddr" -> {
          if (raddr != null || extensions > 0) {
            throw new IllegalArgumentException("candidate raddr must appear once, before extensions");
          }
          raddr = IpLiteral.parse(value, "candidate raddr");
        }
        case "rport" -> {
          if (raddr == null || rport >= 0) {
            throw new IllegalArgumentException("candidate rport must follow raddr, once");
          }
          rport = (int) number(value, "rport", 65535);
        }
        default -> {
          if (++extensions > MAX_EXTENSIONS) {
            throw new IllegalArgumentException("candidate has more than " + MAX_EXTENSIONS + " extensions");
          }
          if (!EXTENSION_TOKEN.matcher(name).matches() || !EXTENSION_TOKEN.matcher(value).matches()) {
            throw new IllegalArgumentException("candidate extension is not printable ASCII: " + IpLiteral.abbreviate(name));
          }
        }
      }
    }
    if (raddr != null && rport < 0) {
      throw new IllegalArgumentException("candidate raddr without rport");
    }
    return new IceCandidate(foundation, component, transport, priority, new InetSocketAddress(ip, port), type,
        raddr == null ? null : new InetSocketAddress(raddr, rport));
  }

  private static long number(String token, String what, long max) {
    if (!DIGITS.matcher(token).matches()) {
      throw new IllegalArgumentException("candidate " + what + " is not a number: " + IpLiteral.abbreviate(token));
    }
    long value = Long.parseLong(token); // at most 10 digits: cannot overflow
    if (value > max) {
      throw new IllegalArgumentException("candidate " + what + " out of range: " + value);
    }
    return value;
  }

  /** Two candidates are the same when their SDP forms are; avoids InetSocketAddress hostname quirks. */
  @Override
  public boolean equals(Object o) {
    return o instanceof IceCandidate other && toSdp().equals(other.toSdp());
  }

  @Override
  public int hashCode() {
    return Objects.hash(toSdp());
  }
}
