package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.relay.config.RelayOptions;
import io.switchboard.relay.store.StoreOptions;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Postgres stopped mid-traffic and restarted: real time goes on, nothing acked is lost or doubled. */
class DatabaseOutageTest extends RelayTestBase {
  private static final int QUEUE_BOUND = 40;

  @BeforeAll
  static void start() {
    startRelay(baseOptions().setStore(new StoreOptions().setRetryQueueMax(QUEUE_BOUND).setBreakerResetTimeoutMs(300)
        .setBreakerMaxFailures(1).setWriteTimeoutMs(2000)));
  }

  @Test
  void messagesFlowDuringAnOutageAndAreStoredExactlyOnceWhenTheDatabaseReturns() {
    TestClient alice = member("outage");
    TestClient bob = member("outage");
    for (int i = 0; i < 5; i++) {
      assertThat(alice.sendMessage("outage", "pre" + i, "before").getBoolean("stored")).isTrue();
    }

    TestClient.sync(relay.database().stopEmbedded(), 30);
    Map<String, Long> seqByCid = new HashMap<>();
    Set<String> storedFalse = new HashSet<>();
    String refused = null;
    for (int i = 0; i < QUEUE_BOUND + 10 && refused == null; i++) {
      String cid = "during" + i;
      alice.send(new JsonObject().put("t", "send").put("room", "outage").put("cid", cid).put("body", "during " + i));
      JsonObject reply = alice.await(f -> cid.equals(f.getString("cid")) || "error".equals(f.getString("t")));
      if ("error".equals(reply.getString("t"))) {
        assertThat(reply.getString("code")).isEqualTo("storage_unavailable");
        refused = cid;
      } else {
        assertThat(reply.getBoolean("stored")).as("acks during the outage say stored:false").isFalse();
        storedFalse.add(cid);
        seqByCid.put(cid, reply.getLong("seq"));
        // Real time goes on: bob has it now, not after the outage.
        JsonObject msg = bob.await(f -> "msg".equals(f.getString("t")) && cid.equals(f.getString("cid")));
        assertThat(msg.getLong("seq")).isEqualTo(reply.getLong("seq"));
      }
    }
    assertThat(refused).as("the bounded retry queue fills up").isNotNull();
    assertThat(storedFalse.size()).isLessThanOrEqualTo(QUEUE_BOUND);
    String refusedCid = refused;

    TestClient.sync(relay.database().startEmbedded(), 60);
    Set<String> storedTrue = new HashSet<>();
    while (storedTrue.size() < storedFalse.size()) {
      JsonObject ack = alice.await(f -> "ack".equals(f.getString("t")) && f.getBoolean("stored"));
      assertThat(ack.getLong("seq")).isEqualTo(seqByCid.get(ack.getString("cid")));
      storedTrue.add(ack.getString("cid"));
    }
    assertThat(storedTrue).isEqualTo(storedFalse);
    assertThat(bob.skipped()).noneMatch(f -> refusedCid.equals(f.getString("cid")));

    for (String cid : storedTrue) {
      assertThat(count("SELECT count(*) FROM messages WHERE room = 'outage' AND cid = $1", cid)).as(cid).isEqualTo(1);
    }
    assertThat(count("SELECT count(*) FROM messages WHERE room = 'outage'")).isEqualTo(5 + storedTrue.size());
    assertThat(count("SELECT count(*) FROM messages WHERE room = 'outage' AND cid = $1", refusedCid)).isZero();
    // Seqs stayed gap-free through the outage.
    assertThat(count("SELECT max(seq) FROM messages WHERE room = 'outage'")).isEqualTo(5 + storedTrue.size());

    // And the refused message can be sent now.
    assertThat(alice.sendMessage("outage", refusedCid, "again").getBoolean("stored")).isTrue();
  }

  @Test
  void refusedSendsDuringAnOutageNeverCountAsAbuse() {
    TestClient carol = member("outage-abuse");
    TestClient.sync(relay.database().stopEmbedded(), 30);
    int refused = 0;
    // Twice the abuse limit of refusals: a client retrying through an outage is not abusive.
    for (int i = 0; refused < 2 * RelayOptions.DEFAULT_ABUSE_MAX_ERRORS; i++) {
      String cid = "fill" + i;
      carol.send(new JsonObject().put("t", "send").put("room", "outage-abuse").put("cid", cid).put("body", "x"));
      JsonObject reply = carol.await(f -> cid.equals(f.getString("cid")) || "error".equals(f.getString("t")));
      if ("error".equals(reply.getString("t"))) {
        assertThat(reply.getString("code")).isEqualTo("storage_unavailable");
        refused++;
      }
    }
    assertThat(carol.request(new JsonObject().put("t", "ping")).getString("t")).isEqualTo("pong");
    assertThat(carol.isClosed()).isFalse();
    TestClient.sync(relay.database().startEmbedded(), 60);
    // The backlog drains (every queued message acked stored), then the queue has room again.
    for (int stored = 0; stored < QUEUE_BOUND; stored++) {
      carol.await(f -> "ack".equals(f.getString("t")) && f.getBoolean("stored"));
    }
    JsonObject ack = carol.sendMessage("outage-abuse", "after", "back");
    assertThat(ack.getBoolean("stored")).isTrue();
  }
}
