package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Liveness: quiet but healthy peers stay, dead peers and peers that never say hello go. */
class HeartbeatTest extends RelayTestBase {
  private static final long HEARTBEAT_MS = 200;
  private static final long HELLO_TIMEOUT_MS = 300;

  @BeforeAll
  static void start() {
    startRelay(baseOptions().setHeartbeatMs(HEARTBEAT_MS).setHelloTimeoutMs(HELLO_TIMEOUT_MS));
  }

  @Test
  void aSilentClientWhoseWebSocketAnswersPingsStaysConnected() {
    TestClient quiet = member("hb-quiet");
    // The server pings only a quiet socket, at most one ping per tick (heartbeat / 2) after the last
    // sign of life: five answered pings span well over the 2.5 heartbeats that close a dead socket.
    await().atMost(Duration.ofSeconds(10)).until(() -> quiet.pingsReceived() >= 5 || quiet.isClosed());
    assertThat(quiet.isClosed()).as("pong control frames count as alive; closed with %s %s", quiet.closeCode(),
        quiet.closeReason()).isFalse();
    assertThat(quiet.request(new JsonObject().put("t", "ping")).getString("t")).isEqualTo("pong");
  }


  @Test
  void theWelcomeAnnouncesTheHeartbeatInterval() {
    TestClient c = client();
    assertThat(c.hello().getLong("heartbeatMs")).isEqualTo(HEARTBEAT_MS);
  }

  @Test
  void aClientSendingOnlyApplicationPingsStaysConnected() {
    try (RawWebSocket raw = RawWebSocket.connect(vertx, relay.port())) {
      raw.sendText("{\"t\":\"hello\"}");
      // This peer never answers control frames; it answers each server ping with an application ping.
      raw.onServerPing(() -> raw.writeText("{\"t\":\"ping\"}"));
      await().atMost(Duration.ofSeconds(10))
          .until(() -> raw.serverPings() >= 5 || raw.serverFrames().stream().anyMatch(f -> f.startsWith("8:")));
      assertThat(raw.serverFrames()).as("application pings count as alive").noneMatch(f -> f.startsWith("8:"));
      assertThat(raw.serverFrames().stream().filter("1"::equals).count()).as("welcome and pongs").isGreaterThan(1);
    }
  }


  @Test
  void aPeerThatNeverAnswersIsSentA1001CloseAfterTwoAndAHalfHeartbeats() {
    try (RawWebSocket raw = RawWebSocket.connect(vertx, relay.port())) {
      raw.sendText("{\"t\":\"hello\"}"); // said hello, so the hello timeout does not apply
      long helloAt = System.nanoTime();
      long closeAt = raw.awaitServerFrame("8:1001", 5_000);
      assertThat(closeAt).as("a 1001 close frame; server sent %s", raw.serverFrames()).isPositive();
      long afterMs = Duration.ofNanos(closeAt - helloAt).toMillis();
      // dead after 2.5 x heartbeat (500 ms), found by a tick every heartbeat/2: 500..600 ms (+ slack)
      assertThat(afterMs).as("close frame after %d ms", afterMs).isBetween(HEARTBEAT_MS * 5 / 2 - 50, 1_500L);
      assertThat(raw.serverFrames()).as("welcome, then pings to the quiet socket, then the close")
          .startsWith("1").contains("9").endsWith("8:1001");
    }
  }

  @Test
  void aPeerThatNeverAnswersHasItsTcpConnectionClosedAfterTwoAndAHalfHeartbeats() {
    try (RawWebSocket raw = RawWebSocket.connect(vertx, relay.port())) {
      raw.sendText("{\"t\":\"hello\"}");
      long helloAt = System.nanoTime();
      assertThat(raw.awaitClosed(8_000)).as("TCP closed; server sent %s", raw.serverFrames()).isTrue();
      long afterMs = Duration.ofNanos(raw.closedAtNanos() - helloAt).toMillis();
      // ~1.6 s nominal (2.5 heartbeats + the 1 s closing timeout); the point is: not Vert.x's default 10 s
      assertThat(afterMs).as("TCP closed after %d ms", afterMs).isBetween(HEARTBEAT_MS * 5 / 2 - 50, 5_000L);
      // the server's close handler runs on its own thread, just after the client sees the close
      await("the session is gone too").atMost(Duration.ofSeconds(5)).until(() -> relay.engine().sessionCount() == 0);
    }
  }

  @Test
  void aClientThatNeverSaysHelloIsClosedWith1008() {
    long t0 = System.nanoTime();
    TestClient mute = client();
    assertThat(mute.awaitClose()).isTrue();
    long afterMs = Duration.ofNanos(System.nanoTime() - t0).toMillis();
    assertThat(mute.closeCode()).isEqualTo((short) 1008);
    assertThat(mute.closeReason()).isEqualTo("no hello in time");
    assertThat(afterMs).as("closed after %d ms", afterMs).isBetween(HELLO_TIMEOUT_MS - 50, HELLO_TIMEOUT_MS + 1_000);
  }

  @Test
  void aRawPeerThatNeverSaysHelloIsSentA1008Close() {
    try (RawWebSocket raw = RawWebSocket.connect(vertx, relay.port())) {
      assertThat(raw.awaitServerFrame("8:1008", 5_000)).as("server sent %s", raw.serverFrames()).isPositive();
    }
  }

  @Test
  void aRawPeerThatNeverSaysHelloHasItsTcpConnectionClosedPromptly() {
    try (RawWebSocket raw = RawWebSocket.connect(vertx, relay.port())) {
      // ~1.4 s nominal (hello timeout + the 1 s closing timeout); not Vert.x's default 10 s
      assertThat(raw.awaitClosed(5_000)).as("TCP closed; server sent %s", raw.serverFrames()).isTrue();
    }
  }

  @Test
  void aClientThatSaysHelloInTimeIsNotClosedByTheHelloTimeout() {
    TestClient c = client();
    c.hello();
    // Heartbeat pings come about every two ticks of a quiet socket: three of them take longer than
    // twice the hello timeout, which would have closed a socket without hello by then.
    await().atMost(Duration.ofSeconds(10)).until(() -> c.pingsReceived() >= 3 || c.isClosed());
    assertThat(c.isClosed()).isFalse();
    assertThat(c.request(new JsonObject().put("t", "ping")).getString("t")).isEqualTo("pong");
  }

}
