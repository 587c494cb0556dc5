package io.switchboard.relay;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * A WebSocket client built by hand on a TCP socket: it performs the upgrade, can send masked text
 * frames, records every byte the server sends and never answers anything (no pong, no close
 * reply) — a peer whose application hung or whose network vanished.
 */
final class RawWebSocket implements AutoCloseable {
  private final NetClient client; // kept referenced: Vert.x 5 closes collected clients
  private final NetSocket socket;
  private final Buffer received = Buffer.buffer();
  private final CountDownLatch upgraded = new CountDownLatch(1);
  private final CountDownLatch closed = new CountDownLatch(1);
  private volatile long closedAtNanos;
  private final Random random = new Random(7);
  private volatile Runnable onServerPing;
  private long pingsSeen;

  private RawWebSocket(NetClient client, NetSocket socket) {
    this.client = client;
    this.socket = socket;
  }

  static RawWebSocket connect(Vertx vertx, int port) {
    return connect(vertx, port, new NetClientOptions());
  }

  /** With client options, e.g. a small receive buffer so kernel buffers absorb little of what the server sends. */
  static RawWebSocket connect(Vertx vertx, int port, NetClientOptions options) {
    return connect(vertx, port, options, null);
  }

  /** With a {@code Sec-WebSocket-Extensions} offer (null: none), e.g. Chromium's permessage-deflate one. */
  static RawWebSocket connect(Vertx vertx, int port, NetClientOptions options, String extensionOffer) {
    NetClient client = vertx.createNetClient(options);
    NetSocket socket = TestClient.sync(client.connect(port, "127.0.0.1"), 10);
    RawWebSocket raw = new RawWebSocket(client, socket);
    socket.handler(raw::onData);
    socket.closeHandler(v -> {
      raw.closedAtNanos = System.nanoTime();
      raw.closed.countDown();
    });
    byte[] key = new byte[16];
    raw.random.nextBytes(key);
    String request = "GET /ws HTTP/1.1\r\n"
        + "Host: 127.0.0.1:" + port + "\r\n"
        + "Upgrade: websocket\r\n"
        + "Connection: Upgrade\r\n"
        + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(key) + "\r\n"
        + "Sec-WebSocket-Version: 13\r\n"
        + (extensionOffer == null ? "" : "Sec-WebSocket-Extensions: " + extensionOffer + "\r\n")
        + "\r\n";
    TestClient.sync(socket.write(request), 10);
    try {
      if (!raw.upgraded.await(10, TimeUnit.SECONDS)) {
        throw new AssertionError("no 101 response; got: " + raw.text());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    return raw;
  }

  private synchronized void onData(Buffer data) {
    received.appendBuffer(data);
    if (onServerPing != null) {
      long pings = serverPings();
      for (; pingsSeen < pings; pingsSeen++) {
        onServerPing.run();
      }
    }
    if (upgraded.getCount() > 0 && text().contains("\r\n\r\n")) {
      if (!text().startsWith("HTTP/1.1 101")) {
        throw new AssertionError("upgrade refused: " + text());
      }
      upgraded.countDown();
    }
  }

  synchronized String text() {
    return received.toString(StandardCharsets.ISO_8859_1);
  }

  /** Bytes received after the HTTP response head. */
  synchronized byte[] frames() {
    String all = text();
    int head = all.indexOf("\r\n\r\n");
    return received.getBytes(head + 4, received.length());
  }

  /** Sends one masked text frame (client frames must be masked) and waits until it is written. */
  void sendText(String text) {
    TestClient.sync(writeText(text), 10);
  }

  /** Writes one masked text frame without waiting (usable on the socket's own event loop); under 64 KiB. */
  Future<Void> writeText(String text) {
    return writeFrame(0x81, text.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Sends one masked frame with any first byte (FIN, RSV1-3, opcode: e.g. 0x01 a non-final text
   * fragment, 0x80 a final continuation, 0xC1 a final text frame with RSV1) and any payload
   * under 64 KiB, and waits until it is written.
   */
  void sendFrame(int firstByte, byte[] payload) {
    TestClient.sync(writeFrame(firstByte, payload), 10);
  }

  private Future<Void> writeFrame(int firstByte, byte[] payload) {
    if (payload.length > 0xffff) {
      throw new IllegalArgumentException("keep it under 64 KiB");
    }
    byte[] mask = new byte[4];
    random.nextBytes(mask);
    Buffer frame = Buffer.buffer().appendByte((byte) firstByte);
    if (payload.length < 126) {
      frame.appendByte((byte) (0x80 | payload.length));
    } else {
      frame.appendByte((byte) (0x80 | 126)).appendUnsignedShort(payload.length);
    }
    frame.appendBytes(mask);
    for (int i = 0; i < payload.length; i++) {
      frame.appendByte((byte) (payload[i] ^ mask[i % 4]));
    }
    return socket.write(frame);
  }

  /** Stops reading: TCP back-pressure then fills the server's send buffer. */
  void pause() {
    socket.pause();
  }

  void resume() {
    socket.resume();
  }

  /** This end's TCP port, to find the connection in the kernel's table. */
  int localPort() {
    return socket.localAddress().port();
  }

  boolean awaitClosed(long millis) {
    try {
      return closed.await(millis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Waits until the server has sent a frame described as in {@link #serverFrames()}; its arrival time or -1. */
  long awaitServerFrame(String described, long millis) {
    try {
      Awaitility.await().atMost(Duration.ofMillis(millis)).pollInterval(Duration.ofMillis(5))
          .until(() -> serverFrames().contains(described));
      return System.nanoTime();
    } catch (ConditionTimeoutException e) {
      return -1;
    }
  }

  /** How many WebSocket ping control frames the server has sent. */
  long serverPings() {
    return serverFrames().stream().filter("9"::equals).count();
  }

  /** Runs {@code action} on the socket's thread each time a new server ping arrives (never a pong). */
  void onServerPing(Runnable action) {
    onServerPing = action;
  }


  long closedAtNanos() {
    return closedAtNanos;
  }

  /**
   * The opcodes of the unmasked server frames received so far, e.g. 0x1 text, 0x8 close, 0x9
   * ping; a close frame's status is appended as {@code 8:1001}.
   */
  synchronized java.util.List<String> serverFrames() {
    java.util.List<String> out = new java.util.ArrayList<>();
    for (Frame f : serverFrameList()) {
      int opcode = f.firstByte() & 0x0f;
      byte[] p = f.payload();
      out.add(opcode == 0x8 && p.length >= 2 ? "8:" + (((p[0] & 0xff) << 8) | (p[1] & 0xff))
          : Integer.toHexString(opcode));
    }
    return out;
  }

  /** A server frame: its first byte (FIN, RSV bits, opcode) and its payload as sent. */
  record Frame(int firstByte, byte[] payload) {}

  /** The unmasked server frames received so far, whole ones only (payloads under 64 KiB). */
  synchronized java.util.List<Frame> serverFrameList() {
    byte[] b = frames();
    java.util.List<Frame> out = new java.util.ArrayList<>();
    int i = 0;
    while (i + 2 <= b.length) {
      int len = b[i + 1] & 0x7f;
      int at = i + 2;
      if (len == 126) {
        if (at + 2 > b.length) {
          break;
        }
        len = ((b[at] & 0xff) << 8) | (b[at + 1] & 0xff);
        at += 2;
      } else if (len == 127 || at + len > b.length) {
        break;
      }
      out.add(new Frame(b[i] & 0xff, java.util.Arrays.copyOfRange(b, at, at + len)));
      i = at + len;
    }
    return out;
  }

  @Override
  public void close() {
    socket.close();
    client.close();
  }
}
