package io.switchboard.relay.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.switchboard.protocol.ErrorCode;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The relay's metric catalogue (Prometheus renders the dotted names snake_case, e.g.
 * {@code switchboard_messages_in_total}). docs/operations.md lists them.
 */
public final class RelayMetrics {
  private final MeterRegistry registry;
  private final Map<String, Counter> framesIn = new HashMap<>();
  private final EnumMap<ErrorCode, Counter> errors = new EnumMap<>(ErrorCode.class);
  private final Map<String, Counter> disconnects = new HashMap<>();
  private final Counter messagesIn;
  private final Counter deliveries;
  private final Counter duplicates;
  private final Counter unreadSent;
  private final DistributionSummary fanout;

  public RelayMetrics(MeterRegistry registry) {
    this.registry = registry;
    for (String type : new String[] {"hello", "join", "leave", "mode", "send", "history", "ping", "invalid"}) {
      framesIn.put(type, Counter.builder("switchboard.frames.in").description("Client frames received, by type")
          .tag("type", type).register(registry));
    }
    for (ErrorCode code : ErrorCode.values()) {
      errors.put(code, Counter.builder("switchboard.errors").description("Error frames sent, by code")
          .tag("code", code.wire()).register(registry));
    }
    messagesIn = Counter.builder("switchboard.messages.in").description("Messages sequenced (sends accepted)")
        .register(registry);
    deliveries = Counter.builder("switchboard.messages.out").description("msg frames handed to connections")
        .register(registry);
    duplicates = Counter.builder("switchboard.messages.duplicates")
        .description("Resends answered with the original seq").register(registry);
    unreadSent = Counter.builder("switchboard.unread.out").description("unread summaries sent").register(registry);
    fanout = DistributionSummary.builder("switchboard.fanout.size").description("Receivers per message")
        .register(registry);
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

  public void duplicate() {
    duplicates.increment();
  }

  public void unread() {
    unreadSent.increment();
  }
}
