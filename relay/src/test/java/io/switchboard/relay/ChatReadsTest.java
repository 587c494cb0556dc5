package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.relay.access.Role;
import io.switchboard.relay.access.Visibility;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Names, read cursors and typing (issue 17) on a real relay with a real Postgres: guest names in
 * every frame that names a user and in storage, cursors per user (monotonic, clamped, throttled
 * fanout to every connection; written within about a second, on a stop, loaded after a restart),
 * typing to the other active connections only, throttled.
 */
class ChatReadsTest extends RelayTestBase {

  // refusals are what some of these tests provoke, not abuse
  private static final io.switchboard.relay.config.RelayOptions OPTIONS = baseOptions().setAbuseMaxErrors(100_000);

  @BeforeAll
  static void start() {
    startRelay(OPTIONS);
  }

  private TestClient named(String name) {
    TestClient c = client();
    c.hello(null, null, name);
    return c;
  }

  private static JsonObject joinAs(TestClient c, String room, String mode) {
    return c.request(new JsonObject().put("t", "join").put("room", room).put("mode", mode));
  }

  private static void read(TestClient c, String room, long seq) {
    c.send(new JsonObject().put("t", "read").put("room", room).put("seq", seq));
  }

  private static void typing(TestClient c, String room, boolean on) {
    c.send(new JsonObject().put("t", "typing").put("room", room).put("on", on));
  }

  /** The {@code reads} frames naming {@code user} that arrive until the room has been quiet for 700 ms. */
  private static List<JsonObject> noReadsOf(TestClient c, String user) {
    List<JsonObject> naming = new ArrayList<>();
    for (JsonObject f; (f = c.pollReads(Duration.ofMillis(700))) != null; ) {
      if (f.getJsonObject("reads").containsKey(user)) {
        naming.add(f);
      }
    }
    return naming;
  }

  /** The {@code reads} frames a client gets until one says {@code user}'s cursor is {@code seq}. */
  private static List<JsonObject> readsUntil(TestClient c, String user, long seq) {
    List<JsonObject> frames = new ArrayList<>();
    while (true) {
      JsonObject f = c.pollReads(TestClient.TIMEOUT);
      assertThat(f).as("a reads frame with %s at %d; got %s", user, seq, frames).isNotNull();
      frames.add(f);
      if (Long.valueOf(seq).equals(f.getJsonObject("reads").getLong(user))) {
        return frames;
      }
    }
  }

  @Test
  void guestNamesAreInWelcomePresenceJoinedMessagesHistoryAndStorage() {
    TestClient ada = named("  Ada ");
    ada.join("names");
    TestClient minjun = client();
    assertThat(minjun.hello(null, null, "김민준").getString("name")).isEqualTo("김민준");
    JsonObject joined = minjun.join("names");
    assertThat(joined.getJsonObject("names").getMap()).containsEntry(ada.user(), "Ada").containsEntry(minjun.user(), "김민준");
    assertThat(joined.getJsonArray("peers").getJsonObject(0).getString("name")).isEqualTo("Ada");
    assertThat(ada.nextPresence().getString("name")).isEqualTo("김민준");

    assertThat(ada.sendMessage("names", "n1", "hi").getBoolean("stored")).isTrue();
    assertThat(minjun.await("msg").getString("name")).isEqualTo("Ada");
    TestClient nameless = member("names");
    nameless.sendMessage("names", "n2", "no name");
    assertThat(minjun.await("msg").containsKey("name")).isFalse();
    JsonObject page = minjun.request(new JsonObject().put("t", "history").put("room", "names"));
    assertThat(page.getJsonArray("messages").getJsonObject(0).getString("name")).isEqualTo("Ada");
    assertThat(page.getJsonArray("messages").getJsonObject(1).containsKey("name")).isFalse();
    // a batch's items take the uploading connection's name
    ada.send(BatchTest.batch("b-1", "names", "p2p-1", "over a DataChannel"));
    assertThat(minjun.await("msg").getString("name")).isEqualTo("Ada");
    ada.await(f -> "ack".equals(f.getString("t")) && "p2p-1".equals(f.getString("cid")) && f.getBoolean("stored"));
    assertThat(count("SELECT count(*) FROM messages WHERE room = 'names' AND sender_name = 'Ada'")).isEqualTo(2);
  }

  @Test
  void badNamesAreRefused() {
    // as JSON text: a lone surrogate can only travel escaped (a text frame is UTF-8)
    for (String bad : new String[] {"", "   ", "a\\nb", "tab\\there", "nul\\u0000", "x".repeat(65), "\\ud800"}) {
      TestClient c = client();
      c.sendRaw("{\"t\":\"hello\",\"id\":1,\"name\":\"" + bad + "\"}");
      JsonObject reply = c.await(f -> Integer.valueOf(1).equals(f.getInteger("ref")) || "welcome".equals(f.getString("t")));
      assertThat(reply.getString("t")).as("%s", bad).isEqualTo("error");
      assertThat(reply.getString("code")).as("%s", bad).isEqualTo("bad_request");
      // no identity came of it
      assertThat(c.request(new JsonObject().put("t", "join").put("room", "x")).getString("code")).isEqualTo("unauthorized");
    }
    assertThat(named("x".repeat(64)).user()).isNotNull();
  }

  @Test
  void cursorsMoveMonotonicClampedThrottledAndReachEveryDevice() {
    String room = "reads-a";
    TestClient alice = named("Alice");
    JsonObject first = alice.join(room);
    assertThat(first.getJsonObject("reads").getMap()).as("a first join starts at the head").containsEntry(alice.user(), 0);
    for (int i = 1; i <= 3; i++) {
      alice.sendMessage(room, "a" + i, "m" + i);
    }
    TestClient bob = named("Bob");
    JsonObject joined = bob.join(room);
    assertThat(joined.getJsonObject("reads").getMap()).as("the sender read its own; the newcomer owes nothing")
        .containsEntry(alice.user(), 3).containsEntry(bob.user(), 3).hasSize(2);
    readsUntil(alice, bob.user(), 3);
    for (int i = 4; i <= 53; i++) {
      alice.send(new JsonObject().put("t", "send").put("room", room).put("cid", "a" + i).put("body", "m" + i));
    }
    bob.await(f -> "msg".equals(f.getString("t")) && "m53".equals(f.getString("body")));
    // a sender's own cursor move is not fanned out: every receiver of the msg infers it
    assertThat(noReadsOf(bob, alice.user())).as("reads frames naming the sender after its sends").isEmpty();

    long start = System.nanoTime();
    for (int seq = 4; seq <= 53; seq++) {
      read(bob, room, seq);
    }
    List<JsonObject> burst = readsUntil(alice, bob.user(), 53);
    long tookMs = (System.nanoTime() - start) / 1_000_000;
    assertThat(burst).as("50 reads in a burst: a few frames, at most one per 250 ms").hasSizeLessThanOrEqualTo(3);
    assertThat(tookMs).as("the first change goes out within a tick").isLessThan(2_000);

    read(bob, room, 2); // behind the cursor: nothing
    alice.sendMessage(room, "a54", "m54");
    read(bob, room, 1_000); // ahead of the head: clamped to 54
    List<JsonObject> after = readsUntil(alice, bob.user(), 54);
    assertThat(after).allSatisfy(f -> assertThat(f.getJsonObject("reads").getLong(bob.user(), 54L)).isEqualTo(54));
    assertThat(readsUntil(bob, bob.user(), 54)).as("the reader's own connection hears of its cursor too").isNotEmpty();

    // a second device of bob, in the background: the same cursor, and reads frames reach it
    TestClient bob2 = client();
    bob2.hello(bob.token(), null);
    JsonObject second = joinAs(bob2, room, "background");
    assertThat(second.getJsonObject("reads").getMap()).containsEntry(bob.user(), 54).containsEntry(alice.user(), 54);
    alice.sendMessage(room, "a55", "m55");
    read(bob, room, 55);
    readsUntil(bob2, bob.user(), 55);
    read(bob2, room, 55); // the user's cursor is there already: no frame for it
    alice.sendMessage(room, "a56", "m56"); // nor for a sender's own move
    assertThat(bob2.pollReads(Duration.ofMillis(700))).as("no reads frame").isNull();
    TestClient dave = named("Dave");
    assertThat(dave.join(room).getJsonObject("reads").getMap()).as("the sender's move is in joined.reads")
        .containsEntry(alice.user(), 56).containsEntry(bob.user(), 55);

    TestClient carol = member();
    JsonObject refused = carol.request(new JsonObject().put("t", "read").put("room", room).put("seq", 3));
    assertThat(refused.getString("code")).isEqualTo("not_joined");
  }

  @Test
  void typingReachesOtherActiveConnectionsAtMostOncePerSecond() {
    String room = "typing-a";
    TestClient alice = named("Alice");
    alice.join(room);
    TestClient alice2 = client();
    alice2.hello(alice.token(), null);
    alice2.join(room);
    TestClient bob = member(room);
    TestClient away = member();
    joinAs(away, room, "background");

    for (int i = 0; i < 10; i++) {
      typing(alice, room, true);
    }
    typing(alice, room, false);
    for (TestClient receiver : List.of(bob, alice2)) {
      List<JsonObject> seen = new ArrayList<>();
      receiver.await(f -> {
        if ("typing".equals(f.getString("t"))) {
          seen.add(f);
          return !f.getBoolean("on");
        }
        return false;
      });
      assertThat(seen).extracting(f -> f.getBoolean("on")).as("10 on:true in a burst: one forwarded").containsExactly(true, false);
      assertThat(seen.get(0).getString("peer")).isEqualTo(alice.session());
      assertThat(seen.get(0).getString("user")).isEqualTo(alice.user());
      assertThat(seen.get(0).getString("name")).isEqualTo("Alice");
    }
    // the sender's own connection got none of it: the first typing it sees is bob's
    typing(bob, room, true);
    JsonObject toAlice = alice.await("typing");
    assertThat(toAlice.getString("peer")).isEqualTo(bob.session());
    assertThat(toAlice.containsKey("name")).isFalse();
    // the background connection got none (everything above was fanned out before this answer)
    JsonObject mode = away.request(new JsonObject().put("t", "mode").put("room", room).put("mode", "active"));
    assertThat(mode.getString("t")).isEqualTo("mode");
    assertThat(away.skipped()).noneMatch(f -> "typing".equals(f.getString("t")));

    assertThat(scrapeMetrics()).contains("switchboard_frames_in_total{type=\"typing\"}")
        .doesNotContain("switchboard_frames_in_total{type=\"typing\"} 0.0");
    TestClient outsider = member();
    assertThat(outsider.request(new JsonObject().put("t", "typing").put("room", room).put("on", true)).getString("code"))
        .isEqualTo("not_joined");
  }

  @Test
  void readersMayReadButNotType() {
    String room = "typing-private";
    TestClient owner = member();
    TestClient reader = member();
    TestClient.sync(relay.access().setVisibility(room, Visibility.PRIVATE), 10);
    TestClient.sync(relay.access().setRole(room, owner.user(), Role.OWNER), 10);
    TestClient.sync(relay.access().setRole(room, reader.user(), Role.READER), 10);
    owner.join(room);
    reader.join(room);
    owner.sendMessage(room, "o1", "hello reader");
    JsonObject refused = reader.request(new JsonObject().put("t", "typing").put("room", room).put("on", true));
    assertThat(refused.getString("code")).isEqualTo("forbidden");
    read(reader, room, 1);
    readsUntil(owner, reader.user(), 1);
  }

  @Test
  void aUserBackInARoomOfManyReadersKeepsItsOldCursor() {
    TestClient back = member();
    // storage as a room of 300 readers left it: 10 messages, this user's cursor at 4, moved long ago
    query("INSERT INTO messages (room, seq, sender, cid, body, created_at)"
        + " SELECT 'crowd', s, 'x', 'c' || s, 'b', now() FROM generate_series(1, 10) s");
    query("INSERT INTO read_cursors (room, user_id, seq, updated_at)"
        + " SELECT 'crowd', 'r' || s, 10, now() FROM generate_series(1, 300) s");
    query("INSERT INTO read_cursors (room, user_id, seq, updated_at) VALUES ('crowd', $1, 4, now() - interval '1 day')",
        back.user());
    JsonObject joined = back.join("crowd");
    assertThat(joined.getLong("head")).isEqualTo(10);
    assertThat(joined.getJsonObject("reads").getMap()).as("not loaded with the room's newest 256, looked up")
        .hasSize(256).containsEntry(back.user(), 4);
    TestClient newcomer = member();
    assertThat(newcomer.join("crowd").getJsonObject("reads").getLong(newcomer.user())).isEqualTo(10);
  }

  /** Waits for a reads frame saying {@code user} is at {@code seq}: the room has applied the move. */
  private static void awaitCursor(TestClient c, String user, long seq) {
    long deadline = System.nanoTime() + TestClient.TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      JsonObject f = c.pollReads(Duration.ofMillis(500));
      if (f != null && Long.valueOf(seq).equals(f.getJsonObject("reads").getLong(user))) {
        return;
      }
    }
    throw new AssertionError("no reads frame with " + user + " at " + seq);
  }

  private static long stored(String room, String user) {
    var rows = query("SELECT seq FROM read_cursors WHERE room = $1 AND user_id = $2", room, user);
    return rows.isEmpty() ? -1 : rows.get(0).getLong(0);
  }

  @Test
  void cursorsReachStorageWithinAboutASecondAndOnStopAndComeBackWithNamesAfterARestart() {
    String room = "durable-reads";
    TestClient ada = client();
    ada.hello(null, null, "Ada");
    ada.join(room);
    for (int i = 1; i <= 3; i++) {
      ada.sendMessage(room, "a" + i, "m" + i);
    }
    TestClient bob = member(room);
    for (int i = 4; i <= 6; i++) {
      ada.sendMessage(room, "a" + i, "m" + i);
    }
    read(bob, room, 5);
    awaitCursor(ada, bob.user(), 5);
    // no stop: the periodic write takes it to storage within about a second
    long moved = System.nanoTime();
    while (stored(room, bob.user()) != 5) {
      assertThat(Duration.ofNanos(System.nanoTime() - moved)).as("written by the periodic tick").isLessThan(Duration.ofSeconds(3));
      bob.pollReads(Duration.ofMillis(50));
    }
    assertThat(stored(room, ada.user())).isEqualTo(6);
    assertThat(scrapeMetrics()).contains("switchboard_read_cursors_pending ");

    // the last move before a clean stop is written by the stop itself
    read(bob, room, 6);
    awaitCursor(ada, bob.user(), 6);
    String adaToken = ada.token();
    String bobToken = bob.token();
    ada.close();
    bob.close();
    stopRelay();
    startRelay(OPTIONS); // the other tests here go on with this one
    assertThat(stored(room, bob.user())).as("written on the clean stop").isEqualTo(6);

    TestClient back = client();
    back.hello(bobToken, null);
    JsonObject joined = back.join(room);
    assertThat(joined.getJsonObject("reads").getMap()).containsEntry(back.user(), 6).containsEntry(ada.user(), 6);
    JsonObject page = back.request(new JsonObject().put("t", "history").put("room", room));
    assertThat(page.getJsonArray("messages")).hasSize(6)
        .allSatisfy(m -> assertThat(((JsonObject) m).getString("name")).isEqualTo("Ada"));
    String http = new String(get(relay.port(), "/api/rooms/" + room + "/messages").body(),
        java.nio.charset.StandardCharsets.UTF_8);
    assertThat(new JsonObject(http).getJsonArray("messages")).hasSize(6)
        .allSatisfy(m -> assertThat(((JsonObject) m).getString("name")).as("HTTP history").isEqualTo("Ada"));
    // a resume gets the cursors too, and the resumed user's name on the messages it missed
    TestClient adaBack = client();
    adaBack.hello(adaToken, new JsonObject().put(room, new JsonObject().put("seq", 4).put("epoch",
        joined.getString("epoch"))));
    JsonObject resumed = adaBack.await("joined");
    assertThat(resumed.getJsonObject("reads").getMap()).containsEntry(ada.user(), 6).containsEntry(back.user(), 6);
    assertThat(adaBack.await("msg").getString("name")).isEqualTo("Ada");
  }
}
