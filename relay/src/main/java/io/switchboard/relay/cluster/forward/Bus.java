package io.switchboard.relay.cluster.forward;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The clustered event bus as forwarding uses it: every message this node sends leaves from ONE
 * context, in the order it was handed over, so the bus's one connection per node keeps a
 * connection's operations and a room's frames in order (Vert.x orders sends per sending context).
 * Counts what it sends by kind.
 */
final class Bus {
  static final String ACCESS = "switchboard.access";

  private final EventBus eventBus;
  private final ContextInternal context;
  private final MeterRegistry registry;
  private final Map<String, Counter> sent = new ConcurrentHashMap<>();

  Bus(EventBus eventBus, ContextInternal context, MeterRegistry registry) {
    this.eventBus = eventBus;
    this.context = context;
    this.registry = registry;
  }

  /** Where a node takes room operations of other nodes' connections. */
  static String roomAddress(String node) {
    return "switchboard.room." + node;
  }

  /** Where a node takes frames and answers for its own connections. */
  static String connAddress(String node) {
    return "switchboard.conn." + node;
  }

  EventBus eventBus() {
    return eventBus;
  }

  ContextInternal context() {
    return context;
  }

  boolean inLoop() {
    return context.isRunningOnContext();
  }

  void execute(Runnable task) {
    if (context.isRunningOnContext()) {
      task.run();
    } else {
      context.runOnContext(v -> task.run());
    }
  }

  /** Point to point, after everything handed over before it. */
  void send(String address, String kind, JsonObject body) {
    count(kind);
    execute(() -> eventBus.send(address, body));
  }

  /**
   * Point to point like {@link #send}, and fails when no node takes {@code address} (a member whose
   * consumers the cluster does not know yet: a plain send would be dropped without a word).
   */
  Future<Void> request(String address, String kind, JsonObject body, long timeoutMs) {
    count(kind);
    Promise<Void> delivered = Promise.promise();
    execute(() -> eventBus.request(address, body, new DeliveryOptions().setSendTimeout(timeoutMs))
        .<Void>mapEmpty().onComplete(delivered));
    return delivered.future();
  }

  void publish(String address, String kind, JsonObject body) {
    count(kind);
    execute(() -> eventBus.publish(address, body));
  }

  private void count(String kind) {
    sent.computeIfAbsent(kind, k -> Counter.builder("switchboard.cluster.bus.sent").tag("kind", k)
        .description("messages this relay sent other relays on the event bus, by kind (ops: a client's room "
            + "operation forwarded to the room's owner; group: one live message for all of a node's members)")
        .register(registry)).increment();
  }
}
