package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.relay.store.StoreOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A batch needs storage room for every new item. The writer here flushes only when its queue holds
 * {@value #QUEUE_BOUND} messages (the bound itself), so the queue fills without stopping Postgres,
 * which a batch's storage lookup needs.
 */
class BatchStorageFullTest extends RelayTestBase {
  private static final int QUEUE_BOUND = 20;

  @BeforeAll
  static void start() {
    startRelay(baseOptions().setStore(new StoreOptions().setRetryQueueMax(QUEUE_BOUND)
        .setBatchMaxMessages(QUEUE_BOUND).setBatchMaxDelayMs(600_000)));
  }

  @Test
  void aBatchThatDoesNotFitTheStorageQueueIsRefusedWholeAndNothingOfItIsDeliveredOrStored() {
    TestClient alice = member("full");
    TestClient bob = member("full");
    alice.send(BatchTest.batch(1, "full", BatchTest.pairs("a", 15)));
    for (int i = 0; i < 15; i++) {
      assertThat(bob.await("msg").getString("cid")).isEqualTo("a" + i);
    }

    // 15 queued + 6 new > 20: refused whole.
    JsonObject refused = alice.request(BatchTest.batch(null, "full", BatchTest.pairs("b", 6)));
    assertThat(refused.getString("code")).as("%s", refused).isEqualTo("storage_unavailable");
    assertThat(bob.poll(Duration.ofMillis(200))).as("nothing of the refused batch is delivered").isNull();

    // 15 known + 5 new fits exactly; the known ones need no room. The full queue then flushes.
    String[] mixed = new String[40];
    System.arraycopy(BatchTest.pairs("a", 15), 0, mixed, 0, 30);
    System.arraycopy(BatchTest.pairs("c", 5), 0, mixed, 30, 10);
    alice.send(BatchTest.batch(3, "full", mixed));
    for (int i = 0; i < 5; i++) {
      assertThat(bob.await("msg").getString("cid")).isEqualTo("c" + i);
    }
    Set<String> stored = new HashSet<>();
    while (stored.size() < 20) {
      JsonObject ack = alice.await(f -> "ack".equals(f.getString("t")) && f.getBoolean("stored"));
      stored.add(ack.getString("cid"));
    }
    assertThat(count("SELECT count(*) FROM messages WHERE room = 'full'")).isEqualTo(20);
    assertThat(count("SELECT count(*) FROM messages WHERE room = 'full' AND cid LIKE 'b%'")).isZero();
    assertThat(bob.poll(Duration.ofMillis(100))).isNull();
    assertThat(alice.isClosed()).as("storage_unavailable is not the client's fault").isFalse();
  }
}
