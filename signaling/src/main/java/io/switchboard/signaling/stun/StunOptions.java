package io.switchboard.signaling.stun;

import io.netty.util.NetUtil;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Options of the STUN service, in the style of Vert.x options classes.
 * <p>
 * One address: the server answers Binding requests on {@code port} and {@code altPort}, so a
 * client can compare its mapping across two server ports. Two addresses (A1, A2): sockets on
 * A1:port, A1:altPort, A2:port and A2:altPort, and the RFC 5780 behaviour-discovery attributes
 * (OTHER-ADDRESS, CHANGE-REQUEST) are on.
 * <p>
 * The default ports stay clear of coturn's (3478, 3479, 5349, 5350), so both can run on one host.
 */
public class StunOptions {

  public static final boolean DEFAULT_ENABLED = true;
  public static final List<String> DEFAULT_ADDRESSES = List.of("0.0.0.0");
  public static final int DEFAULT_PORT = 3490;
  public static final int DEFAULT_ALT_PORT = 3491;
  /**
   * Binding requests per second answered per source IP. A browser sends a handful per page load
   * (ICE gathering plus retransmissions); a NAT with many users behind one address stays far below.
   */
  public static final int DEFAULT_RATE_PER_SOURCE = 20;
  public static final int DEFAULT_BURST_PER_SOURCE = 40;

  private boolean enabled;
  private List<String> addresses;
  private int port;
  private int altPort;
  private int ratePerSource;
  private int burstPerSource;

  public StunOptions() {
    enabled = DEFAULT_ENABLED;
    addresses = DEFAULT_ADDRESSES;
    port = DEFAULT_PORT;
    altPort = DEFAULT_ALT_PORT;
    ratePerSource = DEFAULT_RATE_PER_SOURCE;
    burstPerSource = DEFAULT_BURST_PER_SOURCE;
  }

  public StunOptions(StunOptions other) {
    enabled = other.enabled;
    addresses = other.addresses;
    port = other.port;
    altPort = other.altPort;
    ratePerSource = other.ratePerSource;
    burstPerSource = other.burstPerSource;
  }

  /** Missing keys keep their defaults; values go through the setters, so bad ones are rejected. */
  public StunOptions(JsonObject json) {
    this();
    setEnabled(json.getBoolean("enabled", enabled));
    JsonArray list = json.getJsonArray("addresses");
    if (list != null) {
      List<String> values = new ArrayList<>();
      for (Object value : list) {
        if (!(value instanceof String s)) {
          throw new IllegalArgumentException("addresses must be strings, got " + value);
        }
        values.add(s);
      }
      setAddresses(values);
    }
    setPort(json.getInteger("port", port));
    setAltPort(json.getInteger("altPort", altPort));
    setRatePerSource(json.getInteger("ratePerSource", ratePerSource));
    setBurstPerSource(json.getInteger("burstPerSource", burstPerSource));
  }

  public JsonObject toJson() {
    return new JsonObject()
      .put("enabled", enabled)
      .put("addresses", new JsonArray(new ArrayList<>(addresses)))
      .put("port", port)
      .put("altPort", altPort)
      .put("ratePerSource", ratePerSource)
      .put("burstPerSource", burstPerSource);
  }

  public boolean isEnabled() {
    return enabled;
  }

  public StunOptions setEnabled(boolean enabled) {
    this.enabled = enabled;
    return this;
  }

  /** An unmodifiable list of one or two IP literals. */
  public List<String> getAddresses() {
    return addresses;
  }

  /**
   * One or two IP literals (no host names: a STUN server must know exactly which address it
   * answers from). One address may be the wildcard ({@code 0.0.0.0} or {@code ::}, the same): it
   * serves every IPv4 and IPv6 address of the host's up interfaces (link-local IPv6 excepted),
   * each from its own sockets, as found at start. Two addresses enable RFC 5780 and must then be two
   * different, concrete addresses of the same family.
   */
  public StunOptions setAddresses(List<String> addresses) {
    if (addresses == null || addresses.isEmpty() || addresses.size() > 2) {
      throw new IllegalArgumentException("addresses must hold one or two IP literals, got " + addresses);
    }
    List<InetAddress> parsed = new ArrayList<>();
    for (String address : addresses) {
      parsed.add(parseLiteral(address));
    }
    if (parsed.size() == 2) {
      InetAddress a1 = parsed.get(0);
      InetAddress a2 = parsed.get(1);
      if (a1.isAnyLocalAddress() || a2.isAnyLocalAddress()) {
        throw new IllegalArgumentException("with two addresses neither may be a wildcard: RFC 5780 needs to know "
          + "which address a response leaves from, got " + addresses);
      }
      if (a1.equals(a2)) {
        throw new IllegalArgumentException("the two addresses must differ, got " + addresses);
      }
      if (a1.getAddress().length != a2.getAddress().length) {
        throw new IllegalArgumentException("the two addresses must be of the same family, got " + addresses);
      }
    }
    this.addresses = List.copyOf(addresses);
    return this;
  }

  public int getPort() {
    return port;
  }

  /** UDP port of the primary sockets; 0 chooses a free port at each start. */
  public StunOptions setPort(int port) {
    this.port = requirePort("port", port);
    return this;
  }

  public int getAltPort() {
    return altPort;
  }

  /**
   * The second UDP port on every address; 0 chooses another free port at each start. Must differ
   * from {@code port} unless both are 0 (checked at start, so setters can run in any order).
   */
  public StunOptions setAltPort(int altPort) {
    this.altPort = requirePort("altPort", altPort);
    return this;
  }

  public int getRatePerSource() {
    return ratePerSource;
  }

  /**
   * Datagrams per second accepted from one source IP (a token bucket each); past it they are
   * dropped unanswered and counted as {@code rate_limited}, so the service cannot be used to
   * amplify traffic at a spoofed victim.
   */
  public StunOptions setRatePerSource(int ratePerSource) {
    this.ratePerSource = requirePositive("ratePerSource", ratePerSource);
    return this;
  }

  public int getBurstPerSource() {
    return burstPerSource;
  }

  /** The bucket size of {@link #setRatePerSource}: datagrams one source may send at once. */
  public StunOptions setBurstPerSource(int burstPerSource) {
    this.burstPerSource = requirePositive("burstPerSource", burstPerSource);
    return this;
  }

  /** Checks what no single setter can; {@link StunServer#start} calls it. */
  void validate() {
    if (port != 0 && port == altPort) {
      throw new IllegalArgumentException("port and altPort must differ, both are " + port);
    }
  }

  List<InetAddress> inetAddresses() {
    return addresses.stream().map(StunOptions::parseLiteral).toList();
  }

  private static InetAddress parseLiteral(String address) {
    InetAddress parsed = address == null ? null : NetUtil.createInetAddressFromIpAddressString(address.trim());
    if (parsed == null) {
      throw new IllegalArgumentException("not an IP literal: " + address);
    }
    return parsed;
  }

  private static int requirePositive(String name, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be positive, got " + value);
    }
    return value;
  }

  private static int requirePort(String name, int value) {
    if (value < 0 || value > 65535) {
      throw new IllegalArgumentException(name + " must be in 0..65535, got " + value);
    }
    return value;
  }
}
