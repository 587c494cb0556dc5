package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** A restart on the same data folder keeps history, the sequencer's position and guest identities. */
class RestartTest extends RelayTestBase {

  @Test
  void historySeqAndIdentitySurviveARestart() {
    startRelay(baseOptions());
    TestClient alice = member("durable");
    for (int i = 1; i <= 12; i++) {
      alice.sendMessage("durable", "r" + i, "kept " + i);
    }
    String token = alice.token();
    String user = alice.user();
    String epoch = alice.request(new JsonObject().put("t", "join").put("room", "durable")).getString("epoch");
    assertThat(epoch).matches("[a-z0-9]{8}");
    alice.close();
    stopRelay();

    startRelay(baseOptions());
    TestClient again = client();
    again.hello(token, null);
    assertThat(again.user()).as("the secret is kept in the data folder").isEqualTo(user);
    JsonObject joined = again.join("durable");
    assertThat(joined.getLong("head")).isEqualTo(12);
    JsonObject page = again.request(new JsonObject().put("t", "history").put("room", "durable").put("limit", 100));
    assertThat(page.getJsonArray("messages")).hasSize(12);
    assertThat(page.getJsonArray("messages").getJsonObject(0).getString("body")).isEqualTo("kept 1");
    assertThat(again.sendMessage("durable", "r13", "after restart").getLong("seq")).isEqualTo(13);
    // A resend of a cid from before the restart is recognised by storage.
    again.send(new JsonObject().put("t", "send").put("room", "durable").put("cid", "r5").put("body", "kept 5")
        .put("resend", true));
    JsonObject ack = again.await(f -> "ack".equals(f.getString("t")) && "r5".equals(f.getString("cid")));
    assertThat(ack.getLong("seq")).isEqualTo(5);
    assertThat(count("SELECT count(*) FROM messages WHERE room = 'durable'")).isEqualTo(13);
    assertThat(joined.getString("epoch")).as("a clean stop releases the room: same epoch").isEqualTo(epoch);
  }

  @Test
  void aResumeAcrossACleanRestartIsNotADivergence() {
    stopRelay();
    startRelay(baseOptions());
    TestClient alice = member("calm");
    for (int i = 1; i <= 3; i++) {
      alice.sendMessage("calm", "c" + i, "m" + i);
    }
    String epoch = alice.request(new JsonObject().put("t", "join").put("room", "calm")).getString("epoch");
    String token = alice.token();
    alice.close();
    stopRelay();

    startRelay(baseOptions());
    assertThat(count("SELECT count(*) FROM rooms WHERE name = 'calm' AND owner IS NULL AND durable_seq = 3"))
        .as("released at shutdown").isEqualTo(1);
    TestClient again = client();
    again.hello(token, new JsonObject().put("calm", new JsonObject().put("seq", 3).put("epoch", epoch)));
    JsonObject joined = again.await("joined");
    assertThat(joined.getString("epoch")).isEqualTo(epoch);
    assertThat(joined.getBoolean("recovered")).isTrue();
    assertThat(joined.containsKey("divergedAfter")).isFalse();
  }
}
