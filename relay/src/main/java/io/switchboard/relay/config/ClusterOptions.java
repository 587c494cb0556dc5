package io.switchboard.relay.config;

import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.List;

/**
 * Relays that form one cluster over Vert.x's clustered event bus on Hazelcast (TCP-IP join, no
 * multicast). No {@code members} means a single relay and no Hazelcast at all. Environment:
 * {@code SWITCHBOARD_CLUSTER_*}.
 */
public final class ClusterOptions {
  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = 5701;
  /** 0: any free port. */
  public static final int DEFAULT_BUS_PORT = 0;

  /** Comma-separated {@code host:port} of the members to join (this relay may be among them). */
  private String members;
  /** The address this relay's Hazelcast member binds and announces. */
  private String host = DEFAULT_HOST;
  private int port = DEFAULT_PORT;
  /** The port of the event bus's own TCP server (relay-to-relay messages), on {@code host}. */
  private int busPort = DEFAULT_BUS_PORT;

  public ClusterOptions() {
  }

  public ClusterOptions(ClusterOptions other) {
    this(other.toJson());
  }

  public ClusterOptions(JsonObject json) {
    JsonObject known = toJson();
    for (String key : json.fieldNames()) {
      if (!known.containsKey(key)) {
        throw new IllegalArgumentException("unknown cluster setting '" + key + "'; known: " + known.fieldNames());
      }
    }
    setMembers(json.getString("members", members));
    setHost(json.getString("host", host));
    setPort(json.getInteger("port", port));
    setBusPort(json.getInteger("busPort", busPort));
  }

  public JsonObject toJson() {
    return new JsonObject().put("members", members).put("host", host).put("port", port).put("busPort", busPort);
  }

  /** True when members are configured: the relay starts clustered. */
  public boolean enabled() {
    return members != null;
  }

  /** The configured members, each {@code host:port} as given. */
  public List<String> memberList() {
    return members == null ? List.of()
        : Arrays.stream(members.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  public String getMembers() { return members; }
  public ClusterOptions setMembers(String v) {
    members = v == null || v.isBlank() ? null : v.trim();
    for (String member : memberList()) {
      int colon = member.lastIndexOf(':');
      if (colon <= 0 || colon == member.length() - 1) {
        throw new IllegalArgumentException("cluster.members must be host:port entries separated by commas, was '" + v + "'");
      }
      port("cluster.members port", member.substring(colon + 1));
    }
    return this;
  }
  public String getHost() { return host; }
  public ClusterOptions setHost(String v) {
    if (v == null || v.isBlank()) {
      throw new IllegalArgumentException("cluster.host must not be empty");
    }
    host = v.trim();
    return this;
  }
  public int getPort() { return port; }
  public ClusterOptions setPort(int v) { port = port("cluster.port", Integer.toString(v)); return this; }
  public int getBusPort() { return busPort; }
  public ClusterOptions setBusPort(int v) {
    busPort = v == 0 ? 0 : port("cluster.busPort", Integer.toString(v));
    return this;
  }

  private static int port(String name, String raw) {
    int value;
    try {
      value = Integer.parseInt(raw);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be a port number, was '" + raw + "'");
    }
    if (value < 1 || value > 65535) {
      throw new IllegalArgumentException(name + " must be 1..65535, was " + value);
    }
    return value;
  }
}
