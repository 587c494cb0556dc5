package io.switchboard.peer;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * Options for an {@link IcePeer}, in the Vert.x options shape: defaults as constants, a no-arg, a
 * copy and a {@link JsonObject} constructor, {@link #toJson()}, fluent setters that check their
 * argument.
 *
 * <table>
 *   <caption>Options</caption>
 *   <tr><th>name</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>allowedAddresses</td><td>(required)</td><td>local IP literals to gather host candidates
 *       on, e.g. {@code ["127.0.0.1"]}; nothing else is ever bound</td></tr>
 *   <tr><td>iceServers</td><td>none</td><td>STUN / TURN servers ({@link IceServer})</td></tr>
 *   <tr><td>relayOnly</td><td>false</td><td>offer, check and accept only relayed candidates
 *       (WebRTC's {@code iceTransportPolicy: "relay"})</td></tr>
 *   <tr><td>controlling</td><td>false</td><td>ICE role; exactly one side of a pair must control</td></tr>
 *   <tr><td>connectTimeoutMs</td><td>{@value #DEFAULT_CONNECT_TIMEOUT_MS}</td><td>bound on
 *       {@link IcePeer#connect}</td></tr>
 *   <tr><td>name</td><td>{@value #DEFAULT_NAME}</td><td>shown in logs and thread names</td></tr>
 * </table>
 */
public final class IcePeerOptions {

  public static final long DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
  public static final boolean DEFAULT_RELAY_ONLY = false;
  public static final boolean DEFAULT_CONTROLLING = false;
  public static final String DEFAULT_NAME = "peer";

  private List<String> allowedAddresses = List.of();
  private List<IceServer> iceServers = List.of();
  private boolean relayOnly = DEFAULT_RELAY_ONLY;
  private boolean controlling = DEFAULT_CONTROLLING;
  private long connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS;
  private String name = DEFAULT_NAME;

  public IcePeerOptions() {}

  public IcePeerOptions(IcePeerOptions other) {
    this.allowedAddresses = other.allowedAddresses;
    this.iceServers = other.iceServers;
    this.relayOnly = other.relayOnly;
    this.controlling = other.controlling;
    this.connectTimeoutMs = other.connectTimeoutMs;
    this.name = other.name;
  }

  /** Reads the {@link #toJson()} form; absent fields keep their defaults. */
  public IcePeerOptions(JsonObject json) {
    if (json.getValue("allowedAddresses") instanceof JsonArray a) {
      List<String> list = new ArrayList<>();
      a.forEach(o -> list.add(o instanceof String s ? s : String.valueOf(o)));
      setAllowedAddresses(list);
    }
    if (json.getValue("iceServers") instanceof JsonArray a) {
      List<IceServer> list = new ArrayList<>();
      for (Object o : a) {
        if (!(o instanceof JsonObject server)) {
          throw new IllegalArgumentException("iceServers entries must be objects");
        }
        list.add(IceServer.fromJson(server));
      }
      setIceServers(list);
    }
    setRelayOnly(json.getBoolean("relayOnly", DEFAULT_RELAY_ONLY));
    setControlling(json.getBoolean("controlling", DEFAULT_CONTROLLING));
    setConnectTimeoutMs(json.getLong("connectTimeoutMs", DEFAULT_CONNECT_TIMEOUT_MS));
    setName(json.getString("name", DEFAULT_NAME));
  }

  public JsonObject toJson() {
    JsonArray servers = new JsonArray();
    iceServers.forEach(s -> servers.add(s.toJson()));
    return new JsonObject()
        .put("allowedAddresses", new JsonArray(new ArrayList<>(allowedAddresses)))
        .put("iceServers", servers)
        .put("relayOnly", relayOnly)
        .put("controlling", controlling)
        .put("connectTimeoutMs", connectTimeoutMs)
        .put("name", name);
  }

  public List<String> getAllowedAddresses() {
    return allowedAddresses;
  }

  /** Local IP literals (no host names) to bind host candidates on; at least one is required. */
  public IcePeerOptions setAllowedAddresses(List<String> allowedAddresses) {
    if (allowedAddresses == null) {
      throw new IllegalArgumentException("allowedAddresses is null");
    }
    for (String address : allowedAddresses) {
      if (IpLiteral.parse(address, "allowed address").isAnyLocalAddress()) {
        throw new IllegalArgumentException("allowed address must be a concrete address, not the wildcard: " + address);
      }
    }
    this.allowedAddresses = List.copyOf(allowedAddresses);
    return this;
  }

  public List<IceServer> getIceServers() {
    return iceServers;
  }

  public IcePeerOptions setIceServers(List<IceServer> iceServers) {
    if (iceServers == null || iceServers.contains(null)) {
      throw new IllegalArgumentException("iceServers must be a list without nulls");
    }
    this.iceServers = List.copyOf(iceServers);
    return this;
  }

  public IcePeerOptions addIceServer(IceServer server) {
    List<IceServer> list = new ArrayList<>(iceServers);
    list.add(server);
    return setIceServers(list);
  }

  public boolean isRelayOnly() {
    return relayOnly;
  }

  /** Offer, pair and accept only relayed candidates: the "turn" steering mode. */
  public IcePeerOptions setRelayOnly(boolean relayOnly) {
    this.relayOnly = relayOnly;
    return this;
  }

  public boolean isControlling() {
    return controlling;
  }

  public IcePeerOptions setControlling(boolean controlling) {
    this.controlling = controlling;
    return this;
  }

  public long getConnectTimeoutMs() {
    return connectTimeoutMs;
  }

  public IcePeerOptions setConnectTimeoutMs(long connectTimeoutMs) {
    if (connectTimeoutMs <= 0) {
      throw new IllegalArgumentException("connectTimeoutMs must be positive: " + connectTimeoutMs);
    }
    this.connectTimeoutMs = connectTimeoutMs;
    return this;
  }

  public String getName() {
    return name;
  }

  public IcePeerOptions setName(String name) {
    if (name == null || name.isBlank() || name.length() > 64) {
      throw new IllegalArgumentException("name must be 1-64 characters");
    }
    this.name = name;
    return this;
  }

  /** Checks what the setters cannot check alone. */
  void validate() {
    if (allowedAddresses.isEmpty()) {
      throw new IllegalArgumentException(
          "allowedAddresses is required (e.g. [\"127.0.0.1\"]): the peer never picks interfaces on its own");
    }
    if (relayOnly && iceServers.stream().flatMap(s -> s.parsedUrls().stream()).noneMatch(u -> u.isTurn() && u.isSupported())) {
      throw new IllegalArgumentException("relayOnly needs at least one turn: server over UDP");
    }
  }

  @Override
  public String toString() {
    return "IcePeerOptions[name=" + name + ", allowedAddresses=" + allowedAddresses + ", iceServers=" + iceServers
        + ", relayOnly=" + relayOnly + ", controlling=" + controlling + ", connectTimeoutMs=" + connectTimeoutMs + "]";
  }
}
