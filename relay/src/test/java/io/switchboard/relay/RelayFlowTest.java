package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class RelayFlowTest extends RelayTestBase {

  @BeforeAll
  static void start() {
    startRelay(baseOptions().setRingSize(8).setDedupeWindow(4).setUnreadIntervalMs(100));
  }

  @Test
  void oneSocketCarriesSeveralRoomsAndFanoutReachesEveryOtherMember() {
    TestClient alice = member("fan-a", "fan-b");
    TestClient bob = member("fan-a");
    TestClient carol = member("fan-a", "fan-b");

    JsonObject ack = alice.sendMessage("fan-a", "m1", "hello a");
    assertThat(ack.getLong("seq")).isEqualTo(1);
    alice.sendMessage("fan-b", "m2", "hello b");

    JsonObject atBob = bob.await("msg");
    assertThat(atBob.getString("room")).isEqualTo("fan-a");
    assertThat(atBob.getString("from")).isEqualTo(alice.user());
    assertThat(atBob.getString("body")).isEqualTo("hello a");
    JsonObject c1 = carol.await("msg");
    JsonObject c2 = carol.await("msg");
    assertThat(List.of(c1.getString("room"), c2.getString("room"))).containsExactly("fan-a", "fan-b");
    assertThat(bob.poll(Duration.ofMillis(200))).as("bob is not in fan-b").isNull();
    assertThat(alice.poll(Duration.ofMillis(100))).as("no echo to the sender's own socket").isNull();
  }

  @Test
  void seqIsGapFreePerRoomAndTheAckComesOnlyAfterTheCommit() {
    TestClient alice = member("seq");
    for (int i = 1; i <= 20; i++) {
      JsonObject ack = alice.sendMessage("seq", "c" + i, "n" + i);
      assertThat(ack.getLong("seq")).isEqualTo(i);
      assertThat(ack.getBoolean("stored")).isTrue();
      // stored:true means committed: the row is visible to anyone right now.
      assertThat(count("SELECT count(*) FROM messages WHERE room = $1 AND seq = $2", "seq", (long) i)).isEqualTo(1);
    }
  }

  @Test
  void anOutboxFlushOfResendsInterleavedWithLiveSendsIsSequencedInArrivalOrder() {
    // Each resend:true of an unknown cid waits for a storage lookup; nothing may overtake it
    // (found in Chromium: five messages written offline were stored as 1, 5, 2, 3, 4).
    TestClient alice = member("outbox-order");
    TestClient bob = member("outbox-order");
    for (int i = 1; i <= 12; i++) {
      JsonObject send = new JsonObject().put("t", "send").put("room", "outbox-order").put("cid", "o" + i)
          .put("body", "n" + i);
      alice.send(i % 3 == 0 ? send : send.put("resend", true));
    }
    for (int i = 1; i <= 12; i++) {
      JsonObject msg = bob.await("msg");
      assertThat(msg.getString("cid")).isEqualTo("o" + i);
      assertThat(msg.getLong("seq")).isEqualTo(i);
    }
    await().atMost(TestClient.TIMEOUT).until(() -> count("SELECT count(*) FROM messages WHERE room = 'outbox-order'") == 12);
    assertThat(query("SELECT cid FROM messages WHERE room = 'outbox-order' ORDER BY seq").stream()
        .map(r -> r.getString("cid")).toList())
        .containsExactly("o1", "o2", "o3", "o4", "o5", "o6", "o7", "o8", "o9", "o10", "o11", "o12");
  }

  @Test
  void aResendGetsTheOriginalSeqAndNeverASecondRow() {
    TestClient alice = member("dedupe");
    long seq = alice.sendMessage("dedupe", "same", "once").getLong("seq");
    assertThat(alice.sendMessage("dedupe", "same", "once").getLong("seq")).isEqualTo(seq);
    // Push the cid out of the 4-entry memory window; resend:true makes the server ask storage.
    for (int i = 0; i < 10; i++) {
      alice.sendMessage("dedupe", "filler" + i, "x");
    }
    alice.send(new JsonObject().put("t", "send").put("room", "dedupe").put("cid", "same").put("body", "once")
        .put("resend", true));
    JsonObject ack = alice.await(f -> "ack".equals(f.getString("t")) && "same".equals(f.getString("cid")));
    assertThat(ack.getLong("seq")).isEqualTo(seq);
    assertThat(ack.getBoolean("stored")).isTrue();
    assertThat(count("SELECT count(*) FROM messages WHERE room = 'dedupe' AND cid = 'same'")).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM messages WHERE room = 'dedupe'")).isEqualTo(11);
  }

  @Test
  void aRetransmissionWithoutTheResendFlagIsStoredOnceAndLaterResendsGetTheOriginalSeq() {
    TestClient alice = member("late-dup");
    TestClient bob = member("late-dup");
    long original = alice.sendMessage("late-dup", "old", "first").getLong("seq");
    for (int i = 0; i < 10; i++) {
      alice.sendMessage("late-dup", "push" + i, "x"); // out of the 4-entry memory window
    }
    // Without resend:true the relay cannot know: it is delivered live again under a new seq...
    JsonObject ack = alice.sendMessage("late-dup", "old", "first");
    JsonObject live = bob.await(f -> "msg".equals(f.getString("t")) && "old".equals(f.getString("cid"))
        && f.getLong("seq") != original);
    assertThat(live.getLong("seq")).isEqualTo(original + 11);
    // ...but storage keeps one row, and the ack names the stored seq.
    assertThat(ack.getLong("seq")).isEqualTo(original);
    assertThat(count("SELECT count(*) FROM messages WHERE room = 'late-dup' AND cid = 'old'")).isEqualTo(1);
    assertThat(alice.sendMessage("late-dup", "old", "first").getLong("seq")).isEqualTo(original);
  }

  @Test
  void aReconnectWithTheTokenKeepsTheUser() {
    TestClient first = client();
    first.hello();
    first.close();
    TestClient again = client();
    again.hello(first.token(), null);
    assertThat(again.user()).isEqualTo(first.user());
  }

  @Test
  void historyPagesComeFromMemoryAndStorageAlike() {
    TestClient alice = member("hist");
    for (int i = 1; i <= 30; i++) {
      alice.sendMessage("hist", "h" + i, "body " + i);
    }
    // Newest page: within the 8-message ring.
    JsonObject newest = alice.request(new JsonObject().put("t", "history").put("room", "hist").put("limit", 5));
    assertThat(seqs(newest)).containsExactly(26L, 27L, 28L, 29L, 30L);
    assertThat(newest.getBoolean("hasMore")).isTrue();
    // Older than the ring: from the database, same shape.
    JsonObject older = alice.request(new JsonObject().put("t", "history").put("room", "hist").put("before", 4)
        .put("limit", 10));
    assertThat(seqs(older)).containsExactly(1L, 2L, 3L);
    assertThat(older.getBoolean("hasMore")).isFalse();
    assertThat(older.getJsonArray("messages").getJsonObject(0).getString("body")).isEqualTo("body 1");
    // Spanning both.
    JsonObject span = alice.request(new JsonObject().put("t", "history").put("room", "hist").put("before", 26)
        .put("limit", 10));
    assertThat(seqs(span)).containsExactly(16L, 17L, 18L, 19L, 20L, 21L, 22L, 23L, 24L, 25L);
  }

  @Test
  void resumeReplaysEveryMissedMessageOnceInOrderThenLiveOnes() {
    TestClient alice = member("resume-a", "resume-b");
    TestClient bob = member("resume-a", "resume-b");
    alice.sendMessage("resume-a", "a1", "before");
    bob.await("msg");
    String token = bob.token();
    bob.close();

    // 20 messages while bob is away: more than the 8-message ring, so storage serves the start.
    for (int i = 2; i <= 21; i++) {
      alice.sendMessage("resume-a", "a" + i, "missed " + i);
    }
    alice.sendMessage("resume-b", "b1", "missed in b");

    TestClient back = client();
    back.hello(token, new JsonObject().put("resume-a", 1).put("resume-b", 0));
    alice.sendMessage("resume-a", "a22", "live after resume");

    List<Long> seqsA = new ArrayList<>();
    List<Long> seqsB = new ArrayList<>();
    JsonObject joinedA = null;
    while (seqsA.size() < 21 || seqsB.size() < 1) {
      JsonObject f = back.next();
      if ("joined".equals(f.getString("t")) && "resume-a".equals(f.getString("room"))) {
        joinedA = f;
      } else if ("msg".equals(f.getString("t"))) {
        (f.getString("room").equals("resume-a") ? seqsA : seqsB).add(f.getLong("seq"));
      }
    }
    assertThat(joinedA).isNotNull();
    assertThat(joinedA.getBoolean("recovered")).isTrue();
    List<Long> expected = new ArrayList<>();
    for (long s = 2; s <= 22; s++) {
      expected.add(s);
    }
    assertThat(seqsA).containsExactlyElementsOf(expected);
    assertThat(seqsB).containsExactly(1L);
    assertThat(back.poll(Duration.ofMillis(200))).as("nothing twice").isNull();
  }

  @Test
  void backgroundRoomsGetThrottledUnreadSummariesInsteadOfMessages() {
    TestClient alice = member("busy");
    TestClient bob = member("busy");
    JsonObject mode = bob.request(new JsonObject().put("t", "mode").put("room", "busy").put("mode", "background"));
    assertThat(mode.getString("mode")).isEqualTo("background");
    for (int i = 1; i <= 10; i++) {
      alice.sendMessage("busy", "u" + i, "news " + i);
    }
    JsonObject unread = bob.await("unread");
    assertThat(bob.skipped()).noneMatch(f -> "msg".equals(f.getString("t")));
    long total = unread.getLong("count");
    JsonObject last = unread;
    while (total < 10) {
      last = bob.await("unread");
      total = last.getLong("count");
    }
    assertThat(last.getLong("lastSeq")).isEqualTo(10);
    assertThat(last.getString("preview")).isEqualTo("news 10");
    assertThat(bob.skipped()).noneMatch(f -> "msg".equals(f.getString("t")));

    bob.request(new JsonObject().put("t", "mode").put("room", "busy").put("mode", "active"));
    alice.sendMessage("busy", "u11", "now visible");
    assertThat(bob.await("msg").getLong("seq")).isEqualTo(11);
  }

  @Test
  void leaveStopsDeliveryAndPingIsAnswered() {
    TestClient alice = member("leaving");
    TestClient bob = member("leaving");
    assertThat(bob.request(new JsonObject().put("t", "leave").put("room", "leaving")).getString("t")).isEqualTo("left");
    alice.sendMessage("leaving", "l1", "anyone?");
    assertThat(bob.request(new JsonObject().put("t", "ping")).getString("t")).isEqualTo("pong");
    assertThat(bob.skipped()).noneMatch(f -> "msg".equals(f.getString("t")));
  }

  @Test
  void joinedListsTheMembers() {
    TestClient alice = member("members");
    TestClient bob = client();
    bob.hello();
    JsonObject joined = bob.join("members");
    assertThat(joined.getJsonArray("members")).containsExactlyInAnyOrder(alice.user(), bob.user());
  }

  private static List<Long> seqs(JsonObject page) {
    JsonArray messages = page.getJsonArray("messages");
    List<Long> seqs = new ArrayList<>();
    for (int i = 0; i < messages.size(); i++) {
      seqs.add(messages.getJsonObject(i).getLong("seq"));
    }
    return seqs;
  }

  @Test
  void everyoneLeavingAtOnceLeavesNoGhostMembers() {
    // Closing sockets race: a leaving member's presence goes to members whose sockets are already
    // closed but whose close handlers have not run yet. That must neither throw nor skip rooms.
    List<TestClient> crowd = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      crowd.add(member("exodus-1", "exodus-2", "exodus-3"));
    }
    crowd.forEach(c -> c.socket().close());
    await().atMost(Duration.ofSeconds(20)).until(() -> relay.engine().sessionCount() == 0);
    TestClient late = member();
    for (String room : List.of("exodus-1", "exodus-2", "exodus-3")) {
      JsonObject joined = late.join(room);
      assertThat(joined.getJsonArray("members").getList()).containsExactly(late.user());
      assertThat(joined.getJsonArray("peers")).isEmpty();
    }
  }
}
