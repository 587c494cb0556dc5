package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Read cursors and names in storage: written about once a second without any stop (what a kill -9
 * would lose at most), written on a clean stop, and loaded with the room after a restart.
 */
class ChatReadsRestartTest extends RelayTestBase {

  private static void read(TestClient c, String room, long seq) {
    c.send(new JsonObject().put("t", "read").put("room", room).put("seq", seq));
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
  void cursorsAreWrittenWithinAboutASecondAndOnStopAndComeBackWithNamesAfterARestart() {
    startRelay(baseOptions());
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

    // the last move before a clean stop is written by the stop itself
    read(bob, room, 6);
    awaitCursor(ada, bob.user(), 6);
    String adaToken = ada.token();
    String bobToken = bob.token();
    ada.close();
    bob.close();
    stopRelay();
    startRelay(baseOptions());
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
