package io.switchboard.relay.config;

import io.switchboard.relay.limits.TrustedProxies;
import io.vertx.core.json.JsonObject;

/**
 * Per-client-address limits (connections, handshakes, HTTP API requests, room loads, TURN
 * credentials), the global cap on concurrent history reads, and the proxies whose
 * {@code X-Forwarded-For} is believed. Loopback is not exempt: tests and benches that open many
 * connections from 127.0.0.1 raise these explicitly. Environment: {@code SWITCHBOARD_LIMITS_*}.
 */
public final class LimitsOptions {
  public static final int DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 200;
  public static final int DEFAULT_HANDSHAKES_PER_ADDRESS_PER_SECOND = 20;
  public static final int DEFAULT_HANDSHAKE_BURST = 50;
  public static final int DEFAULT_HTTP_REQUESTS_PER_ADDRESS_PER_SECOND = 50;
  public static final int DEFAULT_HTTP_BURST = 100;
  public static final int DEFAULT_ROOM_LOADS_PER_ADDRESS_PER_SECOND = 20;
  public static final int DEFAULT_ROOM_LOAD_BURST = 100;
  public static final int DEFAULT_TURN_CREDENTIALS_PER_ADDRESS_PER_MINUTE = 30;
  public static final int DEFAULT_TURN_CREDENTIAL_BURST = 30;
  public static final int DEFAULT_MAX_CONCURRENT_HISTORY_READS = 2;
  public static final int DEFAULT_MAX_TRACKED_ADDRESSES = 100_000;
  public static final String DEFAULT_TRUSTED_PROXIES = "";

  private int maxConnectionsPerAddress = DEFAULT_MAX_CONNECTIONS_PER_ADDRESS;
  private int handshakesPerAddressPerSecond = DEFAULT_HANDSHAKES_PER_ADDRESS_PER_SECOND;
  private int handshakeBurst = DEFAULT_HANDSHAKE_BURST;
  private int httpRequestsPerAddressPerSecond = DEFAULT_HTTP_REQUESTS_PER_ADDRESS_PER_SECOND;
  private int httpBurst = DEFAULT_HTTP_BURST;
  private int roomLoadsPerAddressPerSecond = DEFAULT_ROOM_LOADS_PER_ADDRESS_PER_SECOND;
  private int roomLoadBurst = DEFAULT_ROOM_LOAD_BURST;
  private int turnCredentialsPerAddressPerMinute = DEFAULT_TURN_CREDENTIALS_PER_ADDRESS_PER_MINUTE;
  private int turnCredentialBurst = DEFAULT_TURN_CREDENTIAL_BURST;
  private int maxConcurrentHistoryReads = DEFAULT_MAX_CONCURRENT_HISTORY_READS;
  private int maxTrackedAddresses = DEFAULT_MAX_TRACKED_ADDRESSES;
  private String trustedProxies = DEFAULT_TRUSTED_PROXIES;

  public LimitsOptions() {
  }

  public LimitsOptions(LimitsOptions other) {
    this(other.toJson());
  }

  public LimitsOptions(JsonObject json) {
    JsonObject known = toJson();
    for (String key : json.fieldNames()) {
      if (!known.containsKey(key)) {
        throw new IllegalArgumentException("unknown limits setting '" + key + "'; known: " + known.fieldNames());
      }
    }
    setMaxConnectionsPerAddress(json.getInteger("maxConnectionsPerAddress", maxConnectionsPerAddress));
    setHandshakesPerAddressPerSecond(json.getInteger("handshakesPerAddressPerSecond", handshakesPerAddressPerSecond));
    setHandshakeBurst(json.getInteger("handshakeBurst", handshakeBurst));
    setHttpRequestsPerAddressPerSecond(json.getInteger("httpRequestsPerAddressPerSecond", httpRequestsPerAddressPerSecond));
    setHttpBurst(json.getInteger("httpBurst", httpBurst));
    setRoomLoadsPerAddressPerSecond(json.getInteger("roomLoadsPerAddressPerSecond", roomLoadsPerAddressPerSecond));
    setRoomLoadBurst(json.getInteger("roomLoadBurst", roomLoadBurst));
    setTurnCredentialsPerAddressPerMinute(json.getInteger("turnCredentialsPerAddressPerMinute",
        turnCredentialsPerAddressPerMinute));
    setTurnCredentialBurst(json.getInteger("turnCredentialBurst", turnCredentialBurst));
    setMaxConcurrentHistoryReads(json.getInteger("maxConcurrentHistoryReads", maxConcurrentHistoryReads));
    setMaxTrackedAddresses(json.getInteger("maxTrackedAddresses", maxTrackedAddresses));
    setTrustedProxies(json.getString("trustedProxies", trustedProxies));
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("maxConnectionsPerAddress", maxConnectionsPerAddress)
        .put("handshakesPerAddressPerSecond", handshakesPerAddressPerSecond).put("handshakeBurst", handshakeBurst)
        .put("httpRequestsPerAddressPerSecond", httpRequestsPerAddressPerSecond).put("httpBurst", httpBurst)
        .put("roomLoadsPerAddressPerSecond", roomLoadsPerAddressPerSecond).put("roomLoadBurst", roomLoadBurst)
        .put("turnCredentialsPerAddressPerMinute", turnCredentialsPerAddressPerMinute)
        .put("turnCredentialBurst", turnCredentialBurst)
        .put("maxConcurrentHistoryReads", maxConcurrentHistoryReads)
        .put("maxTrackedAddresses", maxTrackedAddresses)
        .put("trustedProxies", trustedProxies);
  }

  private static int positive(String name, int value) {
    if (value < 1) {
      throw new IllegalArgumentException("limits." + name + " must be >= 1, was " + value);
    }
    return value;
  }

  public int getMaxConnectionsPerAddress() { return maxConnectionsPerAddress; }
  public LimitsOptions setMaxConnectionsPerAddress(int v) { maxConnectionsPerAddress = positive("maxConnectionsPerAddress", v); return this; }
  public int getHandshakesPerAddressPerSecond() { return handshakesPerAddressPerSecond; }
  public LimitsOptions setHandshakesPerAddressPerSecond(int v) { handshakesPerAddressPerSecond = positive("handshakesPerAddressPerSecond", v); return this; }
  public int getHandshakeBurst() { return handshakeBurst; }
  public LimitsOptions setHandshakeBurst(int v) { handshakeBurst = positive("handshakeBurst", v); return this; }
  public int getHttpRequestsPerAddressPerSecond() { return httpRequestsPerAddressPerSecond; }
  public LimitsOptions setHttpRequestsPerAddressPerSecond(int v) { httpRequestsPerAddressPerSecond = positive("httpRequestsPerAddressPerSecond", v); return this; }
  public int getHttpBurst() { return httpBurst; }
  public LimitsOptions setHttpBurst(int v) { httpBurst = positive("httpBurst", v); return this; }
  public int getRoomLoadsPerAddressPerSecond() { return roomLoadsPerAddressPerSecond; }
  public LimitsOptions setRoomLoadsPerAddressPerSecond(int v) { roomLoadsPerAddressPerSecond = positive("roomLoadsPerAddressPerSecond", v); return this; }
  public int getRoomLoadBurst() { return roomLoadBurst; }
  public LimitsOptions setRoomLoadBurst(int v) { roomLoadBurst = positive("roomLoadBurst", v); return this; }
  public int getTurnCredentialsPerAddressPerMinute() { return turnCredentialsPerAddressPerMinute; }
  public LimitsOptions setTurnCredentialsPerAddressPerMinute(int v) { turnCredentialsPerAddressPerMinute = positive("turnCredentialsPerAddressPerMinute", v); return this; }
  public int getTurnCredentialBurst() { return turnCredentialBurst; }
  public LimitsOptions setTurnCredentialBurst(int v) { turnCredentialBurst = positive("turnCredentialBurst", v); return this; }
  public int getMaxConcurrentHistoryReads() { return maxConcurrentHistoryReads; }
  public LimitsOptions setMaxConcurrentHistoryReads(int v) { maxConcurrentHistoryReads = positive("maxConcurrentHistoryReads", v); return this; }
  public int getMaxTrackedAddresses() { return maxTrackedAddresses; }
  public LimitsOptions setMaxTrackedAddresses(int v) { maxTrackedAddresses = positive("maxTrackedAddresses", v); return this; }
  public String getTrustedProxies() { return trustedProxies; }
  public LimitsOptions setTrustedProxies(String v) {
    TrustedProxies.parse(java.util.Objects.requireNonNull(v, "trustedProxies")); // fails early, naming the entry
    trustedProxies = v;
    return this;
  }

  public TrustedProxies trustedProxyList() {
    return TrustedProxies.parse(trustedProxies);
  }
}
