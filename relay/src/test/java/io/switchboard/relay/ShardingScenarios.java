package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.Counter;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClientOptions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * What sharding rooms over event loops must not change, run against a relay with several loops
 * ({@link ShardedRelayTest}) and with one ({@link SingleLoopRelayTest}): connections in rooms on
 * every shard see one order per room, get every ack, unread summaries and slow-consumer cuts.
 */
abstract class ShardingScenarios extends RelayTestBase {
  private static final int PER_SHARD = 2;

  /** Room names with {@code PER_SHARD} on every shard of a relay with {@code shards} loops. */
  static List<String> roomsOnEveryShard(String prefix, int shards) {
    int[] taken = new int[shards];
    List<String> rooms = new ArrayList<>();
    for (int i = 0; rooms.size() < PER_SHARD * shards; i++) {
      String name = prefix + i;
      int shard = RoomDirectory.shardOf(name, shards);
      if (taken[shard] < PER_SHARD) {
        taken[shard]++;
        rooms.add(name);
      }
    }
    return rooms;
  }

  private static int shards() {
    return relay.engine().shards();
  }

  @Test
  void everyMemberOfRoomsOnEveryShardSeesOneOrderPerRoomAndEveryAckIsStored() {
    List<String> rooms = roomsOnEveryShard("order-", shards());
    List<TestClient> clients = new ArrayList<>();
    for (int c = 0; c < 4; c++) {
      clients.add(member(rooms.toArray(String[]::new)));
    }
    if (shards() > 1) {
      // Vert.x hands new connections to the loops' servers in turn: sessions and rooms are spread
      assertThat(Arrays.stream(relay.engine().sessionsPerShard()).filter(n -> n > 0).count()).isGreaterThan(1);
      assertThat(Arrays.stream(relay.engine().rooms().sizes()).boxed()).allMatch(n -> n >= PER_SHARD);
    }
    int perRoom = 20;
    for (int i = 0; i < perRoom; i++) {
      for (String room : rooms) {
        for (int c = 0; c < clients.size(); c++) {
          clients.get(c).send(new JsonObject().put("t", "send").put("room", room).put("cid", "c" + c + "-" + i)
              .put("body", room + " " + c + " " + i));
        }
      }
    }
    // (room, seq) -> cid as each member saw it (its own messages through their acks)
    Map<String, TreeMap<Long, String>> agreed = new HashMap<>();
    int others = (clients.size() - 1) * perRoom * rooms.size();
    int own = perRoom * rooms.size();
    for (TestClient client : clients) {
      Map<String, Long> lastSeen = new HashMap<>();
      int msgs = 0;
      int stored = 0;
      while (msgs < others || stored < own) {
        JsonObject f = client.next(Duration.ofSeconds(20));
        String room = f.getString("room");
        if ("msg".equals(f.getString("t"))) {
          msgs++;
          long seq = f.getLong("seq");
          assertThat(seq).as("msgs of %s arrive in seq order", room).isGreaterThan(lastSeen.getOrDefault(room, 0L));
          lastSeen.put(room, seq);
          record(agreed, room, seq, f.getString("cid"));
        } else if ("ack".equals(f.getString("t")) && f.getBoolean("stored")) {
          stored++;
          record(agreed, room, f.getLong("seq"), f.getString("cid"));
        } else {
          assertThat(f.getString("t")).as("only msgs and acks: %s", f).isIn("ack", "presence");
        }
      }
    }
    for (String room : rooms) {
      TreeMap<Long, String> order = agreed.get(room);
      assertThat(order.keySet()).as("room %s: one gap-free order", room)
          .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, (long) perRoom * clients.size())
              .boxed().toList());
      assertThat(count("SELECT count(*) FROM messages WHERE room = $1", room)).isEqualTo((long) perRoom * clients.size());
    }
    // the gauges sum over shards
    assertThat(registry.find("switchboard.connections").gauge().value())
        .isEqualTo(Arrays.stream(relay.engine().sessionsPerShard()).sum()).isGreaterThanOrEqualTo(clients.size());
    assertThat(registry.find("switchboard.rooms").gauge().value())
        .isEqualTo(Arrays.stream(relay.engine().rooms().sizes()).sum()).isGreaterThanOrEqualTo(rooms.size());
  }

  /** Every member must have seen the same cid at a (room, seq): two different ones is a fork. */
  private static void record(Map<String, TreeMap<Long, String>> agreed, String room, long seq, String cid) {
    String before = agreed.computeIfAbsent(room, r -> new TreeMap<>()).putIfAbsent(seq, cid);
    assertThat(before == null ? cid : before).as("%s seq %d", room, seq).isEqualTo(cid);
  }

  @Test
  void aConnectionInBackgroundRoomsOnEveryShardGetsTheirUnreadSummaries() {
    List<String> rooms = roomsOnEveryShard("unread-", shards());
    TestClient sender = member(rooms.toArray(String[]::new));
    TestClient reader = client();
    reader.hello();
    for (String room : rooms) {
      reader.request(new JsonObject().put("t", "join").put("room", room).put("mode", "background"));
    }
    for (String room : rooms) {
      for (int i = 1; i <= 3; i++) {
        sender.sendMessage(room, room + "-" + i, "news " + i + " in " + room);
      }
    }
    Map<String, JsonObject> latest = new HashMap<>();
    while (latest.size() < rooms.size() || latest.values().stream().anyMatch(u -> u.getLong("count") < 3)) {
      JsonObject unread = reader.await("unread");
      latest.put(unread.getString("room"), unread);
    }
    for (String room : rooms) {
      assertThat(latest.get(room).getLong("lastSeq")).isEqualTo(3);
      assertThat(latest.get(room).getString("preview")).isEqualTo("news 3 in " + room);
    }
    assertThat(reader.skipped()).noneMatch(f -> "msg".equals(f.getString("t")));
  }

  @Test
  void aConnectionThatStopsReadingInRoomsOnEveryShardIsCutOnceAndLeavesThemAll() {
    List<String> rooms = roomsOnEveryShard("slow-", shards());
    TestClient sender = member(rooms.toArray(String[]::new));
    double cutBefore = slowConsumerCuts();
    try (RawWebSocket raw = RawWebSocket.connect(vertx, relay.port(), new NetClientOptions().setReceiveBufferSize(4096))) {
      raw.sendText("{\"t\":\"hello\"}");
      for (String room : rooms) {
        raw.sendText("{\"t\":\"join\",\"room\":\"" + room + "\"}");
      }
      await().atMost(Duration.ofSeconds(10))
          .until(() -> raw.serverFrameList().stream()
              .filter(f -> new String(f.payload(), StandardCharsets.UTF_8).contains("\"t\":\"joined\"")).count() == rooms.size());
      raw.pause();
      int sessions = relay.engine().sessionCount();
      String body = "y".repeat(12_000);
      // round robin over every shard's rooms until the relay decides (bounded: far past the 256 KB bound)
      for (int i = 0; i < 3_000 && slowConsumerCuts() == cutBefore; i++) {
        String room = rooms.get(i % rooms.size());
        sender.send(new JsonObject().put("t", "send").put("room", room).put("cid", "s" + i).put("body", body));
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> slowConsumerCuts() > cutBefore);
      await("it leaves every room, on every shard").atMost(Duration.ofSeconds(5))
          .until(() -> relay.engine().sessionCount() == sessions - 1
              && rooms.stream().allMatch(r -> relay.engine().rooms().get(r).members().size() == 1));
      raw.resume();
      assertThat(raw.awaitClosed(5_000)).isTrue();
    }
    assertThat(slowConsumerCuts() - cutBefore).as("cut once, however many shards fed it").isEqualTo(1);
    // the sender is unaffected in every room
    for (String room : rooms) {
      assertThat(sender.sendMessage(room, "after-" + room, "still here").getLong("seq")).isPositive();
    }
  }

  private static double slowConsumerCuts() {
    Counter c = registry.find("switchboard.disconnects").tag("reason", "slow_consumer").counter();
    return c == null ? 0 : c.count();
  }
}
