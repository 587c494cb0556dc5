package io.switchboard.relay;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/** A real WebSocket client speaking protocol v1, with blocking helpers for readable tests. */
public final class TestClient implements AutoCloseable {
  public static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final WebSocketClient client; // kept referenced: Vert.x 5 closes collected clients
  private final WebSocket ws;
  private final LinkedBlockingQueue<JsonObject> frames = new LinkedBlockingQueue<>();
  private final LinkedBlockingQueue<JsonObject> presence = new LinkedBlockingQueue<>();
  private final LinkedBlockingQueue<JsonObject> reads = new LinkedBlockingQueue<>();
  private final List<JsonObject> skipped = new ArrayList<>();
  private final CountDownLatch closed = new CountDownLatch(1);
  private final AtomicInteger pings = new AtomicInteger();
  private volatile Short closeCode;
  private volatile String closeReason;
  private String user;
  private String token;
  private String session;
  private int nextId;

  private TestClient(WebSocketClient client, WebSocket ws) {
    this.client = client;
    this.ws = ws;
    // Presence arrives whenever others come and go, read cursors whenever anyone sends or reads;
    // tests about other things never see them.
    ws.textMessageHandler(text -> {
      JsonObject frame = new JsonObject(text);
      String type = frame.getString("t");
      ("presence".equals(type) ? presence : "reads".equals(type) ? reads : frames).add(frame);
    });
    // Vert.x answers pings itself; counting them lets tests wait on the server's heartbeat.
    ws.frameHandler(frame -> {
      if (frame.type() == WebSocketFrameType.PING) {
        pings.incrementAndGet();
      }
    });
    ws.closeHandler(v -> {
      closeCode = ws.closeStatusCode();
      closeReason = ws.closeReason();
      closed.countDown();
    });
  }

  /** Waits for a future from a test thread; a timeout is a test failure. */
  public static <T> T sync(Future<T> future, long seconds) {
    try {
      return future.await(seconds, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("no result within " + seconds + " s", e);
    }
  }

  public static TestClient connect(Vertx vertx, int port) {
    return connect(vertx, port, new WebSocketClientOptions());
  }

  public static TestClient connect(Vertx vertx, int port, WebSocketClientOptions options) {
    WebSocketClient client = vertx.createWebSocketClient(options.setMaxFrameSize(1 << 20).setMaxMessageSize(1 << 22));
    WebSocket ws = sync(client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
        .setURI("/ws")), TIMEOUT.toSeconds());
    return new TestClient(client, ws);
  }

  public WebSocket socket() {
    return ws;
  }

  public String user() {
    return user;
  }

  /** The session id from welcome, which is also this connection's peer id. */
  public String session() {
    return session;
  }

  public String token() {
    return token;
  }

  public void sendRaw(String text) {
    sync(ws.writeTextMessage(text), TIMEOUT.toSeconds());
  }

  public void send(JsonObject frame) {
    sendRaw(frame.encode());
  }

  public int id() {
    return ++nextId;
  }

  /** The next frame, whatever it is; fails after the timeout. */
  public JsonObject next() {
    return next(TIMEOUT);
  }

  public JsonObject next(Duration timeout) {
    try {
      JsonObject frame = frames.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (frame == null) {
        throw new AssertionError("no frame within " + timeout + "; skipped so far: " + skipped);
      }
      return frame;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The next presence frame (kept apart from {@link #next()}). */
  public JsonObject nextPresence() {
    try {
      JsonObject frame = presence.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      if (frame == null) {
        throw new AssertionError("no presence within " + TIMEOUT);
      }
      return frame;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The next presence frame if one arrives within the timeout, else null. */
  public JsonObject pollPresence(Duration timeout) {
    try {
      return presence.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The next {@code reads} frame (kept apart from {@link #next()}) if one arrives within the timeout, else null. */
  public JsonObject pollReads(Duration timeout) {
    try {
      return reads.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The next frame if one arrives within the timeout, else null. */
  public JsonObject poll(Duration timeout) {
    try {
      return frames.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The first frame matching, keeping the ones passed over in {@link #skipped()}. */
  public JsonObject await(Predicate<JsonObject> match) {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError("no matching frame within " + TIMEOUT + "; skipped: " + skipped);
      }
      JsonObject frame = next(Duration.ofNanos(left));
      if (match.test(frame)) {
        return frame;
      }
      skipped.add(frame);
    }
  }

  public JsonObject await(String type) {
    return await(f -> type.equals(f.getString("t")));
  }

  public List<JsonObject> skipped() {
    return skipped;
  }

  public JsonObject hello() {
    return hello(null, null);
  }

  public JsonObject hello(String token, JsonObject resume) {
    return hello(token, resume, null);
  }

  /** A hello with a guest display name ({@code name} null: none). */
  public JsonObject hello(String token, JsonObject resume, String name) {
    JsonObject hello = new JsonObject().put("t", "hello");
    if (name != null) {
      hello.put("name", name);
    }
    if (token != null) {
      hello.put("token", token);
    }
    if (resume != null) {
      hello.put("resume", resume);
    }
    send(hello);
    JsonObject welcome = await("welcome");
    user = welcome.getString("user");
    session = welcome.getString("session");
    this.token = welcome.getString("token");
    return welcome;
  }

  public JsonObject join(String room) {
    int id = id();
    send(new JsonObject().put("t", "join").put("id", id).put("room", room));
    return await(f -> Integer.valueOf(id).equals(f.getInteger("id")));
  }

  /** Sends a message and returns its (first) ack. */
  public JsonObject sendMessage(String room, String cid, String body) {
    send(new JsonObject().put("t", "send").put("room", room).put("cid", cid).put("body", body));
    return await(f -> "ack".equals(f.getString("t")) && cid.equals(f.getString("cid")));
  }

  /** Sends a frame with a fresh id and returns the error or reply that carries it. */
  public JsonObject request(JsonObject frame) {
    int id = id();
    send(frame.copy().put("id", id));
    return await(f -> Integer.valueOf(id).equals(f.getInteger("id")) || Integer.valueOf(id).equals(f.getInteger("ref")));
  }

  /** WebSocket ping control frames received from the server (each answered with a pong by Vert.x). */
  public int pingsReceived() {
    return pings.get();
  }

  public boolean awaitClose() {
    try {
      return closed.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  public boolean isClosed() {
    return closed.getCount() == 0;
  }

  public Short closeCode() {
    return closeCode;
  }

  public String closeReason() {
    return closeReason;
  }

  @Override
  public void close() {
    if (!isClosed()) {
      sync(ws.close(), TIMEOUT.toSeconds());
    }
    client.close();
  }
}
