package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.relay.cluster.ClusterViews;
import io.switchboard.relay.cluster.RoomPlacement;
import io.switchboard.relay.config.P2pOptions;
import io.switchboard.relay.config.RelayOptions;
import io.switchboard.relay.store.StoreOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Rooms changing owner between two relays on one database (each alone, not clustered: the cluster
 * events are given to their views directly). A member that left the cluster has its rooms taken
 * over at once, and the storage fence stops it should it still be writing; a room handed over
 * cleanly keeps its epoch and head.
 */
class RoomMovesTest {
  /** Long: whatever happens here happens at once, never because a lease ran out. */
  private static final long LEASE_MS = 30_000;
  /** One guest secret: a client's token works on either relay. */
  private static final String SECRET = "moves-test-secret-0123456789abcdef";
  private static Path dir;
  private static SharedPostgres postgres;
  private static Vertx clientVertx;
  private static Vertx vertxA;
  private static Vertx vertxB;
  private static RelayVerticle relayA;
  private static RelayVerticle relayB;
  private static PrometheusMeterRegistry registryA;
  private final List<TestClient> clients = new ArrayList<>();

  @BeforeAll
  static void start() throws IOException {
    dir = Files.createTempDirectory("switchboard-moves");
    postgres = new SharedPostgres(dir);
    clientVertx = Vertx.vertx();
    vertxA = Vertx.vertx();
    vertxB = Vertx.vertx();
    registryA = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    // A holds a lone message 2 s before writing it, so messages can be caught sequenced but unstored
    relayA = deploy(vertxA, options(dir.resolve("a"), 2000), registryA);
    relayB = deploy(vertxB, options(dir.resolve("b"), 20), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  private static RelayOptions options(Path dataDir, long batchDelayMs) {
    return new RelayOptions().setHost("127.0.0.1").setPort(0).setAdminHost("127.0.0.1").setAdminPort(0).setSecret(SECRET)
        .setRateFramesPerSecond(10_000).setRateBurst(10_000).setLimits(RelayTestBase.generousLimits())
        .setStore(new StoreOptions().setDatabaseUrl(postgres.url()).setDataDir(dataDir.toString()).setLeaseMs(LEASE_MS)
            .setBatchMaxDelayMs(batchDelayMs).setPoolSize(2))
        .setP2p(new P2pOptions().setEnabled(false));
  }

  private static RelayVerticle deploy(Vertx vertx, RelayOptions options, PrometheusMeterRegistry registry) {
    RelayVerticle relay = new RelayVerticle(options, registry);
    TestClient.sync(vertx.deployVerticle(relay), 60);
    return relay;
  }

  @AfterAll
  static void stop() throws IOException {
    for (Vertx v : new Vertx[] {vertxA, vertxB, clientVertx}) {
      if (v != null) {
        TestClient.sync(v.close(), 30);
      }
    }
    if (postgres != null) {
      postgres.close();
    }
  }

  @AfterEach
  void closeClients() {
    for (TestClient c : clients) {
      try {
        c.close();
      } catch (RuntimeException | AssertionError ignored) {
        // already closed
      }
    }
    clients.clear();
  }

  private TestClient member(RelayVerticle relay) {
    TestClient c = TestClient.connect(clientVertx, relay.port());
    clients.add(c);
    c.hello();
    return c;
  }

  private static List<Row> query(String sql, Object... args) {
    List<Row> rows = new ArrayList<>();
    TestClient.sync(postgres.database().pool().preparedQuery(sql).execute(Tuple.from(args)), 10).forEach(rows::add);
    return rows;
  }

  private static List<String> stored(String room) {
    return query("SELECT seq || ':' || sender || '/' || cid FROM messages WHERE room = $1 ORDER BY seq", room)
        .stream().map(r -> r.getString(0)).toList();
  }

  private static JsonObject send(TestClient c, String room, String cid) {
    // with an id, as the SDK sends: a refusal then names it (ref)
    JsonObject frame = new JsonObject().put("t", "send").put("id", c.id()).put("room", room).put("cid", cid)
        .put("body", cid);
    c.send(frame);
    return frame;
  }

  /**
   * A split brain, or a frozen owner the others gave up on: B's view says A's member left, so B
   * takes A's room at once although A's lease runs for 30 s more and A keeps sequencing. A's
   * messages after the takeover are refused by the fence: no row, no stored ack, its members are
   * told to join again; B's seqs start above what A stored, so no seq names two messages.
   */
  @Test
  void aDepartedOwnersRoomIsTakenAtOnceAndTheFenceStopsTheOwnerWhileItStillWrites() {
    String room = "moves-departed";
    TestClient alice = member(relayA);
    TestClient carol = member(relayA);
    JsonObject before = alice.join(room);
    carol.join(room);
    assertThat(alice.sendMessage(room, "a1", "stored").getBoolean("stored")).isTrue();
    assertThat(carol.await("msg").getLong("seq")).isEqualTo(1);
    // sequenced and shown to carol, its write waiting for A's 2 s batch delay
    send(alice, room, "a2");
    assertThat(carol.await("msg").getLong("seq")).isEqualTo(2);

    ClusterViews.joinedAndLeft(relayB.cluster(), "node-a", relayA.incarnation());
    TestClient bob = member(relayB);
    long start = System.nanoTime();
    JsonObject taken = bob.join(room);
    long tookMs = (System.nanoTime() - start) / 1_000_000;
    assertThat(taken.getString("t")).as(taken.encode()).isEqualTo("joined");
    assertThat(tookMs).as("at once, not after A's 30 s lease").isLessThan(LEASE_MS / 6);
    assertThat(taken.getString("epoch")).as("an unclean takeover: a new epoch").isNotEqualTo(before.getString("epoch"));
    assertThat(taken.getLong("head")).isEqualTo(1);
    assertThat(bob.sendMessage(room, "b1", "the real seq 2").getLong("seq")).isEqualTo(2);

    // A knows nothing yet: it goes on sequencing (seq 3) until its writer meets the fence
    send(alice, room, "a3");
    assertThat(carol.await("msg").getLong("seq")).isEqualTo(3);
    JsonObject dropped = alice.await(f -> "error".equals(f.getString("t"))
        || "ack".equals(f.getString("t")) && Boolean.TRUE.equals(f.getBoolean("stored")));
    assertThat(dropped.getString("code")).as(dropped.encode()).isEqualTo("room_unavailable");
    assertThat(dropped.getString("room")).isEqualTo(room);
    assertThat(carol.await("error").getString("code")).isEqualTo("room_unavailable");
    assertThat(alice.poll(Duration.ofMillis(300))).as("no ack for a2 or a3").isNull();
    assertThat(stored(room)).containsExactly("1:" + alice.user() + "/a1", "2:" + bob.user() + "/b1");
    assertThat(query("SELECT owner FROM rooms WHERE name = $1", room).get(0).getString(0)).isEqualTo(relayB.incarnation());
    assertThat(relayA.engine().rooms().get(room)).isNull();
    assertThat(registryA.scrape()).containsPattern("switchboard_store_fenced_total(\\{[^}]*\\})? 2\\.0");

    // alice's outbox resends on B: each message stored once, after bob's
    alice.close();
    TestClient again = TestClient.connect(clientVertx, relayB.port());
    clients.add(again);
    again.hello(alice.token(), null);
    again.join(room);
    for (String cid : List.of("a2", "a3")) {
      again.send(new JsonObject().put("t", "send").put("room", room).put("cid", cid).put("body", cid).put("resend", true));
      assertThat(again.await(f -> "ack".equals(f.getString("t")) && cid.equals(f.getString("cid")) && f.getBoolean("stored"))
          .getLong("seq")).isGreaterThan(2);
    }
    assertThat(stored(room)).containsExactly("1:" + alice.user() + "/a1", "2:" + bob.user() + "/b1",
        "3:" + alice.user() + "/a2", "4:" + alice.user() + "/a3");
  }

  /**
   * Changes are fenced like messages (issue 17): after B took A's room over, A's edit commits
   * nothing and its member is told the room moved; B goes on from the rev A committed.
   */
  @Test
  void anOldOwnersChangeAfterATakeoverIsRefusedByTheFenceAndTheNewOwnerKeepsTheRev() {
    String room = "moves-change";
    TestClient alice = member(relayA);
    alice.join(room);
    assertThat(alice.sendMessage(room, "c1", "original").getBoolean("stored")).isTrue();
    assertThat(alice.request(new JsonObject().put("t", "react").put("room", room).put("seq", 1).put("emoji", "👍")
        .put("on", true)).getLong("rev")).isEqualTo(1);

    ClusterViews.joinedAndLeft(relayB.cluster(), "node-a", relayA.incarnation());
    TestClient bob = member(relayB);
    JsonObject taken = bob.join(room);
    assertThat(taken.getString("t")).as(taken.encode()).isEqualTo("joined");
    assertThat(taken.getLong("rev")).as("the rev A committed").isEqualTo(1);

    JsonObject refused = alice.request(new JsonObject().put("t", "edit").put("room", room).put("seq", 1)
        .put("body", "from the old owner"));
    assertThat(refused.getString("code")).as(refused.encode()).isEqualTo("room_unavailable");
    assertThat(query("SELECT body, rev FROM messages WHERE room = $1", room).get(0).getString(0)).isEqualTo("original");
    assertThat(relayA.engine().rooms().get(room)).isNull();

    JsonObject next = bob.request(new JsonObject().put("t", "edit").put("room", room).put("seq", 1).put("body", "x"));
    assertThat(next.getString("code")).as("bob is not the author").isEqualTo("forbidden");
    JsonObject react = bob.request(new JsonObject().put("t", "react").put("room", room).put("seq", 1).put("emoji", "👍")
        .put("on", true));
    assertThat(react.getLong("rev")).as("no rev given out twice across owners").isEqualTo(2);
    assertThat(react.getJsonArray("reactions").getJsonObject(0).getInteger("count")).isEqualTo(2);
  }

  private static boolean moving(RelayVerticle relay, String room) {
    ShardLoop shard = relay.engine().rooms().owner(room);
    return TestClient.sync(shard.call(() -> io.vertx.core.Future.succeededFuture(shard.rooms.rooms().moving(room))), 10);
  }

  private static boolean isError(JsonObject f, String code) {
    return "error".equals(f.getString("t")) && code.equals(f.getString("code"));
  }

  /**
   * A clean handover: the room stops sequencing at once (a send and a join get room_moved, without
   * effect), its unstored message is written and acked first, the lease is released with the epoch
   * kept, every member is told room_moved; another relay claims it at once in the same epoch and
   * head, and the refused message is stored once after its resend.
   */
  @Test
  void aHandedOverRoomKeepsItsEpochAndHeadAndLosesNothing() {
    String room = "moves-handover";
    TestClient alice = member(relayA);
    TestClient carol = member(relayA);
    JsonObject before = alice.join(room);
    carol.join(room);
    assertThat(alice.sendMessage(room, "a1", "stored").getBoolean("stored")).isTrue();
    assertThat(carol.await("msg").getLong("seq")).isEqualTo(1);
    // a2 is sequenced, its write waits for A's 2 s batch delay: the handover must wait for it
    send(alice, room, "a2");
    assertThat(carol.await("msg").getLong("seq")).isEqualTo(2);

    long start = System.nanoTime();
    io.vertx.core.Future<Boolean> handedOver = relayA.engine().handOver(room);
    assertThat(moving(relayA, room)).isTrue();
    JsonObject refused = alice.request(new JsonObject().put("t", "send").put("room", room).put("cid", "a3").put("body", "a3"));
    assertThat(refused.getString("code")).as(refused.encode()).isEqualTo("room_moved");
    TestClient dave = member(relayA);
    JsonObject daveRefused = dave.request(new JsonObject().put("t", "join").put("room", room));
    assertThat(daveRefused.getString("code")).as(daveRefused.encode()).isEqualTo("room_moved");
    assertThat(daveRefused.getString("room")).isEqualTo(room);

    assertThat(TestClient.sync(handedOver, 10)).isTrue();
    long tookMs = (System.nanoTime() - start) / 1_000_000;
    JsonObject acked = alice.await(f -> "ack".equals(f.getString("t")) || "error".equals(f.getString("t")));
    assertThat(acked.getString("cid")).as("the stored ack comes before room_moved: " + acked.encode()).isEqualTo("a2");
    assertThat(acked.getBoolean("stored")).isTrue();
    for (TestClient c : List.of(alice, carol)) {
      JsonObject moved = c.await(f -> "error".equals(f.getString("t")));
      assertThat(moved.getString("code")).as(moved.encode()).isEqualTo("room_moved");
      assertThat(moved.getString("room")).isEqualTo(room);
      assertThat(moved.containsKey("ref")).as("unsolicited").isFalse();
    }
    assertThat(tookMs).as("waited for the write, not for a lease").isLessThan(LEASE_MS / 6);
    assertThat(relayA.engine().rooms().get(room)).isNull();
    assertThat(moving(relayA, room)).isFalse();
    Row row = query("SELECT owner, epoch, durable_seq FROM rooms WHERE name = $1", room).get(0);
    assertThat(row.getString(0)).as("released").isNull();
    assertThat(row.getString(1)).isEqualTo(before.getString("epoch"));
    assertThat(row.getLong(2)).isEqualTo(2);
    // the membership ended on A: its connection forgot the room
    assertThat(alice.request(new JsonObject().put("t", "send").put("room", room).put("cid", "a4").put("body", "x"))
        .getString("code")).isEqualTo("not_joined");

    TestClient bob = member(relayB);
    long claimStart = System.nanoTime();
    JsonObject joined = bob.join(room);
    assertThat((System.nanoTime() - claimStart) / 1_000_000).as("claimed at once").isLessThan(LEASE_MS / 6);
    assertThat(joined.getString("epoch")).as("a clean handover keeps the epoch").isEqualTo(before.getString("epoch"));
    assertThat(joined.getLong("head")).isEqualTo(2);
    assertThat(joined.getJsonObject("reads").getMap()).as("the next owner loads the cursors A wrote (a2 moved alice's)")
        .containsEntry(alice.user(), 2).containsEntry(carol.user(), 0);
    // alice's outbox resends the refused a3 where the room is now: stored once, after a2
    TestClient again = TestClient.connect(clientVertx, relayB.port());
    clients.add(again);
    again.hello(alice.token(), null);
    again.join(room);
    again.send(new JsonObject().put("t", "send").put("room", room).put("cid", "a3").put("body", "a3").put("resend", true));
    assertThat(again.await(f -> "ack".equals(f.getString("t")) && f.getBoolean("stored")).getLong("seq")).isEqualTo(3);
    assertThat(stored(room)).containsExactly("1:" + alice.user() + "/a1", "2:" + alice.user() + "/a2",
        "3:" + alice.user() + "/a3");
  }

  /**
   * A member joins: every loaded room the placement now gives it is handed over (more rooms than
   * handovers run at once, each with a message still unwritten), the others stay untouched.
   */
  @Test
  void aMemberJoiningTakesItsRoomsAndOnlyThose() {
    String self = relayA.cluster().self();
    RoomPlacement withX = new RoomPlacement(List.of(self, "node-x"));
    List<String> leaving = new ArrayList<>();
    List<String> staying = new ArrayList<>();
    for (int i = 0; leaving.size() < RoomMoves.CONCURRENCY + 8 || staying.size() < 8; i++) {
      String room = "moves-join-" + i;
      List<String> to = withX.owner(room).equals("node-x") ? leaving : staying;
      if (to.size() < (to == leaving ? RoomMoves.CONCURRENCY + 8 : 8)) {
        to.add(room);
      }
    }
    List<String> all = new ArrayList<>(leaving);
    all.addAll(staying);
    TestClient alice = member(relayA);
    for (String room : all) {
      assertThat(alice.join(room).getString("t")).isEqualTo("joined");
    }
    // one message each, sequenced and waiting for A's batch delay when the member joins
    for (String room : all) {
      send(alice, room, "m-" + room);
    }
    long start = System.nanoTime();
    relayA.engine().contexts().get(0).runOnContext(v -> ClusterViews.joined(relayA.cluster(), "node-x"));
    try {
      List<String> movedRooms = new ArrayList<>();
      List<String> ackedRooms = new ArrayList<>();
      int refused = 0; // a send the handover overtook: refused without effect (the outbox resends it)
      while (movedRooms.size() < leaving.size() || ackedRooms.size() + refused < all.size()) {
        JsonObject f = alice.await(x -> "ack".equals(x.getString("t")) || "error".equals(x.getString("t")));
        if ("ack".equals(f.getString("t"))) {
          assertThat(f.getBoolean("stored")).as(f.encode()).isTrue();
          assertThat(movedRooms).as("acked before its room moved").doesNotContain(f.getString("room"));
          ackedRooms.add(f.getString("room"));
        } else {
          assertThat(f.getString("code")).as(f.encode()).isEqualTo("room_moved");
          if (f.containsKey("ref")) {
            refused++;
          } else {
            assertThat(f.getString("room")).as(f.encode()).isNotNull();
            movedRooms.add(f.getString("room"));
          }
        }
      }
      assertThat(staying).as("every room that stays acked its message").isSubsetOf(ackedRooms);
      long tookMs = (System.nanoTime() - start) / 1_000_000;
      assertThat(movedRooms).containsExactlyInAnyOrderElementsOf(leaving);
      assertThat(alice.poll(Duration.ofMillis(200))).as("nothing for the rooms that stay").isNull();
      assertThat(tookMs).isLessThan(LEASE_MS / 3);
      for (String room : leaving) {
        assertThat(relayA.engine().rooms().get(room)).isNull();
        // released; a room whose only send the handover refused was blank, and its row is forgotten
        List<Row> claim = query("SELECT owner FROM rooms WHERE name = $1", room);
        assertThat(claim.isEmpty() ? null : claim.get(0).getString(0)).as(room + " released").isNull();
      }
      for (String room : staying) {
        assertThat(relayA.engine().rooms().get(room)).isNotNull();
        assertThat(query("SELECT owner FROM rooms WHERE name = $1", room).get(0).getString(0))
            .isEqualTo(relayA.incarnation());
      }
      assertThat(query("SELECT count(*) FROM messages WHERE room LIKE 'moves-join-%'").get(0).getLong(0))
          .as("every acked message, no refused one").isEqualTo(ackedRooms.size());
    } finally {
      relayA.engine().contexts().get(0).runOnContext(v -> ClusterViews.left(relayA.cluster(), "node-x"));
    }
  }
}
