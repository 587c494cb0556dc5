package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A client that stops reading is cut off with 1013; the others in its room carry on. */
class SlowConsumerTest extends RelayTestBase {
  private static final int MESSAGES = 1000;

  @BeforeAll
  static void start() {
    startRelay(baseOptions().setOutboundQueueMaxChars(256 * 1024));
  }

  @Test
  void aStalledReaderIsDisconnectedAndTheOthersKeepReceiving() {
    TestClient alice = member("slow");
    TestClient bob = member("slow");
    // A small TCP receive window, so kernel buffers cannot absorb what the server's queue bound should catch.
    TestClient stalled = TestClient.connect(vertx, relay.port(),
        new io.vertx.core.http.WebSocketClientOptions().setReceiveBufferSize(8192));
    stalled.hello();
    stalled.join("slow");
    stalled.socket().pause();

    String body = "x".repeat(12_000);
    List<Long> latenciesMs = new ArrayList<>();
    for (int i = 0; i < MESSAGES; i++) {
      alice.send(new JsonObject().put("t", "send").put("room", "slow").put("cid", "s" + i)
          .put("body", System.nanoTime() + " " + body));
    }
    long previous = 0;
    for (int i = 0; i < MESSAGES; i++) {
      JsonObject msg = bob.await("msg");
      assertThat(msg.getLong("seq")).isEqualTo(previous + 1);
      previous = msg.getLong("seq");
      long sentNanos = Long.parseLong(msg.getString("body").substring(0, msg.getString("body").indexOf(' ')));
      latenciesMs.add((System.nanoTime() - sentNanos) / 1_000_000);
    }
    // 1000 × 12 KB ≈ 12 MB is far beyond the 256 KB queue plus socket buffers: the stalled client is gone.
    stalled.socket().resume();
    assertThat(stalled.awaitClose()).isTrue();
    stalled.close();
    assertThat(stalled.closeCode()).isEqualTo((short) 1013);
    assertThat(stalled.closeReason()).isEqualTo("slow consumer");
    latenciesMs.sort(Long::compare);
    // Generous on a shared machine: the point is that bob is not held hostage by the stalled reader.
    assertThat(latenciesMs.get(latenciesMs.size() - 1)).as("bob's worst latency, ms").isLessThan(5_000);
    assertThat(bob.isClosed()).isFalse();
    assertThat(scrapeMetrics()).contains("switchboard_disconnects_total{reason=\"slow_consumer\"} 1.0");
  }

}
