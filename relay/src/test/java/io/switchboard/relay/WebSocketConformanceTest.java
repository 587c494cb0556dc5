package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * RFC 6455 conformance on hand-built frames (issue 12, finding 8): invalid UTF-8 closes with 1007,
 * reserved bits nobody negotiated with 1002, a fragmented message past the hard limit with 1009.
 * Valid fragmented messages and permessage-deflate keep working. Runs under {@code compression}
 * {@code deflate}; the subclasses run every test under the other values.
 */
@org.junit.jupiter.api.TestInstance(org.junit.jupiter.api.TestInstance.Lifecycle.PER_CLASS)
class WebSocketConformanceTest extends RelayTestBase {
  private static final int MAX_FRAME = 1024;
  private static final int HARD_LIMIT = 4 * MAX_FRAME;
  /** Chromium 150's offer, as its upgrade request carries it. */
  static final String CHROMIUM_OFFER = "permessage-deflate; client_max_window_bits";

  /** Per class (an instance method): subclasses only name another {@link #compression()}. */
  @BeforeAll
  void start() {
    startRelay(baseOptions().setMaxFrameBytes(MAX_FRAME).setMaxBodyBytes(512).setCompression(compression()));
  }

  /** The relay's {@code compression} in this class's relay. */
  protected String compression() {
    return "deflate";
  }

  /** RFC 6455 §8.1: a text message that is not valid UTF-8 fails the connection with 1007. */
  @Test
  void invalidUtf8InATextFrameClosesWith1007() {
    try (RawWebSocket raw = helloed()) {
      raw.sendFrame(0x81, concat(ascii("{\"t\":\"ping\",\"id\":\""), new byte[] {(byte) 0xC3, 0x28}, ascii("\"}")));

      assertClosedWith(raw, "8:1007");
      assertThat(raw.serverFrames()).as("no reply to the bad frame").containsExactly("1", "8:1007");
    }
  }

  /** A sequence cut at the end of a fragmented message is as invalid as one inside a frame. */
  @Test
  void utf8CutAtTheEndOfAFragmentedMessageClosesWith1007() {
    try (RawWebSocket raw = helloed()) {
      raw.sendFrame(0x01, ascii("{\"t\":\"ping\",\"id\":\"x\"}"));
      raw.sendFrame(0x80, new byte[] {(byte) 0xE2, (byte) 0x82});

      assertClosedWith(raw, "8:1007");
    }
  }

  /** RFC 6455 §5.2: RSV1 without a negotiated extension (this client offered none) fails with 1002. */
  @Test
  void rsv1WithoutAnExtensionClosesWith1002() {
    try (RawWebSocket raw = helloed()) {
      raw.sendFrame(0xC1, ascii("{\"t\":\"ping\",\"id\":\"r\"}"));

      assertClosedWith(raw, "8:1002");
      assertThat(raw.text()).doesNotContain("\"pong\"");
    }
  }

  @Test
  void rsv2ClosesWith1002() {
    try (RawWebSocket raw = helloed()) {
      raw.sendFrame(0xA1, ascii("{\"t\":\"ping\",\"id\":\"r\"}"));

      assertClosedWith(raw, "8:1002");
    }
  }

  /**
   * protocol.md promises 1009 past 4× the frame limit; fragments each under the frame limit that
   * add up past it were dropped silently, the socket left open.
   */
  @Test
  void aFragmentedMessagePastTheHardLimitClosesWith1009() {
    try (RawWebSocket raw = helloed()) {
      byte[] fragment = ascii("x".repeat(MAX_FRAME - 24));
      raw.sendFrame(0x01, ascii("{\"t\":\"ping\",\"pad\":\""));
      try {
        for (int sent = 0; sent <= HARD_LIMIT; sent += fragment.length) {
          raw.sendFrame(0x00, fragment);
        }
        raw.sendFrame(0x80, ascii("\"}"));
      } catch (Exception closedMeanwhile) {
        // the fragment past the limit may close the connection before the rest is written; the
        // failed write comes as Vert.x's VertxException or as Netty's ClosedChannelException
        if (!(closedMeanwhile instanceof io.vertx.core.VertxException
            || closedMeanwhile instanceof java.nio.channels.ClosedChannelException)) {
          throw new AssertionError("sending failed otherwise than by a close", closedMeanwhile);
        }
      }

      assertClosedWith(raw, "8:1009");
      assertThat(raw.text()).doesNotContain("\"pong\"");
    }
  }

  /** Under the hard limit a fragmented message is one message: too big for a frame, answered. */
  @Test
  void aFragmentedMessageUnderTheHardLimitIsStillOneMessage() {
    try (RawWebSocket raw = helloed()) {
      raw.sendFrame(0x01, ascii("{\"t\":\"ping\",\"id\":\"big\",\"pad\":\""));
      raw.sendFrame(0x00, ascii("x".repeat(MAX_FRAME)));
      raw.sendFrame(0x80, ascii("\"}"));
      assertThat(raw.awaitServerFrame("1", 5_000)).isNotEqualTo(-1L);
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5))
          .until(() -> raw.text().contains("\"too_large\""));

      // and a small one, a character split between fragments, reaches the engine whole
      byte[] e = "é".getBytes(StandardCharsets.UTF_8);
      raw.sendFrame(0x01, concat(ascii("{\"t\":\"ping\",\"id\":\"caf"), new byte[] {e[0]}));
      raw.sendFrame(0x80, concat(new byte[] {e[1]}, ascii("\"}")));
      String pong = "\"t\":\"pong\",\"id\":\"caf" + new String(e, StandardCharsets.ISO_8859_1) + "\"";
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).until(() -> raw.text().contains(pong));
      assertThat(raw.serverFrames()).doesNotContainAnyElementsOf(java.util.List.of("8:1002", "8:1007", "8:1009"));
    }
  }

  /**
   * permessage-deflate sets RSV1 on compressed frames: those are fine when it was negotiated; with
   * {@code off} the offer is declined and the client talks plain. (Netty's client must allow
   * client_no_context_takeover, or it fails the handshake against {@code deflate-no-context}.)
   */
  @Test
  void compressedFramesPassWhenDeflateIsNegotiated() {
    TestClient c = TestClient.connect(vertx, relay.port(),
        new WebSocketClientOptions().setTryUsePerMessageCompression(true).setCompressionAllowClientNoContext(true));
    try {
      String negotiated = c.socket().headers().get("sec-websocket-extensions");
      if ("off".equals(compression())) {
        assertThat(negotiated).as("declined").isNull();
      } else {
        assertThat(negotiated).as("negotiated").contains("permessage-deflate");
      }
      c.hello();
      String pad = "compressible ".repeat(60);
      c.send(new JsonObject().put("t", "ping").put("id", "z").put("pad", pad));
      JsonObject pong = c.await("pong");
      assertThat(pong.getString("id")).isEqualTo("z");
    } finally {
      c.close();
    }
  }

  /**
   * Chromium's offer gets the answer the setting names, and the frames follow it: under
   * {@code deflate-no-context} every server message inflates on its own (two alike pongs: with
   * context kept, the second would point back into the first), under {@code deflate} through one
   * stream; the client's frames are compressed each on its own, as a no-context client does. Under
   * {@code off} nothing is answered and a compressed (RSV1) frame fails the connection with 1002.
   */
  @Test
  void chromiumsOfferIsAnsweredAsTheSettingSays() throws Exception {
    try (RawWebSocket raw = RawWebSocket.connect(vertx, relay.port(), new io.vertx.core.net.NetClientOptions(),
        CHROMIUM_OFFER)) {
      java.util.Set<String> answer = answeredExtension(raw.text());
      switch (compression()) {
        case "off" -> assertThat(answer).isEmpty();
        case "deflate" -> assertThat(answer).containsExactly("permessage-deflate");
        case "deflate-no-context" -> assertThat(answer).containsExactlyInAnyOrder("permessage-deflate",
            "client_no_context_takeover", "server_no_context_takeover");
        default -> throw new AssertionError(compression());
      }
      raw.sendFrame(0xC1, deflate("{\"t\":\"hello\"}"));
      if ("off".equals(compression())) {
        assertClosedWith(raw, "8:1002");
        return;
      }
      String id = "the-same-long-id-in-both-pings-0123456789";
      raw.sendFrame(0xC1, deflate("{\"t\":\"ping\",\"id\":\"" + id + "\"}"));
      raw.sendFrame(0xC1, deflate("{\"t\":\"ping\",\"id\":\"" + id + "\"}"));
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5))
          .until(() -> raw.serverFrameList().size() >= 3);
      java.util.List<RawWebSocket.Frame> frames = raw.serverFrameList();
      java.util.zip.Inflater stream = new java.util.zip.Inflater(true);
      java.util.List<String> texts = new java.util.ArrayList<>();
      for (RawWebSocket.Frame f : frames.subList(0, 3)) {
        assertThat(f.firstByte()).as("FIN + RSV1 + text").isEqualTo(0xC1);
        boolean alone = "deflate-no-context".equals(compression());
        java.util.zip.Inflater inflater = alone ? new java.util.zip.Inflater(true) : stream;
        texts.add(inflate(inflater, f.payload()));
        if (alone) {
          inflater.end();
        }
      }
      stream.end();
      assertThat(texts.get(0)).contains("\"welcome\"");
      assertThat(texts.get(1)).contains("\"pong\"").contains(id);
      assertThat(texts.get(2)).contains("\"pong\"").contains(id);
    }
  }

  /**
   * A fan-out frame is encoded once and its bytes shared by every receiver's frame: each receiver,
   * compressing or plain, still gets every message whole and in order (a buffer shared instead of
   * the array would reach the second receiver already read; a stale encoding, the wrong body).
   */
  @Test
  void everyReceiverOfAFanoutGetsEachMessageWhole() {
    WebSocketClientOptions deflate = new WebSocketClientOptions().setTryUsePerMessageCompression(true)
        .setCompressionAllowClientNoContext(true);
    java.util.List<TestClient> clients = java.util.List.of(TestClient.connect(vertx, relay.port()),
        TestClient.connect(vertx, relay.port(), deflate), TestClient.connect(vertx, relay.port()),
        TestClient.connect(vertx, relay.port(), deflate));
    try {
      for (TestClient c : clients) {
        c.hello();
        c.join("fanout");
      }
      java.util.List<String> bodies = java.util.List.of("안녕하세요 여러분 😀", "hello, everyone", "x\uD83D\uDE00y".repeat(30));
      for (int i = 0; i < bodies.size(); i++) {
        clients.get(0).sendMessage("fanout", "f" + i, bodies.get(i));
      }
      for (TestClient receiver : clients.subList(1, clients.size())) {
        for (int i = 0; i < bodies.size(); i++) {
          JsonObject msg = receiver.await("msg");
          assertThat(msg.getString("body")).isEqualTo(bodies.get(i));
          assertThat(msg.getString("cid")).isEqualTo("f" + i);
        }
      }
    } finally {
      clients.forEach(TestClient::close);
    }
  }

  private static java.util.Set<String> answeredExtension(String responseHead) {
    for (String line : responseHead.substring(0, responseHead.indexOf("\r\n\r\n")).split("\r\n")) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("sec-websocket-extensions:")) {
        java.util.Set<String> params = new java.util.HashSet<>();
        for (String p : line.substring(line.indexOf(':') + 1).split(";")) {
          params.add(p.trim());
        }
        return params;
      }
    }
    return java.util.Set.of();
  }

  /** One message compressed on its own (RFC 7692 §7.2.1: raw deflate, the final empty block's tail cut). */
  private static byte[] deflate(String text) {
    byte[] in = text.getBytes(StandardCharsets.UTF_8);
    java.util.zip.Deflater d = new java.util.zip.Deflater(6, true);
    d.setInput(in);
    byte[] out = new byte[in.length + 64];
    int n = d.deflate(out, 0, out.length, java.util.zip.Deflater.SYNC_FLUSH);
    d.end();
    return java.util.Arrays.copyOf(out, n - 4);
  }

  private static String inflate(java.util.zip.Inflater inflater, byte[] payload) throws Exception {
    inflater.setInput(concat(payload, new byte[] {0, 0, (byte) 0xff, (byte) 0xff}));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    int n;
    while ((n = inflater.inflate(buf)) > 0) {
      out.write(buf, 0, n);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private RawWebSocket helloed() {
    RawWebSocket raw = RawWebSocket.connect(vertx, relay.port());
    raw.sendText("{\"t\":\"hello\"}");
    assertThat(raw.awaitServerFrame("1", 5_000)).as("welcome").isNotEqualTo(-1L);
    return raw;
  }

  private static void assertClosedWith(RawWebSocket raw, String closeFrame) {
    assertThat(raw.awaitServerFrame(closeFrame, 5_000)).as("server frames %s", raw.serverFrames()).isNotEqualTo(-1L);
    // this client never answers the close: the server drops the TCP connection on its own
    assertThat(raw.awaitClosed(5_000)).as("TCP closed").isTrue();
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }
}
