package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Undeploying (what SIGTERM does) flushes pending writes, acks them and closes sockets with 1001. */
class GracefulShutdownTest extends RelayTestBase {

  @Test
  void shutdownWritesEverythingAckedAndClosesWithGoingAway() {
    startRelay(baseOptions().setStore(new io.switchboard.relay.store.StoreOptions().setBatchMaxDelayMs(2000)
        .setBatchMaxMessages(10_000)));
    TestClient alice = member("bye");
    TestClient bob = member("bye");
    for (int i = 0; i < 50; i++) {
      alice.send(new JsonObject().put("t", "send").put("room", "bye").put("cid", "g" + i).put("body", "m" + i));
    }
    for (int i = 0; i < 50; i++) {
      bob.await("msg");
    }
    // The 2 s batch delay means nothing is committed yet: shutdown must write it.
    stopRelay();

    Set<String> stored = new HashSet<>();
    while (!alice.isClosed() || stored.size() < 50) {
      JsonObject f = alice.poll(java.time.Duration.ofSeconds(5));
      if (f == null) {
        break;
      }
      if ("ack".equals(f.getString("t")) && f.getBoolean("stored")) {
        stored.add(f.getString("cid"));
      }
    }
    assertThat(stored).hasSize(50);
    assertThat(alice.awaitClose()).isTrue();
    assertThat(alice.closeCode()).isEqualTo((short) 1001);
    assertThat(bob.awaitClose()).isTrue();
    assertThat(bob.closeCode()).isEqualTo((short) 1001);

    startRelay(baseOptions());
    assertThat(count("SELECT count(*) FROM messages WHERE room = 'bye'")).isEqualTo(50);
  }
}
