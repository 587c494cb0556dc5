package io.switchboard.relay.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.NatClass;
import io.switchboard.protocol.PeerPath;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The relay's metric catalogue (Prometheus renders the dotted names snake_case, e.g.
 * {@code switchboard_messages_in_total}). docs/operations.md lists them.
 */
// Called from every event loop: the maps filled lazily are concurrent, the others are only read.
public final class RelayMetrics {
  private final MeterRegistry registry;
  private final Map<String, Counter> framesIn = new HashMap<>(); // filled once, then only read
  private final EnumMap<ErrorCode, Counter> errors = new EnumMap<>(ErrorCode.class);
  private final Map<String, Counter> disconnects = new ConcurrentHashMap<>();
  private final Counter messagesIn;
  private final Counter deliveries;
  private final Counter duplicates;
  private final Counter batches;
  private final Counter batchedMessages;
  private final Counter unreadSent;
  private final DistributionSummary fanout;
  private final Counter signalsForwarded;
  private final Counter resultsIgnored;
  private final Map<String, Counter> steers = new ConcurrentHashMap<>();
  private final Map<String, Counter> results = new ConcurrentHashMap<>();
  private final Map<String, Counter> profiles = new ConcurrentHashMap<>();
  private final Map<PeerPath, Timer> setup = new EnumMap<>(PeerPath.class);
  private final Timer delivery;

  public RelayMetrics(MeterRegistry registry) {
    this.registry = registry;
    for (String type : new String[] {"hello", "join", "leave", "mode", "send", "history", "ping", "profile",
        "signal", "p2p-result", "batch", "grant", "revoke", "members", "encrypt", "auth", "read", "typing", "edit", "delete",
        "react", "invalid"}) {
      framesIn.put(type, Counter.builder("switchboard.frames.in").description("Client frames received, by type")
          .tag("type", type).register(registry));
    }
    for (ErrorCode code : ErrorCode.values()) {
      errors.put(code, Counter.builder("switchboard.errors").description("Error frames sent, by code")
          .tag("code", code.wire()).register(registry));
    }
    messagesIn = Counter.builder("switchboard.messages.in")
        .description("Messages sequenced (sends accepted and new batch items)").register(registry);
    batches = Counter.builder("switchboard.batches.in").description("batch frames accepted (every item acked)")
        .register(registry);
    batchedMessages = Counter.builder("switchboard.messages.batched")
        .description("Messages sequenced from batches (items the server had not seen)").register(registry);
    deliveries = Counter.builder("switchboard.messages.out").description("msg frames handed to connections")
        .register(registry);
    duplicates = Counter.builder("switchboard.messages.duplicates")
        .description("Resends answered with the original seq").register(registry);
    unreadSent = Counter.builder("switchboard.unread.out").description("unread summaries sent").register(registry);
    fanout = DistributionSummary.builder("switchboard.fanout.size").description("Receivers per message")
        .register(registry);
    signalsForwarded = Counter.builder("switchboard.signals.forwarded").description("signal frames forwarded to a peer")
        .register(registry);
    resultsIgnored = Counter.builder("switchboard.p2p.results.ignored")
        .description("p2p-result frames not counted (no steer awaiting a result for the pair, or this pair of users or addresses already counted in the learning window)").register(registry);
    delivery = Timer.builder("switchboard.delivery.latency")
        .description("From a send frame's arrival to its msg frames handed to the receivers' connections")
        .publishPercentiles(0.5, 0.99)
        .distributionStatisticExpiry(Duration.ofMinutes(1))
        .register(registry);
    ProcessMemory.register(registry);
    for (PeerPath path : PeerPath.values()) {
      setup.put(path, Timer.builder("switchboard.p2p.setup").description("Reported pair setup time, by path reached")
          .tag("path", path.wire()).register(registry));
    }
  }

  public void signalForwarded() {
    signalsForwarded.increment();
  }

  /** Tags are bounded: a handful of modes and reasons. */
  public void steer(PeerPath mode, String reason) {
    steers.computeIfAbsent(mode.wire() + "/" + reason, k -> Counter.builder("switchboard.steers")
        .description("steer decisions sent (one per pair and change)").tag("mode", mode.wire()).tag("reason", reason)
        .register(registry)).increment();
  }

  /** Tags are bounded: NAT class pairs (36) by steered mode and path. */
  public void p2pResult(String classPair, PeerPath steered, PeerPath path, long setupMs) {
    results.computeIfAbsent(classPair + "/" + steered.wire() + "/" + path.wire(),
        k -> Counter.builder("switchboard.p2p.results").description("Counted pair outcomes, by NAT class pair")
            .tag("pair", classPair).tag("steered", steered.wire()).tag("path", path.wire()).register(registry))
        .increment();
    setup.get(path).record(setupMs, TimeUnit.MILLISECONDS);
  }

  public void p2pResultIgnored() {
    resultsIgnored.increment();
  }

  public void profile(NatClass natClass) {
    profiles.computeIfAbsent(natClass.wire(), c -> Counter.builder("switchboard.profiles")
        .description("Profiles reported, by the NAT class the server derived").tag("class", c).register(registry))
        .increment();
  }

  public MeterRegistry registry() {
    return registry;
  }

  public void gauges(Supplier<Number> connections, Supplier<Number> rooms) {
    Gauge.builder("switchboard.connections", connections).description("Open WebSocket sessions").register(registry);
    Gauge.builder("switchboard.rooms", rooms).description("Rooms loaded on this node").register(registry);
  }

  public void frameIn(String type) {
    Counter c = framesIn.get(type);
    (c != null ? c : framesIn.get("invalid")).increment();
  }

  public void error(ErrorCode code) {
    errors.get(code).increment();
  }

  public void disconnect(String reason) {
    disconnects.computeIfAbsent(reason, r -> Counter.builder("switchboard.disconnects")
        .description("Connections closed by the server, by reason").tag("reason", r).register(registry)).increment();
  }

  public void message(int receivers) {
    messagesIn.increment();
    deliveries.increment(receivers);
    fanout.record(receivers);
  }

  /** A send was sequenced and handed to its receivers {@code nanos} after its frame arrived. */
  public void delivered(long nanos) {
    delivery.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** An accepted batch and how many of its items were new (the rest were duplicates). */
  public void batch(int sequenced) {
    batches.increment();
    batchedMessages.increment(sequenced);
  }

  public void duplicate() {
    duplicates.increment();
  }

  public void unread() {
    unreadSent.increment();
  }
}
