package io.switchboard.relay.cluster.forward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.ProtocolException;
import io.switchboard.protocol.ServerFrame;
import io.switchboard.relay.TestClient;
import io.switchboard.relay.room.Member;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What a room hands a proxy member (frames, group deliveries, refusals, removals) reaches the
 * origin node's address in the order each room (each calling loop) handed it over, whichever loops
 * call at once; and one group delivery is one bus message for all of the node's members. The event
 * bus is Vert.x's own (not clustered here: the multi-JVM ForwardingTest covers the network).
 */
class RemoteMemberOrderTest {
  private static final int PER_LOOP = 2_000;
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    TestClient.sync(vertx.close(), 10);
  }

  private ContextInternal loop() {
    return ((VertxInternal) vertx).contextBuilder().withThreadingModel(ThreadingModel.EVENT_LOOP).build();
  }

  @Test
  void callsFromSeveralLoopsArriveInEachLoopsOrderAndAGroupIsOneMessage() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Bus bus = new Bus(vertx.eventBus(), loop(), registry);
    List<JsonObject> received = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch registered = new CountDownLatch(1);
    vertx.eventBus().<JsonObject>consumer(Bus.connAddress("origin"), m -> received.add(m.body()))
        .completion().onComplete(ar -> registered.countDown());
    registered.await();
    OriginLink link = new OriginLink(bus, "origin");
    RemoteMember a = new RemoteMember(link, new RoomOpCodec.Sender("s-a", "alice", null, "h", "x", null));
    RemoteMember b = new RemoteMember(link, new RoomOpCodec.Sender("s-b", "bob", null, "h", "x", null));
    List<ContextInternal> rooms = List.of(loop(), loop(), loop());
    for (int r = 0; r < rooms.size(); r++) {
      String room = "room-" + r;
      rooms.get(r).runOnContext(v -> {
        for (int i = 0; i < PER_LOOP; i++) {
          String tag = room + " " + i;
          switch (i % 4) {
            case 0 -> a.sendText(tag, ServerFrame.Priority.LIVE);
            case 1 -> a.loop().deliver(List.<Member>of(a, b), tag);
            case 2 -> b.refused(new ProtocolException(ErrorCode.NOT_JOINED, tag, (long) i));
            default -> b.removedFrom(tag);
          }
        }
      });
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> received.size() == rooms.size() * PER_LOOP);

    Map<String, Integer> next = new HashMap<>();
    for (JsonObject m : received) {
      String tag = switch (m.getString("k")) {
        case "f", "g" -> m.getString("x");
        case "e" -> m.getString("m");
        case "rm" -> m.getString("r");
        default -> throw new AssertionError("unexpected " + m.encode());
      };
      String room = tag.substring(0, tag.indexOf(' '));
      int i = Integer.parseInt(tag.substring(tag.indexOf(' ') + 1));
      assertThat(i).as("%s after %s", tag, next.get(room)).isEqualTo(next.getOrDefault(room, 0));
      next.put(room, i + 1);
      if ("g".equals(m.getString("k"))) {
        assertThat(m.getJsonArray("ss").getList()).containsExactly("s-a", "s-b");
      }
    }
    assertThat(registry.counter("switchboard.cluster.bus.sent", "kind", "group").count())
        .as("one bus message per group delivery, not one per member").isEqualTo(rooms.size() * PER_LOOP / 4.0);
  }

  @Test
  void aClosedProxySendsNothing() throws Exception {
    Bus bus = new Bus(vertx.eventBus(), loop(), new SimpleMeterRegistry());
    List<JsonObject> received = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch registered = new CountDownLatch(1);
    vertx.eventBus().<JsonObject>consumer(Bus.connAddress("origin"), m -> received.add(m.body()))
        .completion().onComplete(ar -> registered.countDown());
    registered.await();
    RemoteMember a = new RemoteMember(new OriginLink(bus, "origin"),
        new RoomOpCodec.Sender("s-a", "alice", null, "h", "x", null));
    a.close();
    a.sendText("x", ServerFrame.Priority.LIVE);
    a.slowConsumer();
    a.refused(new ProtocolException(ErrorCode.NOT_JOINED, "x"));
    a.removedFrom("r");
    a.send(new ServerFrame.Pong(1L, 0));
    RemoteMember b = new RemoteMember(new OriginLink(bus, "origin"),
        new RoomOpCodec.Sender("s-b", "bob", null, "h", "x", null));
    b.sendText("marker", ServerFrame.Priority.LIVE);
    await().atMost(Duration.ofSeconds(5)).until(() -> !received.isEmpty());
    assertThat(received).extracting(m -> m.getString("s")).containsExactly("s-b");
    assertThat(a.isClosed()).isTrue();
  }
}
