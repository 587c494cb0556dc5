package io.switchboard.relay.config;

import io.switchboard.signaling.steer.SteeringOptions;
import io.switchboard.signaling.stun.StunOptions;
import io.switchboard.signaling.turn.TurnOptions;
import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.List;

/**
 * Peer-to-peer settings: the STUN service, TURN, steering and signaling limits. Lists are
 * comma-separated strings so one environment variable can carry them
 * ({@code SWITCHBOARD_P2P_TURN_URLS=turn:a:3478?transport=udp,turn:a:3478?transport=tcp}).
 */
public final class P2pOptions {
  /** STUN datagrams per second from one source IP (see StunOptions); past it they are dropped. */
  public static final int DEFAULT_STUN_RATE_PER_SOURCE = StunOptions.DEFAULT_RATE_PER_SOURCE;
  public static final int DEFAULT_STUN_BURST_PER_SOURCE = StunOptions.DEFAULT_BURST_PER_SOURCE;

  private boolean enabled = true;
  private String publicHost = "";
  private String stunAddresses = "0.0.0.0";
  private int stunPort = 3490;
  private int stunAltPort = 3491;
  private int stunRatePerSource = DEFAULT_STUN_RATE_PER_SOURCE;
  private int stunBurstPerSource = DEFAULT_STUN_BURST_PER_SOURCE;
  private String turnUrls = "";
  private String turnSecret;
  private long turnTtlSeconds = 3600;
  private int meshMax = 6;
  private int minSamples = 5;
  private double minSuccessRate = 0.2;
  private long learningWindowMs = 3_600_000;
  private int maxSignalBytes = 16 * 1024;
  private int signalRatePerSecond = 20;
  private int signalBurst = 60;

  public P2pOptions() {
  }

  public P2pOptions(JsonObject json) {
    JsonObject known = toJson();
    for (String key : json.fieldNames()) {
      if (!known.containsKey(key)) {
        throw new IllegalArgumentException("unknown p2p setting '" + key + "'; known: " + known.fieldNames());
      }
    }
    enabled = json.getBoolean("enabled", enabled);
    publicHost = json.getString("publicHost", publicHost);
    stunAddresses = json.getString("stunAddresses", stunAddresses);
    stunPort = json.getInteger("stunPort", stunPort);
    stunAltPort = json.getInteger("stunAltPort", stunAltPort);
    stunRatePerSource = json.getInteger("stunRatePerSource", stunRatePerSource);
    stunBurstPerSource = json.getInteger("stunBurstPerSource", stunBurstPerSource);
    turnUrls = json.getString("turnUrls", turnUrls);
    turnSecret = json.getString("turnSecret", turnSecret);
    turnTtlSeconds = json.getLong("turnTtlSeconds", turnTtlSeconds);
    meshMax = json.getInteger("meshMax", meshMax);
    minSamples = json.getInteger("minSamples", minSamples);
    minSuccessRate = json.getDouble("minSuccessRate", minSuccessRate);
    learningWindowMs = json.getLong("learningWindowMs", learningWindowMs);
    maxSignalBytes = json.getInteger("maxSignalBytes", maxSignalBytes);
    signalRatePerSecond = json.getInteger("signalRatePerSecond", signalRatePerSecond);
    signalBurst = json.getInteger("signalBurst", signalBurst);
    validate();
  }

  public JsonObject toJson() {
    return new JsonObject().put("enabled", enabled).put("publicHost", publicHost)
        .put("stunAddresses", stunAddresses).put("stunPort", stunPort).put("stunAltPort", stunAltPort)
        .put("stunRatePerSource", stunRatePerSource).put("stunBurstPerSource", stunBurstPerSource)
        .put("turnUrls", turnUrls).put("turnSecret", turnSecret).put("turnTtlSeconds", turnTtlSeconds)
        .put("meshMax", meshMax).put("minSamples", minSamples).put("minSuccessRate", minSuccessRate)
        .put("learningWindowMs", learningWindowMs).put("maxSignalBytes", maxSignalBytes)
        .put("signalRatePerSecond", signalRatePerSecond).put("signalBurst", signalBurst);
  }

  private void validate() {
    if (stunPort < 0 || stunPort > 65535 || stunAltPort < 0 || stunAltPort > 65535
        || (stunPort != 0 && stunPort == stunAltPort)) {
      throw new IllegalArgumentException("p2p.stunPort and p2p.stunAltPort must be two different ports 0-65535");
    }
    if (stunAddressList().isEmpty() || stunAddressList().size() > 2) {
      throw new IllegalArgumentException("p2p.stunAddresses takes one or two IP addresses");
    }
    if (stunRatePerSource < 1 || stunBurstPerSource < 1) {
      throw new IllegalArgumentException("p2p.stunRatePerSource and stunBurstPerSource must be positive");
    }
    turnOptions().validate();
    steeringOptions().validate();
    if (signalRatePerSecond < 1 || signalBurst < 1 || maxSignalBytes < 2) {
      throw new IllegalArgumentException("p2p.signalRatePerSecond, signalBurst and maxSignalBytes must be positive");
    }
  }

  /** The STUN part, in the form (and with the checks) of the signaling module. */
  public StunOptions stunOptions() {
    return new StunOptions().setAddresses(stunAddressList()).setPort(stunPort).setAltPort(stunAltPort)
        .setRatePerSource(stunRatePerSource).setBurstPerSource(stunBurstPerSource);
  }

  /** The TURN part, in the form (and with the checks) of the signaling module. */
  public TurnOptions turnOptions() {
    return new TurnOptions().setUrls(turnUrlList()).setSecret(turnSecret).setTtlSeconds(turnTtlSeconds);
  }

  public SteeringOptions steeringOptions() {
    return new SteeringOptions().setMeshMax(meshMax).setMinSamples(minSamples).setMinSuccessRate(minSuccessRate)
        .setLearningWindowMs(learningWindowMs);
  }

  /** Splits a comma-separated setting, dropping blanks. */
  static List<String> list(String value) {
    return value == null ? List.of() : Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  public boolean isEnabled() { return enabled; }
  public P2pOptions setEnabled(boolean enabled) { this.enabled = enabled; return this; }
  /** The host clients put in stun: URLs; empty means the host they connected to. */
  public String getPublicHost() { return publicHost; }
  public P2pOptions setPublicHost(String publicHost) { this.publicHost = publicHost; return this; }
  public String getStunAddresses() { return stunAddresses; }
  public List<String> stunAddressList() { return list(stunAddresses); }
  public P2pOptions setStunAddresses(String stunAddresses) { this.stunAddresses = stunAddresses; validate(); return this; }
  public int getStunPort() { return stunPort; }
  public P2pOptions setStunPort(int stunPort) { this.stunPort = stunPort; validate(); return this; }
  public int getStunAltPort() { return stunAltPort; }
  public P2pOptions setStunAltPort(int stunAltPort) { this.stunAltPort = stunAltPort; validate(); return this; }
  public int getStunRatePerSource() { return stunRatePerSource; }
  public P2pOptions setStunRatePerSource(int stunRatePerSource) { this.stunRatePerSource = stunRatePerSource; validate(); return this; }
  public int getStunBurstPerSource() { return stunBurstPerSource; }
  public P2pOptions setStunBurstPerSource(int stunBurstPerSource) { this.stunBurstPerSource = stunBurstPerSource; validate(); return this; }
  public String getTurnUrls() { return turnUrls; }
  public List<String> turnUrlList() { return list(turnUrls); }
  public P2pOptions setTurnUrls(String turnUrls) { this.turnUrls = turnUrls; validate(); return this; }
  public String getTurnSecret() { return turnSecret; }
  public P2pOptions setTurnSecret(String turnSecret) { this.turnSecret = turnSecret; validate(); return this; }
  public long getTurnTtlSeconds() { return turnTtlSeconds; }
  public P2pOptions setTurnTtlSeconds(long turnTtlSeconds) { this.turnTtlSeconds = turnTtlSeconds; validate(); return this; }
  public int getMeshMax() { return meshMax; }
  public P2pOptions setMeshMax(int meshMax) { this.meshMax = meshMax; validate(); return this; }
  public int getMinSamples() { return minSamples; }
  public P2pOptions setMinSamples(int minSamples) { this.minSamples = minSamples; validate(); return this; }
  public double getMinSuccessRate() { return minSuccessRate; }
  public P2pOptions setMinSuccessRate(double minSuccessRate) { this.minSuccessRate = minSuccessRate; validate(); return this; }
  public long getLearningWindowMs() { return learningWindowMs; }
  public P2pOptions setLearningWindowMs(long learningWindowMs) { this.learningWindowMs = learningWindowMs; validate(); return this; }
  public int getMaxSignalBytes() { return maxSignalBytes; }
  public P2pOptions setMaxSignalBytes(int maxSignalBytes) { this.maxSignalBytes = maxSignalBytes; validate(); return this; }
  public int getSignalRatePerSecond() { return signalRatePerSecond; }
  public P2pOptions setSignalRatePerSecond(int signalRatePerSecond) { this.signalRatePerSecond = signalRatePerSecond; validate(); return this; }
  public int getSignalBurst() { return signalBurst; }
  public P2pOptions setSignalBurst(int signalBurst) { this.signalBurst = signalBurst; validate(); return this; }
}
