package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.protocol.LzString;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code batch}: messages peers exchanged over a DataChannel reach history exactly once, in order,
 * and a bad batch changes nothing. Real relay, real Postgres, real WebSocket clients.
 */
class BatchTest extends RelayTestBase {
  private static final int MAX_BODY = 256;
  /** Small, so a few messages push a batch's cids out of memory and only storage knows them. */
  private static final int DEDUPE_WINDOW = 8;

  @BeforeAll
  static void start() {
    startRelay(baseOptions().setMaxBodyBytes(MAX_BODY).setDedupeWindow(DEDUPE_WINDOW).setRingSize(DEDUPE_WINDOW));
  }

  // --- helpers ----------------------------------------------------------------------------------

  /** A batch frame as the web client builds it: LZ-String Base64 of the items' JSON text. */
  static JsonObject batch(Object id, String room, String... cidBodyPairs) {
    JsonArray items = new JsonArray();
    for (int i = 0; i < cidBodyPairs.length; i += 2) {
      items.add(new JsonObject().put("cid", cidBodyPairs[i]).put("body", cidBodyPairs[i + 1]));
    }
    return packed(id, room, items.encode());
  }

  /** cid/body pairs {@code prefix0 … prefix(n-1)} for {@link #batch}. */
  static String[] pairs(String prefix, int n) {
    String[] pairs = new String[2 * n];
    for (int i = 0; i < n; i++) {
      pairs[2 * i] = prefix + i;
      pairs[2 * i + 1] = "message " + i;
    }
    return pairs;
  }

  static JsonObject packed(Object id, String room, String itemsText) {
    return new JsonObject().put("t", "batch").put("id", id).put("room", room).put("enc", "lz")
        .put("data", LzString.compressToBase64(itemsText));
  }

  /**
   * The final ack of each item of a batch, by cid. Duplicates are acked at once and new items when
   * stored, so arrival order is not array order.
   */
  private static Map<String, JsonObject> acks(TestClient c, Object id, int items) {
    Map<String, JsonObject> acks = new LinkedHashMap<>();
    while (acks.size() < items) {
      JsonObject ack = c.await(f -> "ack".equals(f.getString("t")) && id.equals(f.getValue("id")));
      if (ack.getBoolean("stored")) {
        assertThat(acks.put(ack.getString("cid"), ack)).as("one stored ack per cid").isNull();
      }
    }
    return acks;
  }

  private static Map<String, Long> seqs(Map<String, JsonObject> acks) {
    Map<String, Long> seqs = new LinkedHashMap<>();
    acks.forEach((cid, ack) -> seqs.put(cid, ack.getLong("seq")));
    return seqs;
  }

  private static Predicate<JsonObject> msgFrom(TestClient sender) {
    return f -> "msg".equals(f.getString("t")) && sender.user().equals(f.getString("from"));
  }

  /** Sends each cid live (its body is the cid), waits until the receiver has it, and returns the seqs. */
  private static Map<String, Long> sentLive(TestClient sender, TestClient receiver, String room, String... cids) {
    Map<String, Long> seqs = new LinkedHashMap<>();
    for (String cid : cids) {
      seqs.put(cid, sender.sendMessage(room, cid, cid).getLong("seq"));
      receiver.await(msgFrom(sender));
    }
    return seqs;
  }

  private static long rows(String room) {
    return count("SELECT count(*) FROM messages WHERE room = $1", room);
  }

  // --- accepted batches -------------------------------------------------------------------------

  @Test
  void aBatchIsSequencedInOrderFannedOutAckedStoredAndStoredOnce() {
    TestClient alice = member("b-flow");
    TestClient bob = member("b-flow");
    long head = alice.join("b-flow").getLong("head");
    alice.send(batch(7, "b-flow", "p-1", "hi over WebRTC", "p-2", "안녕 👋", "p-3", "third"));

    Map<String, JsonObject> acks = acks(alice, 7, 3);
    assertThat(seqs(acks)).isEqualTo(Map.of("p-1", head + 1, "p-2", head + 2, "p-3", head + 3));
    assertThat(acks.values()).allMatch(a -> "b-flow".equals(a.getString("room")));

    for (int i = 1; i <= 3; i++) {
      JsonObject msg = bob.await(msgFrom(alice));
      assertThat(msg.getString("cid")).isEqualTo("p-" + i);
      assertThat(msg.getLong("seq")).isEqualTo(head + i);
    }
    assertThat(bob.poll(Duration.ofMillis(200))).isNull();
  }

  /**
   * Issue 17: a message's time is when its user sent it (P2P messages reach the relay later), kept
   * within the relay's last ten minutes; fanned out and stored alike, through send and batch.
   */
  @Test
  void aSendTimeIsFannedOutAndStoredClampedToTheLastTenMinutes() {
    TestClient alice = member("b-ts");
    TestClient bob = member("b-ts");
    long before = System.currentTimeMillis();
    long fiveSecondsAgo = before - 5_000;
    alice.send(new JsonObject().put("t", "send").put("room", "b-ts").put("cid", "s-past").put("body", "x").put("ts", fiveSecondsAgo));
    alice.send(new JsonObject().put("t", "send").put("room", "b-ts").put("cid", "s-future").put("body", "x").put("ts", before + 3_600_000));
    alice.send(new JsonObject().put("t", "send").put("room", "b-ts").put("cid", "s-none").put("body", "x"));
    JsonArray items = new JsonArray()
        .add(new JsonObject().put("cid", "b-old").put("body", "x").put("ts", 0))
        .add(new JsonObject().put("cid", "b-past").put("body", "x").put("ts", fiveSecondsAgo + 1))
        .add(new JsonObject().put("cid", "b-none").put("body", "x"));
    alice.send(packed(9, "b-ts", items.encode()));
    Set<String> stored = new HashSet<>();
    while (stored.size() < 6) {
      JsonObject ack = alice.await(f -> "ack".equals(f.getString("t")) && f.getBoolean("stored"));
      stored.add(ack.getString("cid"));
    }
    Map<String, Long> fanned = new LinkedHashMap<>();
    for (int i = 0; i < 6; i++) {
      JsonObject msg = bob.await(msgFrom(alice));
      fanned.put(msg.getString("cid"), msg.getLong("ts"));
    }
    long after = System.currentTimeMillis();
    assertThat(fanned.get("s-past")).isEqualTo(fiveSecondsAgo);
    assertThat(fanned.get("b-past")).isEqualTo(fiveSecondsAgo + 1);
    for (String now : new String[] {"s-future", "s-none", "b-none"}) {
      assertThat(fanned.get(now)).as(now + ": the relay's now").isBetween(before, after);
    }
    assertThat(fanned.get("b-old")).as("ten minutes back at most").isBetween(before - 600_000, after - 600_000);
    Map<String, Long> rows = new LinkedHashMap<>();
    for (var row : query("SELECT cid, (extract(epoch FROM created_at) * 1000)::bigint FROM messages WHERE room = 'b-ts'")) {
      rows.put(row.getString(0), row.getLong(1));
    }
    assertThat(rows).isEqualTo(fanned);
  }

  @Test
  void theSenderGetsNoMsgOfItsOwnBatchAndEachRowIsStoredOnce() {
    TestClient alice = member("b-once");
    TestClient bob = member("b-once");
    alice.send(batch("x", "b-once", "o-1", "one", "o-2", "two"));
    acks(alice, "x", 2);
    assertThat(bob.await(msgFrom(alice)).getString("cid")).isEqualTo("o-1");
    assertThat(bob.await(msgFrom(alice)).getString("cid")).isEqualTo("o-2");
    assertThat(alice.poll(Duration.ofMillis(150))).as("no msg back to the sender").isNull();
    assertThat(query("SELECT cid, body, sender FROM messages WHERE room = 'b-once' ORDER BY seq"))
        .extracting(r -> r.getString(0) + "|" + r.getString(1) + "|" + r.getString(2))
        .containsExactly("o-1|one|" + alice.user(), "o-2|two|" + alice.user());
  }

  @Test
  void aBatchSentAgainKeepsItsSeqsAndIsNeitherStoredNorDeliveredTwice() {
    TestClient alice = member("b-again");
    TestClient bob = member("b-again");
    JsonObject frame = batch(1, "b-again", "a-1", "one", "a-2", "two");
    alice.send(frame);
    Map<String, Long> seqs = seqs(acks(alice, 1, 2));
    bob.await(msgFrom(alice));
    bob.await(msgFrom(alice));

    alice.send(frame.copy().put("id", 2)); // from memory
    assertThat(seqs(acks(alice, 2, 2))).isEqualTo(seqs);
    assertThat(bob.poll(Duration.ofMillis(200))).as("no second fanout").isNull();
    assertThat(rows("b-again")).isEqualTo(2);

    // Push them out of the memory window: only storage knows them now.
    for (int i = 0; i < DEDUPE_WINDOW + 2; i++) {
      alice.sendMessage("b-again", "later-" + i, "later");
      bob.await(msgFrom(alice));
    }
    alice.send(frame.copy().put("id", 3));
    assertThat(seqs(acks(alice, 3, 2))).isEqualTo(seqs);
    assertThat(bob.poll(Duration.ofMillis(200))).as("no second fanout").isNull();
    assertThat(rows("b-again")).isEqualTo(2 + DEDUPE_WINDOW + 2);
  }

  /**
   * Issue 17: peers listed in {@code to} already have the bodies from their DataChannel: each gets
   * one bodiless {@code seqs} frame per batch instead of a {@code msg} per item; the others get the
   * {@code msg}s; unknown ids and the uploader's own are ignored.
   */
  @Test
  void listedPeersGetOneSeqsFrameAndTheOthersGetMsgs() {
    TestClient alice = member("b-to");
    TestClient bob = member("b-to");
    TestClient carol = member("b-to");
    long head = alice.join("b-to").getLong("head");
    JsonObject frame = batch(5, "b-to", "t-1", "one", "t-2", "two", "t-3", "three");
    frame.put("to", new JsonArray().add(bob.session()).add("s-nobody").add(alice.session())).put("resend", false);
    alice.send(frame);
    Map<String, Long> acked = seqs(acks(alice, 5, 3));
    assertThat(acked).isEqualTo(Map.of("t-1", head + 1, "t-2", head + 2, "t-3", head + 3));

    JsonObject seqs = bob.await(f -> !"presence".equals(f.getString("t")));
    assertThat(seqs.getString("t")).as("bob's first frame after the batch: %s", seqs).isEqualTo("seqs");
    assertThat(seqs.getString("room")).isEqualTo("b-to");
    assertThat(seqs.getString("from")).isEqualTo(alice.user());
    assertThat(seqs.containsKey("body")).isFalse();
    JsonArray items = seqs.getJsonArray("items");
    assertThat(items).hasSize(3);
    for (int i = 0; i < 3; i++) {
      JsonObject item = items.getJsonObject(i);
      assertThat(item.fieldNames()).containsExactlyInAnyOrder("cid", "seq", "ts");
      assertThat(item.getString("cid")).isEqualTo("t-" + (i + 1));
      assertThat(item.getLong("seq")).isEqualTo(head + i + 1);
    }
    for (int i = 1; i <= 3; i++) {
      JsonObject msg = carol.await(msgFrom(alice));
      assertThat(msg.getString("cid")).isEqualTo("t-" + i);
      assertThat(msg.getLong("ts")).as("seqs and msg carry one time").isEqualTo(items.getJsonObject(i - 1).getLong("ts"));
    }
    assertThat(bob.poll(Duration.ofMillis(200))).as("no msg, no second seqs for bob").isNull();
    assertThat(carol.poll(Duration.ofMillis(50))).as("no seqs for an unlisted peer").isNull();
    assertThat(alice.poll(Duration.ofMillis(50))).as("no seqs for the uploader, though listed").isNull();
    assertThat(rows("b-to")).isEqualTo(3);

    // Items already known get no seqs either: only what this batch sequenced is news.
    JsonObject again = frame.copy().put("id", 6);
    alice.send(again);
    assertThat(seqs(acks(alice, 6, 3))).isEqualTo(acked);
    assertThat(bob.poll(Duration.ofMillis(200))).isNull();
  }

  /**
   * Issue 17: {@code resend:false} (a first upload) skips the storage lookup; the default (true)
   * still finds a cid only storage knows. Shown by a cid pushed out of the memory window: looked up
   * it keeps its seq and goes to nobody; not looked up it is sequenced anew (storage keeps one row).
   */
  @Test
  void aFirstUploadIsNotLookedUpInStorageButAResendIs() {
    TestClient alice = member("b-first");
    TestClient bob = member("b-first");
    JsonObject frame = batch(1, "b-first", "f-1", "one");
    alice.send(frame.copy().put("resend", false));
    long original = seqs(acks(alice, 1, 1)).get("f-1");
    bob.await(msgFrom(alice));
    for (int i = 0; i < DEDUPE_WINDOW + 2; i++) {
      alice.sendMessage("b-first", "later-" + i, "later");
      bob.await(msgFrom(alice));
    }
    long head = original + DEDUPE_WINDOW + 2;

    alice.send(frame.copy().put("id", 2).put("resend", true));
    assertThat(seqs(acks(alice, 2, 1))).isEqualTo(Map.of("f-1", original));
    assertThat(bob.poll(Duration.ofMillis(200))).as("found in storage: not delivered again").isNull();

    alice.send(frame.copy().put("id", 3).put("resend", false));
    JsonObject anew = bob.await(msgFrom(alice));
    assertThat(anew.getString("cid")).isEqualTo("f-1");
    assertThat(anew.getLong("seq")).as("not looked up: sequenced as new").isEqualTo(head + 1);
    acks(alice, 3, 1);
    assertThat(count("SELECT count(*) FROM messages WHERE room = 'b-first' AND cid = 'f-1'")).isEqualTo(1);
  }

  @Test
  void cidsAlreadySentLiveAreAckedWithTheirOriginalSeqs() {
    TestClient alice = member("b-live");
    TestClient bob = member("b-live");
    Map<String, Long> live = sentLive(alice, bob, "b-live", "l-1", "l-2");
    alice.send(batch(9, "b-live", "l-1", "l-1", "l-2", "l-2"));
    assertThat(seqs(acks(alice, 9, 2))).isEqualTo(live);
    assertThat(bob.poll(Duration.ofMillis(200))).isNull();
    assertThat(rows("b-live")).isEqualTo(2);
  }

  @Test
  void mixedKnownNewAndRepeatedItemsAreAckedInOrderAndOnlyNewOnesSequenced() {
    TestClient alice = member("b-mix");
    TestClient bob = member("b-mix");
    Map<String, Long> live = sentLive(alice, bob, "b-mix", "k-1", "k-2");
    long k1 = live.get("k-1");
    long k2 = live.get("k-2");
    alice.send(batch(4, "b-mix", "k-1", "k-1", "n-1", "new one", "k-2", "k-2", "n-2", "new two",
        "n-1", "new one again"));

    // n-1 twice: the second is a duplicate of the first, still being written
    assertThat(seqs(acks(alice, 4, 4))).isEqualTo(Map.of("k-1", k1, "k-2", k2, "n-1", k2 + 1, "n-2", k2 + 2));
    assertThat(bob.await(msgFrom(alice)).getString("cid")).isEqualTo("n-1");
    JsonObject second = bob.await(msgFrom(alice));
    assertThat(second.getString("cid")).isEqualTo("n-2");
    assertThat(second.getLong("seq")).isEqualTo(k2 + 2);
    assertThat(bob.poll(Duration.ofMillis(200))).isNull();
    assertThat(query("SELECT cid, body FROM messages WHERE room = 'b-mix' ORDER BY seq"))
        .extracting(r -> r.getString(0) + "|" + r.getString(1))
        .containsExactly("k-1|k-1", "k-2|k-2", "n-1|new one", "n-2|new two");
    assertThat(scrapeMetrics()).containsPattern("switchboard_batches_in_total \\d")
        .containsPattern("switchboard_messages_batched_total \\d");
  }

  // --- refused batches --------------------------------------------------------------------------

  @Test
  void everyBadBatchGetsItsCodeAndNothingIsSequencedDeliveredOrStored() {
    TestClient alice = member("b-bad");
    TestClient bob = member("b-bad");
    long before = count("SELECT count(*) FROM messages");
    long head = alice.join("b-bad").getLong("head");
    String ok = "{\"cid\":\"fine\",\"body\":\"fine\"}";
    String fiftyOne = IntStream.rangeClosed(1, 51).mapToObj(i -> "{\"cid\":\"m" + i + "\",\"body\":\"m\"}")
        .reduce((a, b) -> a + "," + b).map(s -> "[" + s + "]").orElseThrow();
    // 4 × the default frame limit of text, from a few hundred bytes of data
    String bomb = "[" + ok + ",{\"cid\":\"big\",\"body\":\"" + "a".repeat(4 * 65536) + "\"}]";
    Object[][] cases = {
        {"bad_request", batch(1, "b-bad", "fine", "fine").put("enc", "gzip")},
        {"bad_request", batch(2, "b-bad", "fine", "fine").put("enc", null)},
        {"bad_request", batch(3, "b-bad", "fine", "fine").put("data", "not base64!")},
        {"bad_request", batch(4, "b-bad", "fine", "fine").put("data", "AAAAAAAAAAAAAAAA")},
        {"bad_request", batch(5, "b-bad", "fine", "fine").put("data", "")},
        {"bad_request", packed(6, "b-bad", "not json")},
        {"bad_request", packed(7, "b-bad", ok)},
        {"bad_request", packed(8, "b-bad", "[]")},
        {"too_large", packed(9, "b-bad", fiftyOne)},
        {"too_large", packed(10, "b-bad", bomb)},
        {"bad_request", packed(11, "b-bad", "[" + ok + ",{\"cid\":\"has space\",\"body\":\"x\"}]")},
        {"bad_request", packed(12, "b-bad", "[" + ok + ",{\"cid\":\"e\",\"body\":\"\"}]")},
        {"too_large", packed(13, "b-bad", "[" + ok + ",{\"cid\":\"l\",\"body\":\"" + "가".repeat(86) + "\"}]")},
        {"bad_request", packed(14, "b-bad", "[" + ok + ",{\"cid\":\"s\",\"body\":\"lone \ud800\"}]")},
        {"bad_request", packed(15, "b-bad", "[" + ok + ",{\"cid\":\"s\",\"body\":\"lone \\ud800\"}]")},
        {"bad_request", packed(16, "b-bad", "[" + ok + ",{\"cid\":\"d\",\"body\":\"x\",\"body\":\"y\"}]")},
        {"bad_request", packed(17, "b-bad", "[" + ok + ",\"fine\"]")},
    };
    for (Object[] c : cases) {
      JsonObject frame = (JsonObject) c[1];
      alice.send(frame);
      JsonObject reply = alice.next();
      assertThat(reply.getString("t")).as("reply to batch %s: %s", frame.getValue("id"), reply).isEqualTo("error");
      assertThat(reply.getString("code")).as("batch %s: %s", frame.getValue("id"), reply).isEqualTo(c[0]);
      assertThat(reply.getInteger("ref")).isEqualTo(frame.getInteger("id"));
    }
    assertThat(bob.poll(Duration.ofMillis(200))).as("nothing delivered").isNull();
    assertThat(alice.join("b-bad").getLong("head")).as("nothing sequenced").isEqualTo(head);
    // A marker through the same writer: once it is stored, anything queued before it would be too.
    assertThat(alice.sendMessage("b-bad", "marker", "marker").getBoolean("stored")).isTrue();
    assertThat(count("SELECT count(*) FROM messages")).isEqualTo(before + 1);
  }

  @Test
  void aBatchForARoomNotJoinedIsNotJoined() {
    TestClient alice = member("b-here");
    TestClient bob = member("b-elsewhere");
    JsonObject reply = alice.request(batch(null, "b-elsewhere", "nj-1", "x"));
    assertThat(reply.getString("code")).isEqualTo("not_joined");
    assertThat(bob.poll(Duration.ofMillis(200))).isNull();
    assertThat(rows("b-elsewhere")).isZero();
  }
}
