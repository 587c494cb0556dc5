package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.relay.config.RelayOptions;
import io.switchboard.relay.store.StoreOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/**
 * What clients see of a room whose old messages retention pruned: a resume within the newest
 * {@code resumeMaxReplay} is still recovered in full, one further behind gets
 * {@code recovered: false} from the oldest kept, and history pages stop at the oldest stored
 * message with {@code hasMore: false} after it.
 */
class RetentionRelayTest extends RelayTestBase {

  private static RelayOptions retaining() {
    return baseOptions().setResumeMaxReplay(10).setStore(new StoreOptions().setRetentionDays(1).setBatchMaxDelayMs(5));
  }

  @Test
  void resumeAndHistoryOfAPrunedRoom() {
    startRelay(retaining());
    TestClient alice = member("aging");
    for (int i = 1; i <= 30; i++) {
      assertThat(alice.sendMessage("aging", "a" + i, "m" + i).getBoolean("stored")).isTrue();
    }
    String epoch = alice.request(new JsonObject().put("t", "join").put("room", "aging")).getString("epoch");
    String token = alice.token();
    alice.close();
    // a clean stop records the room's head; the restart starts with an empty in-memory ring
    stopRelay();
    startRelay(retaining());
    assertThat(TestClient.sync(relay.database().retention().tick(), 10)).as("nothing is a day old yet").isZero();
    query("UPDATE messages SET created_at = now() - interval '10 days' WHERE room = 'aging'");

    assertThat(TestClient.sync(relay.database().retention().tick(), 10)).isEqualTo(20);
    assertThat(count("SELECT min(seq) FROM messages WHERE room = 'aging'")).as("the newest 10 stay").isEqualTo(21);

    TestClient recent = client();
    recent.hello(token, new JsonObject().put("aging", new JsonObject().put("seq", 25).put("epoch", epoch)));
    JsonObject joined = recent.await("joined");
    assertThat(joined.getBoolean("recovered")).isTrue();
    for (long seq = 26; seq <= 30; seq++) {
      long expected = seq;
      assertThat(recent.await(f -> "msg".equals(f.getString("t"))).getLong("seq")).isEqualTo(expected);
    }

    TestClient behind = client();
    behind.hello(token, new JsonObject().put("aging", new JsonObject().put("seq", 5).put("epoch", epoch)));
    JsonObject late = behind.await("joined");
    assertThat(late.getBoolean("recovered")).as("6..20 are gone").isFalse();
    assertThat(behind.await(f -> "msg".equals(f.getString("t"))).getLong("seq")).isEqualTo(21);

    JsonObject newest = behind.request(new JsonObject().put("t", "history").put("room", "aging").put("limit", 100));
    JsonArray messages = newest.getJsonArray("messages");
    assertThat(messages).hasSize(10);
    assertThat(messages.getJsonObject(0).getLong("seq")).isEqualTo(21);
    JsonObject below = behind.request(new JsonObject().put("t", "history").put("room", "aging").put("before", 21)
        .put("limit", 100));
    assertThat(below.getJsonArray("messages")).isEmpty();
    assertThat(below.getBoolean("hasMore")).isFalse();
  }
}
