package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.relay.access.Role;
import io.switchboard.relay.access.Visibility;
import io.switchboard.relay.store.StoreOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Edit, delete-for-everyone and reactions (issue 17) against a real relay and Postgres: fanout with
 * the changer's id, every rule tried, erasure in storage, catch-up by rev, history and ETags, a
 * change racing its message's write, and storage down (last: it stops the database).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChangesTest extends RelayTestBase {
  /** Small so the bound is crossed cheaply; the default is 1,000. */
  private static final int CATCH_UP_MAX = 5;

  @BeforeAll
  static void start() {
    // a small ring: history pages come from storage (with reactions) as well as from memory; a slow
    // flush: a change right after its send finds the message still in the write queue
    startRelay(baseOptions().setRingSize(4).setChangeCatchUpMax(CATCH_UP_MAX)
        .setStore(new StoreOptions().setBatchMaxDelayMs(150).setWriteTimeoutMs(2_000)));
  }

  private static JsonObject edit(String room, long seq, String body) {
    return new JsonObject().put("t", "edit").put("room", room).put("seq", seq).put("body", body);
  }

  private static JsonObject delete(String room, long seq) {
    return new JsonObject().put("t", "delete").put("room", room).put("seq", seq);
  }

  private static JsonObject react(String room, long seq, String emoji, boolean on) {
    return new JsonObject().put("t", "react").put("room", room).put("seq", seq).put("emoji", emoji).put("on", on);
  }

  private static JsonObject changed(TestClient c, long seq) {
    return c.await(f -> "changed".equals(f.getString("t")) && f.getLong("seq") == seq);
  }

  /** Every frame up to a pong: what arrived meanwhile (none left out). */
  private static List<JsonObject> untilPong(TestClient c) {
    c.send(new JsonObject().put("t", "ping").put("id", "sync"));
    List<JsonObject> frames = new ArrayList<>();
    while (true) {
      JsonObject f = c.next();
      if ("pong".equals(f.getString("t"))) {
        return frames;
      }
      frames.add(f);
    }
  }

  /**
   * Every frame before {@code sender}'s next message of the room: live frames are held back until a
   * catch-up is out, so what came before that message is the whole catch-up.
   */
  private static List<JsonObject> untilLive(TestClient c, TestClient sender, String room) {
    String cid = "mark-" + System.nanoTime();
    sender.sendMessage(room, cid, "mark");
    List<JsonObject> frames = new ArrayList<>();
    while (true) {
      JsonObject f = c.next();
      if ("msg".equals(f.getString("t")) && cid.equals(f.getString("cid"))) {
        return frames;
      }
      frames.add(f);
    }
  }

  private static long sent(TestClient c, String room, String cid, String body) {
    return c.sendMessage(room, cid, body).getLong("seq");
  }

  private static void assertCode(JsonObject reply, String code) {
    assertThat(reply.getString("t")).as(reply.encode()).isEqualTo("error");
    assertThat(reply.getString("code")).as(reply.encode()).isEqualTo(code);
  }

  @Test
  @Order(1)
  void editReactAndDeleteReachEveryMemberAndOnlyTheChangersCopyCarriesItsId() {
    TestClient alice = member("chg-fan");
    TestClient bob = member("chg-fan");
    TestClient carol = member();
    carol.send(new JsonObject().put("t", "join").put("id", 1).put("room", "chg-fan").put("mode", "background"));
    carol.await("joined");
    long seq = sent(alice, "chg-fan", "c1", "hello");

    JsonObject mine = alice.request(edit("chg-fan", seq, "hello (edited)"));
    assertThat(mine.getString("t")).isEqualTo("changed");
    assertThat(mine.getLong("rev")).isEqualTo(1);
    assertThat(mine.getString("body")).isEqualTo("hello (edited)");
    assertThat(mine.getLong("edited")).isPositive();
    for (TestClient other : List.of(bob, carol)) {
      JsonObject theirs = changed(other, seq);
      assertThat(theirs.containsKey("id")).as("no id on others' copies").isFalse();
      assertThat(theirs.copy().put("id", mine.getValue("id"))).isEqualTo(mine);
    }

    JsonObject r1 = bob.request(react("chg-fan", seq, "👍", true));
    assertThat(r1.getLong("rev")).isEqualTo(2);
    assertThat(r1.getJsonArray("reactions")).isEqualTo(new JsonArray().add(new JsonObject().put("emoji", "👍")
        .put("count", 1).put("users", new JsonArray().add(bob.user()))));
    JsonObject r2 = alice.request(react("chg-fan", seq, "👍", true));
    assertThat(r2.getLong("rev")).isEqualTo(3);
    assertThat(r2.getJsonArray("reactions").getJsonObject(0).getJsonArray("users")).containsExactly(bob.user(), alice.user());
    assertThat(r2.getJsonArray("reactions").getJsonObject(0).getInteger("count")).isEqualTo(2);
    JsonObject heart = alice.request(react("chg-fan", seq, "❤️", true));
    assertThat(heart.getJsonArray("reactions")).extracting(r -> ((JsonObject) r).getString("emoji"))
        .containsExactly("👍", "❤️");
    assertThat(changed(carol, seq).getLong("rev")).isEqualTo(2);
    assertThat(changed(carol, seq).getLong("rev")).isEqualTo(3);
    assertThat(changed(carol, seq).getLong("rev")).isEqualTo(4);

    // already so: answered with the current state, no new rev, nobody else hears of it
    JsonObject again = bob.request(react("chg-fan", seq, "👍", true));
    assertThat(again.getLong("rev")).isEqualTo(4);
    JsonObject absent = bob.request(react("chg-fan", seq, "🎉", false));
    assertThat(absent.getLong("rev")).isEqualTo(4);
    assertThat(untilPong(carol)).noneMatch(f -> "changed".equals(f.getString("t")));

    JsonObject off = bob.request(react("chg-fan", seq, "👍", false));
    assertThat(off.getLong("rev")).isEqualTo(5);
    assertThat(off.getJsonArray("reactions").getJsonObject(0).getJsonArray("users")).containsExactly(alice.user());

    JsonObject gone = alice.request(delete("chg-fan", seq));
    assertThat(gone.getLong("rev")).isEqualTo(6);
    assertThat(gone.getBoolean("deleted")).isTrue();
    assertThat(gone.fieldNames()).doesNotContain("body", "reactions");
    assertThat(gone.getLong("edited")).as("when it was last edited stays").isEqualTo(mine.getLong("edited"));
    assertThat(changed(bob, seq).getBoolean("deleted")).isTrue();

    // erased: a tombstone row without the text; no reaction rows; the text nowhere in either table
    Row row = query("SELECT body, deleted_at, cid, sender, rev FROM messages WHERE room = 'chg-fan' AND seq = $1", seq).get(0);
    assertThat(row.getString(0)).isNull();
    assertThat(row.getOffsetDateTime(1)).isNotNull();
    assertThat(row.getString(2)).isEqualTo("c1");
    assertThat(row.getString(3)).isEqualTo(alice.user());
    assertThat(row.getLong(4)).isEqualTo(6);
    assertThat(count("SELECT count(*) FROM reactions WHERE room = 'chg-fan'")).isZero();
    String dump = query("SELECT coalesce(string_agg(m::text, '|'), '') FROM messages m").get(0).getString(0)
        + query("SELECT coalesce(string_agg(r::text, '|'), '') FROM reactions r").get(0).getString(0);
    assertThat(dump).doesNotContain("hello");

    // and what newcomers see: the room's rev, the tombstone in history
    TestClient dave = member();
    assertThat(dave.join("chg-fan").getLong("rev")).isEqualTo(6);
    JsonObject page = dave.request(new JsonObject().put("t", "history").put("room", "chg-fan"));
    JsonObject tomb = page.getJsonArray("messages").getJsonObject(0);
    assertThat(tomb.getBoolean("deleted")).isTrue();
    assertThat(tomb.getLong("rev")).isEqualTo(6);
    assertThat(tomb.fieldNames()).doesNotContain("body");
    assertThat(dave.request(react("chg-fan", seq, "👍", true)).getString("code")).as("react on deleted")
        .isEqualTo("forbidden");
    assertCode(alice.request(edit("chg-fan", seq, "back")), "forbidden");
  }

  @Test
  @Order(2)
  void rulesRefuseOthersReadersOutOfRangeAndTooManyEmojiButAnOwnerDeletesAny() {
    TestClient alice = member("chg-rules");
    TestClient bob = member("chg-rules");
    TestClient carol = member("chg-rules");
    long seq = sent(alice, "chg-rules", "r1", "mine");

    assertCode(bob.request(edit("chg-rules", seq, "theirs")), "forbidden");
    assertCode(bob.request(delete("chg-rules", seq)), "forbidden");
    assertCode(alice.request(edit("chg-rules", 0, "x")), "bad_request");
    JsonObject beyond = alice.request(edit("chg-rules", seq + 1, "x"));
    assertCode(beyond, "not_found");
    assertThat(beyond.getString("message")).isEqualTo("no message " + (seq + 1) + " in room chg-rules");
    assertCode(alice.request(react("chg-rules", seq, "", true)), "bad_request");
    assertCode(alice.request(react("chg-rules", seq, "a b", true)), "bad_request");
    assertCode(member().request(edit("chg-rules", seq, "x")), "not_joined");

    for (int i = 0; i < 20; i++) {
      String emoji = new String(Character.toChars(0x1F600 + i));
      assertThat(bob.request(react("chg-rules", seq, emoji, true)).getString("t")).isEqualTo("changed");
    }
    assertCode(bob.request(react("chg-rules", seq, "🦄", true)), "too_large");
    // one of the 20 more does not add an emoji: allowed
    assertThat(alice.request(react("chg-rules", seq, "😀", true)).getJsonArray("reactions").getJsonObject(0)
        .getInteger("count")).isEqualTo(2);

    TestClient.sync(relay.access().setVisibility("chg-rules", Visibility.PUBLIC), 10);
    TestClient.sync(relay.access().setRole("chg-rules", bob.user(), Role.READER), 10);
    TestClient.sync(relay.access().setRole("chg-rules", carol.user(), Role.OWNER), 10);
    bob.await("role");
    carol.await("role");
    assertCode(bob.request(react("chg-rules", seq, "😀", false)), "forbidden");
    assertCode(carol.request(edit("chg-rules", seq, "owner's words")), "forbidden");
    JsonObject byOwner = carol.request(delete("chg-rules", seq));
    assertThat(byOwner.getBoolean("deleted")).isTrue();
    assertThat(changed(alice, seq).getBoolean("deleted")).isTrue();
    assertCode(alice.request(edit("chg-rules", seq, "again")), "forbidden");
  }

  @Test
  @Order(3)
  void theAuthorsWindowCloses() {
    TestClient alice = client();
    alice.hello();
    // a day and a minute old, stored before anyone loaded the room
    long old = System.currentTimeMillis() - 86_460_000L;
    query("INSERT INTO messages (room, seq, sender, cid, body, created_at) VALUES"
        + " ('chg-old', 1, $1, 'o1', 'yesterday', to_timestamp($2::double precision / 1000))", alice.user(), (double) old);
    assertThat(alice.join("chg-old").getLong("head")).isEqualTo(1);
    JsonObject late = alice.request(edit("chg-old", 1, "today"));
    assertCode(late, "forbidden");
    assertThat(late.getString("message")).contains("86400000 ms");
    assertCode(alice.request(delete("chg-old", 1)), "forbidden");
    // reactions have no window
    assertThat(alice.request(react("chg-old", 1, "👍", true)).getLong("rev")).isEqualTo(1);
  }

  @Test
  @Order(4)
  void aClientAwayCatchesUpOnExactlyTheChangesItMissedByResumeOrJoin() {
    TestClient alice = member("chg-away");
    TestClient bob = member();
    JsonObject joined = bob.join("chg-away");
    assertThat(joined.getLong("rev")).isZero();
    assertThat(joined.containsKey("changesRecovered")).isFalse();
    long s1 = sent(alice, "chg-away", "a1", "one");
    long s2 = sent(alice, "chg-away", "a2", "two");
    long s3 = sent(alice, "chg-away", "a3", "three");
    sent(alice, "chg-away", "a4", "four");
    for (long s = s1; s <= s3 + 1; s++) {
      long want = s;
      bob.await(f -> "msg".equals(f.getString("t")) && f.getLong("seq") == want);
    }
    String epoch = joined.getString("epoch");
    String token = bob.token();
    bob.close();

    alice.request(edit("chg-away", s1, "one (edited)"));
    alice.request(delete("chg-away", s2));
    alice.request(react("chg-away", s3, "👍", true));
    alice.request(react("chg-away", s3, "🎉", true));

    TestClient back = client();
    back.hello(token, new JsonObject().put("chg-away", new JsonObject().put("seq", s3 + 1).put("epoch", epoch)
        .put("rev", 0)));
    JsonObject resumed = back.await("joined");
    assertThat(resumed.getLong("rev")).isEqualTo(4);
    assertThat(resumed.getBoolean("changesRecovered")).isTrue();
    alice.sendMessage("chg-away", "a5", "five");
    List<JsonObject> after = new ArrayList<>();
    while (after.size() < 4) {
      after.add(back.next());
    }
    assertThat(after).extracting(f -> f.getString("t")).containsExactly("changed", "changed", "changed", "msg");
    assertThat(after.subList(0, 3)).extracting(f -> f.getLong("seq")).containsExactly(s1, s2, s3);
    assertThat(after.subList(0, 3)).extracting(f -> f.getLong("rev")).containsExactly(1L, 2L, 4L);
    assertThat(after.get(0).getString("body")).isEqualTo("one (edited)");
    assertThat(after.get(1).getBoolean("deleted")).isTrue();
    assertThat(after.get(2).getJsonArray("reactions")).hasSize(2);
    assertThat(after).noneMatch(f -> f.containsKey("id"));
    assertThat(untilPong(back)).isEmpty();

    TestClient carol = member();
    int id = carol.id();
    carol.send(new JsonObject().put("t", "join").put("id", id).put("room", "chg-away").put("rev", 2));
    JsonObject caught = carol.await("joined");
    assertThat(caught.getBoolean("changesRecovered")).isTrue();
    List<JsonObject> frames = untilLive(carol, alice, "chg-away");
    assertThat(frames).extracting(f -> f.getString("t")).containsExactly("changed");
    assertThat(frames.get(0).getLong("seq")).isEqualTo(s3);

    TestClient current = member();
    current.send(new JsonObject().put("t", "join").put("id", 1).put("room", "chg-away").put("rev", 4));
    assertThat(current.await("joined").getBoolean("changesRecovered")).isTrue();
    assertThat(untilLive(current, alice, "chg-away")).isEmpty();
  }

  @Test
  @Order(5)
  void moreChangesThanTheBoundSayNotRecoveredAndSendNone() {
    TestClient alice = member("chg-many");
    long seq = sent(alice, "chg-many", "m1", "busy");
    for (int i = 0; i < CATCH_UP_MAX + 1; i++) {
      alice.request(react("chg-many", seq, "👍", i % 2 == 0));
    }
    TestClient far = member();
    far.send(new JsonObject().put("t", "join").put("id", 1).put("room", "chg-many").put("rev", 0));
    JsonObject joined = far.await("joined");
    assertThat(joined.getLong("rev")).isEqualTo(CATCH_UP_MAX + 1);
    assertThat(joined.getBoolean("changesRecovered")).isFalse();
    assertThat(untilLive(far, alice, "chg-many")).noneMatch(f -> "changed".equals(f.getString("t")));

    TestClient near = member();
    near.send(new JsonObject().put("t", "join").put("id", 1).put("room", "chg-many").put("rev", 1));
    assertThat(near.await("joined").getBoolean("changesRecovered")).isTrue();
    assertThat(untilLive(near, alice, "chg-many")).extracting(f -> f.getString("t")).containsExactly("changed");

    TestClient ahead = member();
    ahead.send(new JsonObject().put("t", "join").put("id", 1).put("room", "chg-many").put("rev", 99));
    assertThat(ahead.await("joined").getBoolean("changesRecovered")).as("a rev this room never had").isFalse();
  }

  @Test
  @Order(6)
  void historyOverWebSocketAndHttpShowsTheCurrentStateAndEveryTagFollowsChanges() {
    TestClient alice = member("chg-http");
    for (int i = 1; i <= 8; i++) {
      sent(alice, "chg-http", "h" + i, "body " + i);
    }
    HttpResponse<byte[]> newest = get(relay.port(), "/api/rooms/chg-http/messages?limit=3");
    HttpResponse<byte[]> older = get(relay.port(), "/api/rooms/chg-http/messages?before=4&limit=3");
    String newestTag = header(newest, "etag");
    String olderTag = header(older, "etag");
    assertThat(olderTag).startsWith("\"e").contains("-r0-b4-l3");
    assertThat(header(older, "cache-control")).isEqualTo("no-cache");
    assertThat(get(relay.port(), "/api/rooms/chg-http/messages?before=4&limit=3", "If-None-Match", olderTag)
        .statusCode()).isEqualTo(304);
    assertThat(get(relay.port(), "/api/rooms/chg-http/messages?limit=3", "If-None-Match", newestTag)
        .statusCode()).isEqualTo(304);

    alice.request(edit("chg-http", 2, "two, edited"));
    alice.request(react("chg-http", 2, "👀", true));
    alice.request(delete("chg-http", 7));
    HttpResponse<byte[]> olderNow = get(relay.port(), "/api/rooms/chg-http/messages?before=4&limit=3",
        "If-None-Match", olderTag);
    assertThat(olderNow.statusCode()).as("a change below the head changes that page's tag").isEqualTo(200);
    assertThat(header(olderNow, "etag")).contains("-r3-b4-l3");
    assertThat(get(relay.port(), "/api/rooms/chg-http/messages?limit=3", "If-None-Match", newestTag).statusCode())
        .isEqualTo(200);

    // seq 2 is older than the ring (4): read from storage with its reactions; 7 from memory
    JsonObject http = new JsonObject(new String(olderNow.body(), StandardCharsets.UTF_8));
    JsonObject two = http.getJsonArray("messages").getJsonObject(1);
    assertThat(two.getString("body")).isEqualTo("two, edited");
    assertThat(two.getLong("rev")).isEqualTo(2);
    assertThat(two.getLong("edited")).isPositive();
    assertThat(two.getJsonArray("reactions").getJsonObject(0).getString("emoji")).isEqualTo("👀");
    JsonObject ws = alice.request(new JsonObject().put("t", "history").put("room", "chg-http").put("before", 4)
        .put("limit", 3));
    assertThat(ws.getJsonArray("messages")).isEqualTo(http.getJsonArray("messages"));
    JsonObject wsNewest = alice.request(new JsonObject().put("t", "history").put("room", "chg-http").put("limit", 3));
    JsonObject seven = wsNewest.getJsonArray("messages").getJsonObject(1);
    assertThat(seven.getLong("seq")).isEqualTo(7);
    assertThat(seven.getBoolean("deleted")).isTrue();
    assertThat(seven.fieldNames()).doesNotContain("body");
  }

  @Test
  @Order(7)
  void aChangeOfAMessageStillInTheWriteQueueWaitsForItsRowAndEndsUpStored() {
    TestClient alice = member("chg-queue");
    TestClient bob = member("chg-queue");
    // back to back: the flush waits 150 ms, so the edit arrives while the row is queued
    alice.send(new JsonObject().put("t", "send").put("room", "chg-queue").put("cid", "q1").put("body", "typo"));
    alice.send(edit("chg-queue", 1, "fixed").put("id", "e1"));
    alice.send(react("chg-queue", 1, "✅", true).put("id", "e2"));
    JsonObject first = alice.await(f -> "ack".equals(f.getString("t")) || "changed".equals(f.getString("t")));
    assertThat(first.getString("t")).as("the change waited for the row").isEqualTo("ack");
    assertThat(first.getBoolean("stored")).isTrue();
    assertThat(alice.await("changed").getString("id")).isEqualTo("e1");
    assertThat(alice.await("changed").getString("id")).isEqualTo("e2");
    Row row = query("SELECT body, edited_at, rev FROM messages WHERE room = 'chg-queue' AND seq = 1").get(0);
    assertThat(row.getString(0)).isEqualTo("fixed");
    assertThat(row.getOffsetDateTime(1)).isNotNull();
    assertThat(row.getLong(2)).isEqualTo(2);
    assertThat(count("SELECT count(*) FROM reactions WHERE room = 'chg-queue' AND seq = 1 AND emoji = '✅'")).isEqualTo(1);
    assertThat(changed(bob, 1).getString("body")).isEqualTo("fixed");
  }

  @Test
  @Order(8)
  void aChangerThatLeavesWhileItsChangesWaitStillGetsAnAnswerToEach() {
    TestClient alice = member("chg-leave");
    alice.send(new JsonObject().put("t", "send").put("room", "chg-leave").put("cid", "l1").put("body", "bye"));
    // the first waits for the row; the second waits behind it and finds alice gone
    alice.send(edit("chg-leave", 1, "bye!").put("id", "e1"));
    alice.send(edit("chg-leave", 1, "bye!!").put("id", "e2"));
    alice.send(new JsonObject().put("t", "leave").put("room", "chg-leave").put("id", "l"));
    JsonObject first = alice.await(f -> "e1".equals(f.getString("id")));
    assertThat(first.getString("t")).as("committed before the leave took effect on it").isEqualTo("changed");
    JsonObject second = alice.await(f -> "e2".equals(f.getString("ref")) || "e2".equals(f.getString("id")));
    assertCode(second, "not_joined");
    assertThat(query("SELECT body FROM messages WHERE room = 'chg-leave'").get(0).getString(0)).isEqualTo("bye!");
  }

  @Test
  @Order(100)
  void storageDownRefusesTheChangeWithoutEffectAndTellsNobody() {
    TestClient alice = member("chg-down");
    TestClient bob = member("chg-down");
    long seq = sent(alice, "chg-down", "d1", "keep me");
    awaitMsg(bob, seq);
    TestClient.sync(relay.database().stopEmbedded(), 30);
    try {
      assertCode(alice.request(edit("chg-down", seq, "lost")), "storage_unavailable");
      assertCode(alice.request(delete("chg-down", seq)), "storage_unavailable");
      assertThat(untilPong(bob)).isEmpty();
    } finally {
      TestClient.sync(relay.database().startEmbedded(), 60);
    }
    assertThat(query("SELECT body FROM messages WHERE room = 'chg-down'").get(0).getString(0)).isEqualTo("keep me");
    // the storage is back: changes work again, with a rev above any that may have been tried
    JsonObject ok = alice.request(edit("chg-down", seq, "kept"));
    assertThat(ok.getString("t")).isEqualTo("changed");
    assertThat(changed(bob, seq).getString("body")).isEqualTo("kept");
  }

  @Test
  void aChangedMessageKeepsItsSendersNameInChangedFramesHistoryFromMemoryAndFromStorage() {
    TestClient ada = client();
    ada.hello(null, null, "Ada");
    ada.join("chg-name");
    for (int i = 1; i <= 6; i++) {
      sent(ada, "chg-name", "n" + i, "body " + i);
    }
    // seq 6 is in the room's memory (ring of 4), seq 1 only in storage
    ada.request(edit("chg-name", 6, "six, edited"));
    ada.request(edit("chg-name", 1, "one, edited"));
    JsonObject page = ada.request(new JsonObject().put("t", "history").put("room", "chg-name").put("limit", 6));
    List<JsonObject> messages = page.getJsonArray("messages").stream().map(JsonObject.class::cast).toList();
    assertThat(messages).hasSize(6).allSatisfy(m -> assertThat(m.getString("name")).as(m.encode()).isEqualTo("Ada"));
    assertThat(messages.get(0).getString("body")).isEqualTo("one, edited");
    assertThat(messages.get(5).getString("body")).isEqualTo("six, edited");
  }

  private static void awaitMsg(TestClient c, long seq) {
    c.await(f -> "msg".equals(f.getString("t")) && f.getLong("seq") == seq);
  }

  private static String header(HttpResponse<byte[]> r, String name) {
    return r.headers().firstValue(name).orElse(null);
  }
}
