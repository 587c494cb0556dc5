package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.switchboard.relay.FailoverInvariants.Epoch;
import io.switchboard.relay.FailoverInvariants.Msg;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 15's cross-node data path with real parts: three relays in child JVMs, clustered on
 * loopback, one Postgres. Clients connect to any relay; each room is sequenced by the node the
 * placement names, and the others forward their clients' room operations there over the event bus.
 * First the promises one by one (acks, presence, one order, history, resume, signals, unread, and
 * the owner's fanout crossing to each node once per message, counted on its {@code /metrics}), then
 * clients on every node in shared rooms judged by {@link FailoverInvariants}; last a room owner is
 * killed with SIGKILL mid-traffic: the clients of the survivors keep their sockets, get
 * {@code room_moved}, join again and resend, and nothing acked {@code stored:true} is lost; then a
 * fourth relay joins under traffic and is drained again.
 *
 * <p>The relays run with the defaults a user gets: the 15 s lease (a dead owner's rooms are taken
 * over at once, not when it runs out) and no configured secret (guest tokens are signed with the
 * one the relays share through the database, so a client of the dead relay resumes elsewhere).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ForwardingTest {
  private static final String ADMIN_TOKEN = "forwarding-test-admin-token";
  private static final Map<String, String> ENV = Map.of(
      "SWITCHBOARD_RATE_FRAMES_PER_SECOND", "1000", "SWITCHBOARD_RATE_BURST", "2000",
      "SWITCHBOARD_ADMIN_TOKEN", ADMIN_TOKEN,
      "JAVA_TOOL_OPTIONS", "-Dhazelcast.max.no.heartbeat.seconds=4");
  private static RelayCluster cluster;
  private static Vertx vertx;
  private static List<RelayCluster.Node> nodes;
  /** Node ids, by node index. */
  private static List<String> ids;
  private static final List<FailoverClient> clients = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    cluster = new RelayCluster();
    cluster.adminToken = ADMIN_TOKEN;
    vertx = Vertx.vertx();
    nodes = cluster.start(3, ENV);
    for (RelayCluster.Node n : nodes) {
      await("node " + n.index + " sees 3 members").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
          .until(() -> n.cluster().getInteger("size") == 3);
    }
    ids = nodes.stream().map(n -> n.cluster().getString("node")).toList();
  }

  @AfterAll
  static void stop() throws Exception {
    clients.forEach(FailoverClient::close);
    if (vertx != null) {
      TestClient.sync(vertx.close(), 10);
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  /** {@code count} rooms named {@code prefix-N} that node {@code owner} sequences, by the cluster's view. */
  private static List<String> roomsOf(int owner, String prefix, int count) {
    List<String> names = IntStream.range(0, 300).mapToObj(i -> prefix + "-" + i).toList();
    JsonObject owners = nodes.get(0).owners(names).getJsonObject("owners");
    return names.stream().filter(r -> owners.getString(r).equals(ids.get(owner))).limit(count).toList();
  }

  private static TestClient client(int node) {
    TestClient c = TestClient.connect(vertx, nodes.get(node).port);
    c.hello();
    return c;
  }

  private static JsonObject join(TestClient c, String room, String mode) {
    int id = c.id();
    c.send(new JsonObject().put("t", "join").put("id", id).put("room", room).put("mode", mode));
    return c.await(f -> Integer.valueOf(id).equals(f.getInteger("id")) || Integer.valueOf(id).equals(f.getInteger("ref")));
  }

  private static JsonObject msg(TestClient c, String room) {
    return c.await(f -> "msg".equals(f.getString("t")) && room.equals(f.getString("room")));
  }

  /** A counter of the node's {@code /metrics} (0 when it has not counted yet). */
  private static double metric(RelayCluster.Node node, String series) {
    String body = cluster.get(node.adminPort, "/metrics").body();
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(body);
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  @Test
  @Order(1)
  void aRoomSequencedOnOneNodeWorksTheSameForClientsOfTheOthers() {
    String room = roomsOf(0, "fw", 1).get(0);
    TestClient carol = client(0); // on the owner
    TestClient alice = client(1);
    TestClient bob = client(2);
    TestClient erin = client(1);
    TestClient dave = client(2);
    try {
      JsonObject joined = join(alice, room, "active");
      assertThat(joined.getString("t")).as(joined.encode()).isEqualTo("joined");
      assertThat(join(bob, room, "active").getString("t")).isEqualTo("joined");
      JsonObject came = alice.nextPresence();
      assertThat(came.getString("event")).isEqualTo("join");
      assertThat(came.encode()).as("bob's join reaches alice on another node").contains(bob.session());
      assertThat(join(carol, room, "active").getString("t")).isEqualTo("joined");
      assertThat(join(erin, room, "active").getString("t")).isEqualTo("joined");
      assertThat(join(dave, room, "background").getString("t")).isEqualTo("joined");

      // a send to a room the sender's node does not sequence is acked stored:true, and its send
      // time (send.ts) reaches the owner, which fans it out (and stores it) as the message's time
      long sentAt = System.currentTimeMillis() - 5_000;
      alice.send(new JsonObject().put("t", "send").put("room", room).put("cid", "a-0").put("body", "hello from node 1")
          .put("ts", sentAt));
      JsonObject ack = alice.await(f -> "ack".equals(f.getString("t")) && "a-0".equals(f.getString("cid")));
      assertThat(ack.getBoolean("stored")).as(ack.encode()).isTrue();
      assertThat(ack.getLong("seq")).isEqualTo(1);
      JsonObject toBob = msg(bob, room);
      assertThat(toBob.getString("body")).isEqualTo("hello from node 1");
      assertThat(toBob.getLong("ts")).isEqualTo(sentAt);
      assertThat(msg(carol, room).getLong("seq")).isEqualTo(1);
      assertThat(msg(erin, room).getLong("seq")).isEqualTo(1);

      // one order: a burst from a client of node 1 reaches clients of nodes 0 and 2 seq after seq
      for (int i = 1; i <= 50; i++) {
        alice.send(new JsonObject().put("t", "send").put("room", room).put("cid", "a-" + i).put("body", "m" + i));
      }
      for (TestClient c : List.of(bob, carol, erin)) {
        for (long seq = 2; seq <= 51; seq++) {
          JsonObject m = msg(c, room);
          assertThat(m.getLong("seq")).isEqualTo(seq);
          assertThat(m.getString("body")).isEqualTo("m" + (seq - 1));
        }
      }
      alice.await(f -> "ack".equals(f.getString("t")) && "a-50".equals(f.getString("cid")) && f.getBoolean("stored"));

      // unread summaries to a background member on another node
      JsonObject unread = dave.await(f -> "unread".equals(f.getString("t")) && f.getLong("lastSeq") == 51);
      assertThat(unread.getString("room")).isEqualTo(room);
      assertThat(unread.getLong("count")).isPositive();
      assertThat(dave.skipped()).as("a background member gets no msg").noneMatch(f -> "msg".equals(f.getString("t")));

      // history on a node that does not sequence the room
      JsonObject page = bob.request(new JsonObject().put("t", "history").put("room", room).put("limit", 10));
      assertThat(page.getString("t")).as(page.encode()).isEqualTo("page");
      assertThat(page.getJsonArray("messages")).hasSize(10);
      assertThat(page.getJsonArray("messages").getJsonObject(9).getLong("seq")).isEqualTo(51);

      // an edit and a reaction through a node that does not sequence the room (issue 17): the owner
      // commits them and every node's members hear them, the changer's copy with its id
      JsonObject edited = alice.request(new JsonObject().put("t", "edit").put("room", room).put("seq", 1)
          .put("body", "hello from node 1 (edited)"));
      assertThat(edited.getString("t")).as(edited.encode()).isEqualTo("changed");
      assertThat(edited.getLong("rev")).isEqualTo(1);
      for (TestClient c : List.of(bob, carol, erin, dave)) {
        JsonObject change = c.await(f -> "changed".equals(f.getString("t")) && f.getLong("rev") == 1);
        assertThat(change.getString("body")).isEqualTo("hello from node 1 (edited)");
        assertThat(change.containsKey("id")).isFalse();
      }
      JsonObject reacted = bob.request(new JsonObject().put("t", "react").put("room", room).put("seq", 1)
          .put("emoji", "👍").put("on", true));
      assertThat(reacted.getJsonArray("reactions").getJsonObject(0).getJsonArray("users")).containsExactly(bob.user());
      assertThat(alice.await(f -> "changed".equals(f.getString("t")) && f.getLong("rev") == 2).containsKey("id")).isFalse();
      assertThat(bob.request(new JsonObject().put("t", "edit").put("room", room).put("seq", 1).put("body", "x"))
          .getString("code")).as("an error answered across nodes").isEqualTo("forbidden");

      // a signal between peers on different nodes (1 -> 2), and an error answered across nodes
      alice.send(new JsonObject().put("t", "signal").put("room", room).put("to", bob.session())
          .put("data", new JsonObject().put("kind", "offer")));
      JsonObject signal = bob.await(f -> "signal".equals(f.getString("t")));
      assertThat(signal.getString("from")).isEqualTo(alice.session());
      assertThat(signal.getJsonObject("data").getString("kind")).isEqualTo("offer");
      JsonObject noPeer = alice.request(new JsonObject().put("t", "signal").put("room", room).put("to", "nobody")
          .put("data", new JsonObject()));
      assertThat(noPeer.getString("t")).as(noPeer.encode()).isEqualTo("error");

      // the owner's fanout crosses to each other node once per message: nodes 1 and 2 have two
      // active members each (alice, erin; bob) and dave in the background, and still 2 messages
      // (the cursors the sends move are not fanned out: receivers infer them from the msgs)
      String group = "switchboard_cluster_bus_sent_total{kind=\"group\"}";
      for (TestClient c : List.of(alice, bob)) {
        while (c.pollReads(Duration.ofMillis(700)) != null) {
          // the joins' cursors, announced before the count starts
        }
      }
      double before = metric(nodes.get(0), group);
      for (int i = 0; i < 20; i++) {
        assertThat(carol.sendMessage(room, "c-" + i, "fan " + i).getBoolean("stored")).isTrue();
      }
      for (TestClient c : List.of(alice, erin, bob)) {
        c.await(f -> "msg".equals(f.getString("t")) && "fan 19".equals(f.getString("body")));
      }
      assertThat(metric(nodes.get(0), group) - before).as("bus messages for 20 messages to 2 other nodes")
          .isEqualTo(40);

      // read cursors and typing across nodes: bob (node 2) reads, every member hears of it,
      // the background one too; alice (node 1) types, only other active connections hear of it
      bob.send(new JsonObject().put("t", "read").put("room", room).put("seq", 70));
      for (TestClient c : List.of(alice, carol, dave, bob)) {
        readsUntil(c, bob.user(), 70);
      }
      alice.send(new JsonObject().put("t", "typing").put("room", room).put("on", true));
      for (TestClient c : List.of(bob, carol)) {
        JsonObject typing = c.await(f -> "typing".equals(f.getString("t")));
        assertThat(typing.getString("peer")).isEqualTo(alice.session());
        assertThat(typing.getBoolean("on")).isTrue();
      }
      JsonObject erinTyping = erin.await(f -> "typing".equals(f.getString("t")));
      assertThat(erinTyping.getString("user")).isEqualTo(alice.user());
      assertThat(dave.request(new JsonObject().put("t", "mode").put("room", room).put("mode", "background"))
          .getString("t")).isEqualTo("mode");
      assertThat(dave.skipped()).as("a background member gets no typing").noneMatch(f -> "typing".equals(f.getString("t")));

      // resume on a node that does not sequence the room, with another client's token
      TestClient bob2 = TestClient.connect(vertx, nodes.get(1).port);
      try {
        bob2.hello(bob.token(), new JsonObject().put(room, new JsonObject().put("seq", 60)
            .put("epoch", joined.getString("epoch"))));
        JsonObject resumed = bob2.await("joined");
        assertThat(resumed.getLong("replayFrom")).as(resumed.encode()).isEqualTo(61);
        assertThat(resumed.getJsonObject("reads").getLong(bob.user())).as("the user's cursor, on another node").isEqualTo(70);
        for (long seq = 61; seq <= 71; seq++) {
          assertThat(msg(bob2, room).getLong("seq")).isEqualTo(seq);
        }
      } finally {
        bob2.close();
      }

      // batch.to across nodes (issue 17): alice (node 1) uploads two DataChannel messages naming bob
      // (node 2) and erin (node 1) as holders; the owner (node 0) sends them one seqs frame each, in
      // its group message to their node, and carol, not listed, the msgs
      alice.send(BatchTest.batch("b", room, "b-1", "over the channel", "b-2", "and again")
          .put("to", new io.vertx.core.json.JsonArray().add(bob.session()).add(erin.session())).put("resend", false));
      for (TestClient holder : List.of(bob, erin)) {
        JsonObject seqs = holder.await(f -> "seqs".equals(f.getString("t")));
        assertThat(seqs.getString("from")).isEqualTo(alice.user());
        assertThat(seqs.getJsonArray("items").stream().map(i -> ((JsonObject) i).getLong("seq")).toList())
            .containsExactly(72L, 73L);
        assertThat(holder.skipped()).as("no msg for a listed holder").noneMatch(f -> "msg".equals(f.getString("t"))
            && f.getString("cid").startsWith("b-"));
      }
      assertThat(msg(carol, room).getString("body")).isEqualTo("over the channel");
      assertThat(msg(carol, room).getLong("seq")).isEqualTo(73);

      // presence leave across nodes: a leave, and a closed connection
      JsonObject left = bob.request(new JsonObject().put("t", "leave").put("room", room));
      assertThat(left.getString("t")).isEqualTo("left");
      assertThat(awaitPresence(alice, "leave", bob.session())).isNotNull();
      erin.close();
      assertThat(awaitPresence(carol, "leave", erin.session())).isNotNull();
    } finally {
      for (TestClient c : List.of(alice, bob, carol, erin, dave)) {
        c.close();
      }
    }
  }

  /** How many reads frames came until one put {@code user} at {@code seq}. */
  private static int readsUntil(TestClient c, String user, long seq) {
    int frames = 0;
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      JsonObject f = c.pollReads(Duration.ofMillis(200));
      if (f == null) {
        continue;
      }
      frames++;
      if (Long.valueOf(seq).equals(f.getJsonObject("reads").getLong(user))) {
        return frames;
      }
    }
    throw new AssertionError("no reads frame with " + user + " at " + seq);
  }

  private static JsonObject awaitPresence(TestClient c, String event, String session) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      JsonObject p = c.pollPresence(Duration.ofMillis(200));
      if (p != null && event.equals(p.getString("event")) && p.encode().contains(session)) {
        return p;
      }
    }
    throw new AssertionError("no presence " + event + " of " + session);
  }

  /** An access change made through one node reaches a room another sequences and a member on a third. */
  @Test
  @Order(2)
  void aRevokeOnOneNodeTakesAMemberOfAnotherNodesRoomOutAtOnceAndNoNodeKeepsTheOldAccess() {
    String room = roomsOf(0, "private", 1).get(0);
    TestClient xavier = client(2);
    TestClient yvonne = client(1);
    try {
      int admin = nodes.get(1).port;
      assertThat(cluster.request("PUT", admin, "/api/admin/rooms/" + room, "{\"visibility\":\"private\"}")
          .statusCode()).isEqualTo(200);
      assertThat(join(xavier, room, "active").getString("code")).as("not a member yet").isEqualTo("forbidden");
      for (TestClient c : List.of(xavier, yvonne)) {
        assertThat(cluster.request("PUT", admin, "/api/admin/rooms/" + room + "/members/" + c.user(),
            "{\"role\":\"member\"}").statusCode()).isEqualTo(200);
      }
      // node 2 cached xavier's refusal: the grant made on node 1 drops it (published, so within moments)
      await("xavier's join on node 2 after the grant on node 1").atMost(Duration.ofSeconds(5))
          .until(() -> "joined".equals(join(xavier, room, "active").getString("t")));
      assertThat(join(yvonne, room, "active").getString("t")).isEqualTo("joined");
      assertThat(cluster.request("DELETE", admin, "/api/admin/rooms/" + room + "/members/" + xavier.user(), null)
          .statusCode()).isEqualTo(204);
      JsonObject removed = xavier.await(f -> "left".equals(f.getString("t")));
      assertThat(removed.getString("reason")).isEqualTo("removed");
      assertThat(removed.getString("room")).isEqualTo(room);
      assertThat(awaitPresence(yvonne, "leave", xavier.session())).isNotNull();
      JsonObject send = xavier.request(new JsonObject().put("t", "send").put("room", room).put("cid", "x")
          .put("body", "still in?"));
      assertThat(send.getString("code")).as("node 2 forgot the room").isEqualTo("not_joined");
      await("no node keeps the old access").atMost(Duration.ofSeconds(5))
          .until(() -> "forbidden".equals(join(xavier, room, "active").getString("code")));
      assertThat(yvonne.sendMessage(room, "y", "still here").getBoolean("stored")).isTrue();
    } finally {
      xavier.close();
      yvonne.close();
    }
  }

  @Test
  @Order(2)
  void anEncryptThroughANonOwnerRelayReachesTheRoomsMembersOnEveryNode() {
    String room = roomsOf(0, "enc", 1).get(0);
    TestClient owner = client(1);
    TestClient member = client(2);
    List<TestClient> late = new ArrayList<>();
    try {
      assertThat(cluster.request("PUT", nodes.get(1).port, "/api/admin/rooms/" + room + "/members/" + owner.user(),
          "{\"role\":\"owner\"}").statusCode()).isEqualTo(200);
      assertThat(join(owner, room, "active").getString("t")).isEqualTo("joined");
      assertThat(join(member, room, "active").containsKey("encrypted")).isFalse();
      assertCodeOf(member.request(new JsonObject().put("t", "encrypt").put("room", room)), "forbidden");

      // the owner's relay (node 1) neither sequences the room (node 0) nor holds the member (node 2)
      JsonObject reply = owner.request(new JsonObject().put("t", "encrypt").put("room", room));
      assertThat(reply.getString("t")).as(reply.encode()).isEqualTo("encrypted");
      assertThat(member.await("encrypted")).isEqualTo(new JsonObject().put("t", "encrypted").put("room", room));
      assertCodeOf(member.request(new JsonObject().put("t", "send").put("room", room).put("cid", "p")
          .put("body", "plaintext")), "encryption_required");
      String sealed = EncryptedRoomsTest.seal(room, member.user(), "s", "sealed across nodes");
      JsonObject ack = member.sendMessage(room, "s", sealed);
      assertThat(ack.getLong("seq")).as("the refused send took no seq").isEqualTo(1);
      assertThat(msg(owner, room).getString("body")).isEqualTo(sealed);
      // a join from node 2 carries the flag to node 0 with its access
      await("a join through node 2 is told encrypted").atMost(Duration.ofSeconds(5)).until(() -> {
        TestClient c = client(2);
        late.add(c);
        return Boolean.TRUE.equals(join(c, room, "active").getBoolean("encrypted"));
      });
    } finally {
      owner.close();
      member.close();
      late.forEach(TestClient::close);
    }
  }

  private static void assertCodeOf(JsonObject frame, String code) {
    assertThat(frame.getString("t")).as(frame.encode()).isEqualTo("error");
    assertThat(frame.getString("code")).as(frame.encode()).isEqualTo(code);
  }

  @Test
  @Order(3)
  void clientsOnEveryNodeSeeOneOrderPerRoomAndTheDatabaseAgrees() {
    List<String> rooms = List.of(roomsOf(0, "spread", 1).get(0), roomsOf(1, "spread", 1).get(0),
        roomsOf(2, "spread", 1).get(0));
    FailoverInvariants seen = new FailoverInvariants();
    List<FailoverClient> spread = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      spread.add(new FailoverClient(vertx, "s" + i, List.of(nodes.get(i % 3).port), rooms, seen, 100));
    }
    clients.addAll(spread);
    spread.forEach(FailoverClient::start);
    await("every client joined").atMost(Duration.ofSeconds(15)).until(() -> spread.stream().allMatch(FailoverClient::joinedEverywhere));
    await("traffic").atMost(Duration.ofSeconds(20)).until(() -> count("SELECT count(*) FROM messages WHERE room = ANY($1)",
        (Object) rooms.toArray(String[]::new)) >= 400);
    spread.forEach(FailoverClient::stopSending);
    FailoverInvariants.Verdict verdict = settleAndCheck(spread, rooms, seen);
    assertThat(verdict.violations()).as("broken promises").isEmpty();
    assertThat(verdict.diverged()).as("nothing was taken over").isEmpty();
    assertThat(spread.stream().flatMap(c -> c.problems().stream()).toList()).isEmpty();
    assertThat(verdict.acksChecked()).isGreaterThanOrEqualTo(400);
    spread.forEach(FailoverClient::close);
  }

  @Test
  @Order(4)
  void killingARoomOwnerMidTrafficLosesNothingAckedAndItsRoomsMoveWithoutDroppingOtherNodesSockets()
      throws Exception {
    RelayCluster.Node victim = nodes.get(2);
    List<String> rooms = new ArrayList<>(roomsOf(2, "kill", 2));
    rooms.add(roomsOf(0, "kill", 1).get(0));
    FailoverInvariants seen = new FailoverInvariants();
    List<FailoverClient> all = new ArrayList<>();
    List<FailoverClient> survivorsClients = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      int home = i % 3;
      List<Integer> ports = new ArrayList<>();
      ports.add(nodes.get(home).port);
      nodes.stream().filter(n -> n.index != home && n != victim).forEach(n -> ports.add(n.port));
      FailoverClient c = new FailoverClient(vertx, "k" + i, ports, rooms, seen, 100).killedPort(victim.port);
      all.add(c);
      if (home != victim.index) {
        survivorsClients.add(c.expectMoves(2));
      }
    }
    clients.addAll(all);
    all.forEach(FailoverClient::start);
    await("every client joined").atMost(Duration.ofSeconds(15)).until(() -> all.stream().allMatch(FailoverClient::joinedEverywhere));
    await("traffic").atMost(Duration.ofSeconds(20)).until(() -> count("SELECT count(*) FROM messages WHERE room = ANY($1)",
        (Object) rooms.toArray(String[]::new)) >= 150);

    long kill = System.nanoTime();
    all.forEach(c -> c.killedAt(kill));
    victim.kill9();
    try {
      await("every client caught up on a survivor").atMost(Duration.ofSeconds(30))
          .until(() -> all.stream().allMatch(c -> c.catchUpNanos() >= 0));
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      for (FailoverClient c : all) {
        System.out.printf("%s: port %d, joined everywhere %s, outbox %d, caught up %d, moved %d, problems %s%n", c.name,
            c.connectedPort(), c.joinedEverywhere(), c.outboxSize(), c.catchUpNanos(), c.roomsMoved(), c.problems());
      }
      for (RelayCluster.Node n : nodes) {
        if (n != victim) {
          System.out.println("node " + n.index + " log:\n" + n.log().lines()
              .filter(l -> l.contains("WARN") || l.contains("ERROR")).limit(40).reduce("", (a, b) -> a + b + "\n"));
        }
      }
      throw e;
    }
    all.forEach(FailoverClient::stopSending);
    FailoverInvariants.Verdict verdict = settleAndCheck(all, rooms, seen);
    Map<String, List<Epoch>> epochs = epochs();
    List<Long> catchUpMs = all.stream().map(c -> c.catchUpNanos() / 1_000_000).sorted().toList();
    System.out.printf("forwarding: owner killed; %d clients caught up after p50 %d ms, max %d ms; %d stored acks checked, "
            + "%d seen messages a takeover replaced; room_moved per survivor client %s%n", catchUpMs.size(),
        catchUpMs.get((catchUpMs.size() - 1) / 2), catchUpMs.get(catchUpMs.size() - 1), verdict.acksChecked(),
        verdict.diverged().size(), survivorsClients.stream().map(FailoverClient::roomsMoved).toList());

    assertThat(verdict.violations()).as("broken promises").isEmpty();
    assertThat(all.stream().flatMap(c -> c.problems().stream()).toList()).isEmpty();
    for (FailoverClient c : survivorsClients) {
      assertThat(c.welcomes()).as(c.name + " kept its socket").isEqualTo(1);
      // at least once per room: a join that reaches a relay whose view has not dropped the dead one
      // yet is answered room_moved again (and joined again at once) until the views agree
      assertThat(c.roomsMoved()).as(c.name + " was told its 2 rooms on the dead node moved").isGreaterThanOrEqualTo(2);
    }
    for (String room : rooms.subList(0, 2)) {
      assertThat(epochs.get(room)).as(room + " taken over from the dead owner in a new epoch").hasSize(2);
    }
    assertThat(epochs.get(rooms.get(2))).as("a survivor's room stays where it was").hasSize(1);
  }

  /** Rooms this many, named {@code prefix-N}, that live nodes {@code on} sequence now. */
  private static List<String> roomsOn(List<RelayCluster.Node> on, String prefix, int count) {
    List<String> names = IntStream.range(0, 400).mapToObj(i -> prefix + "-" + i).toList();
    JsonObject owners = on.get(0).owners(names).getJsonObject("owners");
    Set<String> live = on.stream().map(n -> ids.get(n.index)).collect(Collectors.toSet());
    return names.stream().filter(r -> live.contains(owners.getString(r))).limit(count).toList();
  }

  /** Which node id each room's claim in storage names, by the incarnations the nodes published. */
  private static Map<String, String> claimHolders(List<RelayCluster.Node> on, List<String> rooms) {
    Map<String, String> nodeByIncarnation = new HashMap<>();
    for (Object m : on.get(0).cluster().getJsonArray("members")) {
      JsonObject member = (JsonObject) m;
      nodeByIncarnation.put(member.getString("incarnation"), member.getString("node"));
    }
    Map<String, String> holders = new HashMap<>();
    for (Row r : query("SELECT name, owner FROM rooms WHERE name = ANY($1)", (Object) rooms.toArray(String[]::new))) {
      holders.put(r.getString(0), r.getString(1) == null ? null : nodeByIncarnation.get(r.getString(1)));
    }
    return holders;
  }

  /**
   * A relay joins a loaded cluster: the rooms its placement now names move to it (handed over: the
   * epoch is kept), the clients of the other relays keep their sockets, and nothing acked is lost;
   * then it is drained with SIGTERM under the same traffic and its rooms move back the same way.
   */
  @Test
  @Order(5)
  void aRelayJoiningThenDrainingUnderLoadMovesRoomsWithoutLossNewEpochsOrDroppedSockets() throws Exception {
    List<RelayCluster.Node> live = List.of(nodes.get(0), nodes.get(1));
    // 24 rooms: the joining relay takes about a third; that it takes none is (2/3)^24 < 1e-4
    List<String> rooms = roomsOn(live, "grow", 24);
    FailoverInvariants seen = new FailoverInvariants();
    List<FailoverClient> four = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      four.add(new FailoverClient(vertx, "g" + i, List.of(live.get(i % 2).port), rooms, seen, 600));
    }
    clients.addAll(four);
    four.forEach(FailoverClient::start);
    await("every client joined").atMost(Duration.ofSeconds(20)).until(() -> four.stream().allMatch(FailoverClient::joinedEverywhere));
    Map<String, List<Epoch>> before = epochs();

    RelayCluster.Node joining = cluster.start(1, ENV).get(0);
    await("the new relay is a member everywhere").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> live.stream().allMatch(n -> n.cluster().getInteger("size") == 3)
            && joining.cluster().getInteger("size") == 3);
    List<String> newIds = new ArrayList<>(ids);
    newIds.add(joining.cluster().getString("node"));
    ids = newIds;
    List<RelayCluster.Node> grown = List.of(nodes.get(0), nodes.get(1), joining);
    JsonObject owners = joining.owners(rooms).getJsonObject("owners");
    List<String> moving = rooms.stream().filter(r -> owners.getString(r).equals(ids.get(joining.index))).toList();
    assertThat(moving).as("the joining relay's share of the rooms").isNotEmpty();
    try {
      await("the joining relay holds every room placed on it").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
          .until(() -> moving.stream().allMatch(r -> ids.get(joining.index).equals(claimHolders(grown, moving).get(r))));
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      System.out.println("the joining relay misses rooms; nodes " + ids + ", claims " + claimHolders(grown, moving) + " raw "
          + query("SELECT name, owner FROM rooms WHERE name = ANY($1)", (Object) moving.toArray(String[]::new)).stream()
              .map(r -> r.getString(0) + "=" + r.getString(1)).toList()
          + " members " + nodes.get(0).cluster().encode());
      for (FailoverClient c : four) {
        System.out.printf("%s: joined everywhere %s, outbox %d, moved %d, problems %s%n", c.name,
            c.joinedEverywhere(), c.outboxSize(), c.roomsMoved(), c.problems());
      }
      for (RelayCluster.Node n : grown) {
        System.out.println("node " + n.index + " log:\n" + n.log().lines()
            .filter(l -> l.contains("i.s.") && !l.contains("MeterRegistry")).reduce("", (a, b) -> a + b + "\n"));
      }
      throw e;
    }
    long stored = count("SELECT count(*) FROM messages WHERE room = ANY($1)", (Object) rooms.toArray(String[]::new));
    await("traffic goes on after the move").atMost(Duration.ofSeconds(20)).until(() ->
        count("SELECT count(*) FROM messages WHERE room = ANY($1)", (Object) rooms.toArray(String[]::new)) >= stored + 100);

    assertThat(joining.sigterm()).as("a clean drain").isEqualTo(ClusterTest.CLEAN_SIGTERM_EXIT);
    await("the drained relay's rooms are held by the others").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
        .until(() -> claimHolders(live, moving).values().stream().allMatch(h -> h == null || !h.equals(ids.get(joining.index))));
    long afterDrain = count("SELECT count(*) FROM messages WHERE room = ANY($1)", (Object) rooms.toArray(String[]::new));
    await("traffic goes on after the drain").atMost(Duration.ofSeconds(20)).until(() ->
        count("SELECT count(*) FROM messages WHERE room = ANY($1)", (Object) rooms.toArray(String[]::new)) >= afterDrain + 100);

    four.forEach(FailoverClient::stopSending);
    FailoverInvariants.Verdict verdict = settleAndCheck(four, rooms, seen);
    System.out.printf("forwarding: a relay joined and took %d of %d rooms, then drained; room_moved per client %s; "
        + "%d stored acks checked%n", moving.size(), rooms.size(), four.stream().map(FailoverClient::roomsMoved).toList(),
        verdict.acksChecked());
    assertThat(verdict.violations()).as("broken promises").isEmpty();
    assertThat(verdict.diverged()).as("a handover loses nothing a client saw").isEmpty();
    assertThat(four.stream().flatMap(c -> c.problems().stream()).toList()).isEmpty();
    Map<String, List<Epoch>> after = epochs();
    for (String room : rooms) {
      assertThat(after.get(room)).as(room + ": handed over twice, never taken over").isEqualTo(before.get(room));
    }
    for (FailoverClient c : four) {
      assertThat(c.welcomes()).as(c.name + " kept its socket").isEqualTo(1);
      assertThat(c.roomsMoved()).as(c.name + " followed its rooms there and back").isGreaterThanOrEqualTo(2 * moving.size());
    }
    four.forEach(FailoverClient::close);
  }

  /** Waits until every outbox is empty and every client holds what the database has; then judges. */
  private static FailoverInvariants.Verdict settleAndCheck(List<FailoverClient> cs, List<String> rooms,
      FailoverInvariants seen) {
    await("every outbox empty").atMost(Duration.ofSeconds(20)).until(() -> cs.stream().allMatch(c -> c.outboxSize() == 0));
    Map<String, Long> heads = new HashMap<>();
    for (String room : rooms) {
      heads.put(room, count("SELECT coalesce(max(seq), 0) FROM messages WHERE room = $1", room));
    }
    await("every client holds what the database has").atMost(Duration.ofSeconds(10)).until(() -> cs.stream()
        .allMatch(c -> rooms.stream().allMatch(room -> c.holdsUpTo(room, heads.get(room)))));
    Map<String, NavigableMap<Long, Msg>> rows = new HashMap<>();
    for (Row r : query("SELECT room, seq, sender, cid, body FROM messages WHERE room = ANY($1)",
        (Object) rooms.toArray(String[]::new))) {
      rows.computeIfAbsent(r.getString(0), k -> new TreeMap<>())
          .put(r.getLong(1), new Msg(r.getString(2), r.getString(3), r.getString(4)));
    }
    Map<String, Map<String, Map.Entry<Long, NavigableMap<Long, Msg>>>> views = new LinkedHashMap<>();
    Map<String, Map<String, String>> written = new HashMap<>();
    for (FailoverClient c : cs) {
      views.put(c.name, c.views());
      written.put(c.user(), c.created());
    }
    return seen.check(rows, epochs(), views, written);
  }

  private static Map<String, List<Epoch>> epochs() {
    Map<String, List<Epoch>> epochs = new HashMap<>();
    for (Row r : query("SELECT room, epoch, since FROM room_epochs ORDER BY started_at, since")) {
      epochs.computeIfAbsent(r.getString(0), k -> new ArrayList<>()).add(new Epoch(r.getString(1), r.getLong(2)));
    }
    return epochs;
  }

  private static List<Row> query(String sql, Object... args) {
    List<Row> rows = new ArrayList<>();
    TestClient.sync(cluster.pool().preparedQuery(sql).execute(Tuple.from(args)), 10).forEach(rows::add);
    return rows;
  }

  private static long count(String sql, Object... args) {
    return query(sql, args).get(0).getLong(0);
  }
}
