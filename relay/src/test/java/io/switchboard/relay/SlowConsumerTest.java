package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.Counter;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClientOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.LongSummaryStatistics;
import java.util.Locale;
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
    double cutBefore = slowConsumerCuts();
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
    // A peer that resumes reading soon enough still gets the close frame; past the force-close
    // window its connection is reset instead (aRawClientThatNeverReads… below).
    boolean resumed = false;
    for (int i = 0; i < MESSAGES; i++) {
      alice.send(new JsonObject().put("t", "send").put("room", "slow").put("cid", "s" + i)
          .put("body", System.nanoTime() + " " + body));
      if (!resumed && slowConsumerCuts() > cutBefore) {
        stalled.socket().resume();
        resumed = true;
      }
    }
    assertThat(resumed).as("cut while alice was sending").isTrue();
    long previous = 0;
    for (int i = 0; i < MESSAGES; i++) {
      JsonObject msg = bob.await("msg");
      assertThat(msg.getLong("seq")).isEqualTo(previous + 1);
      previous = msg.getLong("seq");
      long sentNanos = Long.parseLong(msg.getString("body").substring(0, msg.getString("body").indexOf(' ')));
      latenciesMs.add((System.nanoTime() - sentNanos) / 1_000_000);
    }
    // 1000 × 12 KB ≈ 12 MB is far beyond the 256 KB queue plus socket buffers: the stalled client is gone.
    assertThat(stalled.awaitClose()).isTrue();
    stalled.close();
    assertThat(stalled.closeCode()).isEqualTo((short) 1013);
    assertThat(stalled.closeReason()).isEqualTo("slow consumer");
    latenciesMs.sort(Long::compare);
    // Generous on a shared machine: the point is that bob is not held hostage by the stalled reader.
    assertThat(latenciesMs.get(latenciesMs.size() - 1)).as("bob's worst latency, ms").isLessThan(5_000);
    assertThat(bob.isClosed()).isFalse();
    assertThat(slowConsumerCuts() - cutBefore).as("switchboard_disconnects_total{reason=slow_consumer}").isEqualTo(1);
    assertThat(scrapeMetrics()).contains("switchboard_disconnects_total{reason=\"slow_consumer\"}");
  }

  @Test
  void aRawClientThatNeverReadsHasItsTcpConnectionClosedWithinTwoSecondsOfTheDecision() {
    TestClient alice = member("busy");
    try (RawWebSocket raw = RawWebSocket.connect(vertx, relay.port(), new NetClientOptions().setReceiveBufferSize(4096))) {
      raw.sendText("{\"t\":\"hello\"}");
      raw.sendText("{\"t\":\"join\",\"room\":\"busy\"}");
      await().atMost(Duration.ofSeconds(5)).until(() -> raw.serverFrames().size() >= 2); // welcome, joined
      raw.pause();
      int sessions = relay.engine().sessionCount();
      double cutBefore = slowConsumerCuts();
      String body = "y".repeat(12_000);
      // Sends until the relay decides (bounded: 3,000 × 12 KB is far past the 256 KB bound and kernel buffers).
      for (int i = 0; i < 3_000 && slowConsumerCuts() == cutBefore; i++) {
        alice.send(new JsonObject().put("t", "send").put("room", "busy").put("cid", "b" + i).put("body", body));
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> slowConsumerCuts() > cutBefore);
      long decidedAt = System.nanoTime();
      await("the session leaves at once").atMost(Duration.ofMillis(500)).pollInterval(Duration.ofMillis(5))
          .until(() -> relay.engine().sessionCount() == sessions - 1);
      assertThat(relay.engine().rooms().get("busy").members()).hasSize(1);
      // The client reads nothing, so the close frame cannot flush: the server must drop the TCP connection itself.
      await("the server's end of the TCP connection is closed").atMost(Duration.ofSeconds(4))
          .pollInterval(Duration.ofMillis(20)).until(() -> !established(relay.port(), raw.localPort()));
      long afterMs = Duration.ofNanos(System.nanoTime() - decidedAt).toMillis();
      assertThat(afterMs).as("closed %d ms after the decision", afterMs).isLessThanOrEqualTo(2_500);
      raw.resume();
      assertThat(raw.awaitClosed(5_000)).as("the client sees the connection end").isTrue();
    }
  }

  @Test
  void nonReadingClientsAskingForHistoryPagesCostTheRelayAtMostTheBoundEach() {
    TestClient author = member("pages");
    for (int i = 0; i < 100; i++) {
      author.send(new JsonObject().put("t", "send").put("room", "pages").put("cid", "p" + i).put("body", "z".repeat(16_000)));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> relay.engine().rooms().get("pages").head() == 100);
    int bound = options.getOutboundQueueMaxChars();
    long page = 100 * 16_000;
    double cutBefore = slowConsumerCuts();
    List<RawWebSocket> readers = new ArrayList<>();
    try {
      for (int c = 0; c < 4; c++) {
        RawWebSocket raw = RawWebSocket.connect(vertx, relay.port(), new NetClientOptions().setReceiveBufferSize(4096));
        readers.add(raw);
        raw.sendText("{\"t\":\"hello\"}");
        raw.sendText("{\"t\":\"join\",\"room\":\"pages\"}");
        await().atMost(Duration.ofSeconds(5)).until(() -> raw.serverFrames().size() >= 2);
        raw.pause();
        // five pages of 1.6 MB: more than the kernel's send buffer (≤ 4 MB here) takes, then a page
        // sits in Netty's buffer and the next one passes the 256 KB bound
        for (int p = 0; p < 5; p++) {
          raw.sendText("{\"t\":\"history\",\"room\":\"pages\",\"limit\":100}");
        }
      }
      // settled: what the relay holds is the same at two polls in a row (pages all written, queued or cut)
      java.util.concurrent.atomic.AtomicLong lastHeld = new java.util.concurrent.atomic.AtomicLong(-1);
      await("every request answered or its reader cut").atMost(Duration.ofSeconds(5))
          .pollInterval(Duration.ofMillis(200)).until(() -> {
            long now = heldNow().getSum();
            return now == lastHeld.getAndSet(now);
          });
      LongSummaryStatistics held = heldNow();
      // a frame that finds nothing waiting is written whatever its size: one page past the bound at most
      assertThat(held.getMax()).as("what the relay holds for any one open connection")
          .isLessThanOrEqualTo(Math.max(bound, 64 * 1024 + page + 1_000));
      // "settled" is a heuristic on a busy machine: a reader whose last page is still being written is cut a moment later
      await("every reader was cut").atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20))
          .until(() -> slowConsumerCuts() - cutBefore >= readers.size());
      assertThat(slowConsumerCuts() - cutBefore).as("every reader was cut, once").isEqualTo(readers.size());
      await("and its TCP connection closed").atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(20))
          .until(() -> readers.stream().noneMatch(r -> established(relay.port(), r.localPort())));
      assertThat(heldNow().getSum()).as("held for the author alone").isLessThan(64 * 1024);
    } finally {
      readers.forEach(RawWebSocket::close);
    }
  }

  /** Read from the test thread while the event loop may be adding or removing a session: retried then. */
  private static LongSummaryStatistics heldNow() {
    while (true) {
      try {
        return relay.engine().outboundHeld();
      } catch (java.util.ConcurrentModificationException e) {
        Thread.onSpinWait();
      }
    }
  }

  private static double slowConsumerCuts() {
    Counter c = registry.find("switchboard.disconnects").tag("reason", "slow_consumer").counter();
    return c == null ? 0 : c.count();
  }

  /** Whether the kernel has an ESTABLISHED TCP socket bound to {@code localPort} talking to {@code remotePort}. */
  static boolean established(int localPort, int remotePort) {
    String local = String.format(Locale.ROOT, ":%04X", localPort);
    String remote = String.format(Locale.ROOT, ":%04X", remotePort);
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      try {
        for (String line : Files.readAllLines(Path.of(table))) {
          String[] f = line.trim().split("\\s+");
          if (f.length > 3 && f[1].endsWith(local) && f[2].endsWith(remote) && "01".equals(f[3])) {
            return true;
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return false;
  }
}
