package io.switchboard.bench;

import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Load driver for the relay, in its own JVM. Scenario {@code chat}: N users, one WebSocket each,
 * rooms of K, each user sending R msg/s (evenly spaced, random phase) for warmup + duration
 * seconds, then a drain period. Talks to 127.0.0.1 only; every loop is bounded in time.
 *
 * <pre>
 * java -jar switchboard-bench.jar chat --users 100 --room-size 10 --rate 1 --duration 60 --warmup 5
 *     --url ws://127.0.0.1:8080/ws --admin http://127.0.0.1:8081 --server-pid PID --pg-port P --out FILE.json
 * </pre>
 */
public final class LoadDriver {
  private static final Logger LOG = LoggerFactory.getLogger(LoadDriver.class);
  private static final int CONNECT_CONCURRENCY = 32;
  private static final int MAX_LOGGED_ERRORS = 10;

  private final Map<String, String> opts;
  private final int users;
  private final int roomSize;
  private final double rate;
  private final int durationS;
  private final int warmupS;
  private final int drainS;
  private final String url;
  private final String admin;
  private final long serverPid;
  private final int pgPort;
  private final String pgPassword;
  private final long seed;
  /** switchboard, or socketio (Engine.IO v4 / Socket.IO v5 packets over a plain WebSocket). */
  private final boolean socketio;
  private final boolean compression;
  private final int dropEvery;
  private final int duplicateEvery;
  private final AtomicLong msgFrames = new AtomicLong();
  /** outage: remember every cid acked stored:true. */
  private final boolean trackStored;
  /** outage: every cid acked stored:true, to check against the database afterwards. */
  final java.util.Set<String> ackedStoredCids = ConcurrentHashMap.newKeySet();
  private volatile Runnable onSendingStarted = () -> { };
  private volatile ServerSampler sampler;
  private long cpuAtMeasureStart = -1;
  private long cpuAtMeasureEnd = -1;
  private long jitAtMeasureStart = -1;
  private long jitAtMeasureEnd = -1;

  private final Vertx vertx;
  // Vert.x 5 closes unreferenced clients when they are garbage-collected: keep them in fields.
  private final WebSocketClient wsClient;
  private final HttpClient httpClient;
  private final ChatAccounting acc = new ChatAccounting();
  private final ChatText text;
  private final List<User> all = new ArrayList<>();
  private final ConcurrentHashMap<String, LongAdder> framesIn = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, LongAdder> negotiated = new ConcurrentHashMap<>();
  private final AtomicInteger loggedErrors = new AtomicInteger();
  private volatile boolean closing;
  // Split of send->receive at the server's msg.ts (wall-clock ms, truncated): up = send -> ts,
  // down = ts -> receive. ms resolution only, so means are meaningful, single values are not.
  private final long wall0Millis = System.currentTimeMillis();
  private final long wall0Nanos = System.nanoTime();
  private final org.HdrHistogram.ConcurrentHistogram upLeg = new org.HdrHistogram.ConcurrentHistogram(60_000_000L, 3);
  private final org.HdrHistogram.ConcurrentHistogram downLeg = new org.HdrHistogram.ConcurrentHistogram(60_000_000L, 3);
  private final java.util.concurrent.atomic.DoubleAdder upSum = new java.util.concurrent.atomic.DoubleAdder();
  private final java.util.concurrent.atomic.DoubleAdder downSum = new java.util.concurrent.atomic.DoubleAdder();
  private final LongAdder legCount = new LongAdder();
  // driver-side: send time -> the write future completes (frame handed to the OS socket)
  private final org.HdrHistogram.ConcurrentHistogram written = new org.HdrHistogram.ConcurrentHistogram(60_000_000_000L, 3);

  LoadDriver(Map<String, String> opts) {
    this.opts = opts;
    this.users = intOpt("users", 100);
    this.roomSize = intOpt("room-size", 10);
    this.rate = Double.parseDouble(opts.getOrDefault("rate", "1"));
    this.durationS = intOpt("duration", 60);
    this.warmupS = intOpt("warmup", 5);
    this.drainS = intOpt("drain", 5);
    this.url = opts.getOrDefault("url", "ws://127.0.0.1:8080/ws");
    this.admin = opts.getOrDefault("admin", "http://127.0.0.1:8081");
    this.serverPid = Long.parseLong(opts.getOrDefault("server-pid", "-1"));
    this.pgPort = intOpt("pg-port", -1);
    this.pgPassword = opts.getOrDefault("pg-password", "");
    String seedOpt = opts.getOrDefault("seed", "");
    this.seed = seedOpt.isEmpty() ? System.nanoTime() : Long.parseLong(seedOpt);
    this.socketio = "socketio".equals(opts.getOrDefault("dialect", "switchboard"));
    this.compression = Boolean.parseBoolean(opts.getOrDefault("compression", "true"));
    this.dropEvery = intOpt("drop-every", 0);
    this.duplicateEvery = intOpt("duplicate-every", 0);
    this.trackStored = Boolean.parseBoolean(opts.getOrDefault("track-stored", "false"));
    if (socketio) {
      acc.expectAcks(false); // a stock Socket.IO server stores nothing and acks nothing
    }
    if (users < 2 || roomSize < 2 || rate <= 0 || durationS < 1 || warmupS < 0 || drainS < 0) {
      throw new IllegalArgumentException("need users >= 2, room-size >= 2, rate > 0, duration >= 1, warmup/drain >= 0");
    }
    requireLoopback(url);
    if (!admin.isEmpty()) {
      requireLoopback(admin);
    }
    this.text = new ChatText(seed, 2000);
    // default 2 x cores; fewer loops = fewer runnable threads competing with the server's CPU
    int loops = eventLoops(opts);
    this.vertx = Vertx.vertx(new io.vertx.core.VertxOptions().setEventLoopPoolSize(loops));
    this.wsClient = vertx.createWebSocketClient(offerLikeChromium(new WebSocketClientOptions()
        // maxConnections defaults to 50 per host: excess handshakes would queue behind them
        .setMaxConnections(users + CONNECT_CONCURRENCY)
        .setConnectTimeout(10_000).setMaxFrameSize(1 << 20).setMaxMessageSize(4 << 20), compression));
    this.httpClient = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(2000));
  }

  /** Chromium 150's offer, as seen on the wire (a raw socket listening for its upgrade request). */
  static final String CHROMIUM_OFFER = "permessage-deflate; client_max_window_bits";

  /**
   * Client options for Chromium's permessage-deflate offer, or none: per-message compression at
   * level 6, server context takeover not asked about. Use with
   * {@link #offerLikeChromium(WebSocketConnectOptions, boolean)}: every scenario that measures what
   * users get goes through both. Chromium accepts an answer with {@code client_no_context_takeover}
   * (RFC 7692 §7.1.1.2 lets a server send it unasked; checked with Chromium against the relay's
   * {@code deflate-no-context}); Netty's client refuses it unless allowed, and allowing it also puts
   * the parameter into the offer. Neither the relay's handshakers nor Socket.IO answer that offer
   * differently from Chromium's (Netty keeps client context unless its server is set to prefer
   * otherwise, which the relay's {@code deflate} is not); {@code negotiatedExtensions} in every
   * result records the answers.
   */
  static WebSocketClientOptions offerLikeChromium(WebSocketClientOptions o, boolean offer) {
    return o.setTryUsePerMessageCompression(offer).setTryUsePerFrameCompression(false)
        .setCompressionAllowClientNoContext(offer).setCompressionRequestServerNoContext(false);
  }

  /**
   * Vert.x 5.0.8's client alone offers a bare {@code permessage-deflate}; Netty merges this header's
   * parameters into its offer, which makes it Chromium's ({@code client_max_window_bits}: the client
   * could use a smaller window if the server asked for one).
   */
  static WebSocketConnectOptions offerLikeChromium(WebSocketConnectOptions co, boolean offer) {
    return offer ? co.addHeader("Sec-WebSocket-Extensions", CHROMIUM_OFFER) : co;
  }

  /** The extension header the server answered (empty: none), counted per distinct answer. */
  static void countNegotiated(Map<String, LongAdder> into, WebSocket ws) {
    String ext = ws.headers() == null ? null : ws.headers().get("sec-websocket-extensions");
    into.computeIfAbsent(ext == null ? "" : ext, k -> new LongAdder()).increment();
  }

  private int intOpt(String name, int def) {
    String v = opts.getOrDefault(name, "");
    return v.isEmpty() ? def : Integer.parseInt(v);
  }

  static int eventLoops(Map<String, String> opts) {
    int n = Integer.parseInt(opts.getOrDefault("event-loops", "0"));
    return n > 0 ? n : 2 * Runtime.getRuntime().availableProcessors();
  }

  /** Runs once every user is sending (the outage scenario times its Postgres stop from here). */
  void onSendingStarted(Runnable r) {
    this.onSendingStarted = r;
  }

  /** The sampler of this run (the outage scenario adds its own events to the JSON). */
  ServerSampler sampler() {
    return sampler;
  }

  /** The network rule: this tool only ever talks to 127.0.0.1. */
  static void requireLoopback(String address) {
    String host = URI.create(address).getHost();
    if (!"127.0.0.1".equals(host)) {
      throw new IllegalArgumentException("only 127.0.0.1 is allowed, got " + address);
    }
  }

  /** One simulated user: one WebSocket, one room, confined to the socket's event loop. */
  private final class User {
    final int idx;
    final String room;
    final ChatAccounting.Receiver rx = acc.receiver();
    final Random random;
    final Promise<Void> joined = Promise.promise();
    WebSocket ws;
    Context ctx;
    long heartbeatMs = 15_000;
    int expectedReceivers;
    long n;
    long sendTimer = -1;
    long pingTimer = -1;

    User(int idx, String room) {
      this.idx = idx;
      this.room = room;
      this.random = Bench.clientRandom(seed, idx);
    }

    void onText(String frame) {
      long now = System.nanoTime();
      acc.received(utf8Length(frame), now);
      if (socketio) {
        onSocketIo(frame, now);
        return;
      }
      FrameFields o;
      try {
        o = FrameFields.ofObject(frame);
      } catch (RuntimeException e) {
        acc.error("driver:unparseable");
        return;
      }
      String t = o.t == null ? "?" : o.t;
      framesIn.computeIfAbsent(t, k -> new LongAdder()).increment();
      switch (t) {
        case "msg" -> onMsg(o, now);
        case "ack" -> {
          boolean stored = Boolean.TRUE.equals(o.stored);
          acc.ack(o.cid, stored, now);
          if (stored && trackStored) {
            ackedStoredCids.add(o.cid);
          }
        }
        case "welcome" -> {
          heartbeatMs = o.heartbeatMs == null ? heartbeatMs : o.heartbeatMs;
          ws.writeTextMessage(new JsonObject().put("t", "join").put("id", "j").put("room", room).encode());
        }
        case "joined" -> joined.tryComplete();
        case "pong" -> {
          if (o.id instanceof String sid && sid.startsWith("p")) {
            acc.pong(Long.parseLong(sid, 1, sid.length(), 10), now);
          }
        }
        case "error" -> {
          String code = o.code;
          acc.error(code);
          if (loggedErrors.incrementAndGet() <= MAX_LOGGED_ERRORS) {
            LOG.warn("user {}: error frame {}", idx, frame);
          }
          if ("j".equals(String.valueOf(o.ref))) {
            joined.tryFail("join failed: " + frame);
          } else if (o.ref instanceof String cid && "storage_unavailable".equals(code)) {
            acc.rejected(cid, expectedReceivers); // not delivered, not stored: the client keeps it
          }
        }
        default -> { }
      }
    }

    private void onMsg(FrameFields o, long now) {
      long k = msgFrames.incrementAndGet();
      if (dropEvery > 0 && k % dropEvery == 0) {
        return; // harness self-test: as if the frame never arrived
      }
      if (rx.msg(o.room, o.seq, o.cid, now)) {
        legs(o.cid, o.ts, now);
      }
      if (duplicateEvery > 0 && k % duplicateEvery == 0) {
        rx.msg(o.room, o.seq, o.cid, now); // as if it arrived twice
      }
    }

    /** Engine.IO v4 packets: 0 open, 2 ping, 4 message; Socket.IO v5 inside: 0 connect, 2 event. */
    private void onSocketIo(String frame, long now) {
      if (frame.isEmpty()) {
        return;
      }
      char eio = frame.charAt(0);
      switch (eio) {
        case '0' -> ws.writeTextMessage("40"); // connect to the main namespace
        case '2' -> ws.writeTextMessage("3"); // engine ping -> pong (the heartbeat)
        case '4' -> {
          if (frame.startsWith("40")) {
            framesIn.computeIfAbsent("connect", k -> new LongAdder()).increment();
            ws.writeTextMessage("42" + new JsonArray().add("join").add(room).encode());
          } else if (frame.startsWith("42")) {
            FrameFields.Event ev;
            try {
              ev = FrameFields.ofSocketIoEvent(frame.substring(2));
            } catch (RuntimeException e) {
              acc.error("driver:unparseable");
              return;
            }
            framesIn.computeIfAbsent(ev.name(), k -> new LongAdder()).increment();
            switch (ev.name()) {
              case "msg" -> {
                if (ev.fields() == null) {
                  acc.error("driver:unparseable");
                } else {
                  onMsg(ev.fields(), now);
                }
              }
              case "joined" -> joined.tryComplete();
              case "echoed" -> {
                String sid = ev.text();
                if (sid != null && sid.length() > 1) {
                  acc.pong(Long.parseLong(sid, 1, sid.length(), 10), now);
                }
              }
              default -> { }
            }
          } else if (frame.startsWith("44")) {
            acc.error("socketio:connect_error");
            joined.tryFail("connect_error " + frame);
          }
        }
        default -> framesIn.computeIfAbsent("eio" + eio, k -> new LongAdder()).increment();
      }
    }

    private void legs(String cid, Long ts, long now) {
      Long sendNanos = ChatAccounting.sendNanosOf(cid);
      if (ts == null || sendNanos == null || !acc.measured(sendNanos)) {
        return;
      }
      double tsMid = ts + 0.5; // ts is truncated to the ms: on average half a ms early
      double up = tsMid - (wall0Millis + (sendNanos - wall0Nanos) / 1e6);
      double down = (wall0Millis + (now - wall0Nanos) / 1e6) - tsMid;
      upSum.add(up);
      downSum.add(down);
      legCount.increment();
      upLeg.recordValue(Math.max(0, Math.min(60_000_000L, Math.round(up * 1000))));
      downLeg.recordValue(Math.max(0, Math.min(60_000_000L, Math.round(down * 1000))));
    }

    void startSending(long startNanos, long untilNanos, double periodMs) {
      ctx.runOnContext(v -> {
        long now = System.nanoTime();
        long phase = (long) (random.nextDouble() * periodMs);
        long delay = Math.max(1, (startNanos - now) / 1_000_000 + phase);
        long period = Math.max(1, Math.round(periodMs));
        sendTimer = vertx.setPeriodic(delay, period, id -> {
          long t = System.nanoTime();
          if (t >= untilNanos || closing) {
            vertx.cancelTimer(id);
            return;
          }
          send(t);
        });
        // pings keep the socket alive and give a baseline: a server round trip without fanout
        long pingEvery = Math.max(1000, heartbeatMs / 3);
        pingTimer = vertx.setPeriodic(delay + pingEvery / 2, pingEvery, id -> {
          if (!closing) {
            ws.writeTextMessage(socketio ? "42[\"echo\",\"p" + System.nanoTime() + "\"]"
                : "{\"t\":\"ping\",\"id\":\"p" + System.nanoTime() + "\"}");
          }
        });
      });
    }

    void send(long nowNanos) {
      // the send time is taken when the frame is built, a microsecond or so before the write
      String cid = ChatAccounting.cid(idx, ++n, nowNanos);
      String frame;
      if (socketio) {
        frame = "42" + new JsonArray().add("send")
            .add(new JsonObject().put("room", room).put("cid", cid).put("body", text.next(random))).encode();
      } else {
        // id = cid, as the SDK sends an id: a storage_unavailable refusal names its send
        frame = new JsonObject().put("t", "send").put("id", cid).put("room", room).put("cid", cid)
            .put("body", text.next(random)).encode();
      }
      long sendNanos = nowNanos;
      boolean measured = acc.measured(sendNanos);
      ws.writeTextMessage(frame).onComplete(ar -> {
        if (measured && ar.succeeded()) {
          written.recordValue(Math.min(60_000_000_000L, Math.max(0, System.nanoTime() - sendNanos)));
        }
      });
      acc.sent(sendNanos, expectedReceivers, utf8Length(frame));
    }

    void close() {
      if (sendTimer >= 0) {
        vertx.cancelTimer(sendTimer);
      }
      if (pingTimer >= 0) {
        vertx.cancelTimer(pingTimer);
      }
      if (ws != null && !ws.isClosed()) {
        ws.close((short) 1000, "bench done");
      }
    }
  }

  static int utf8Length(String s) {
    int bytes = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        bytes += 1;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        bytes += 4;
        i++;
      } else {
        bytes += 3;
      }
    }
    return bytes;
  }

  Vertx vertx() {
    return vertx;
  }

  JsonObject run() throws Exception {
    String runId = Long.toString(Math.abs(seed) % 1_000_000, 36);
    ServerSampler sampler = new ServerSampler(vertx, serverPid, pgPort, pgPassword, socketio ? null : admin);
    this.sampler = sampler;
    sampler.start();

    // 1. connect and join, at most CONNECT_CONCURRENCY handshakes in flight
    int rooms = (users + roomSize - 1) / roomSize;
    for (int i = 0; i < users; i++) {
      all.add(new User(i, "bench-" + runId + "-r" + (i / roomSize)));
    }
    long connectStart = System.nanoTime();
    Semaphore inFlight = new Semaphore(CONNECT_CONCURRENCY);
    WebSocketConnectOptions connectOptions = offerLikeChromium(new WebSocketConnectOptions().setAbsoluteURI(url), compression);
    for (User u : all) {
      if (!inFlight.tryAcquire(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("connect phase stuck");
      }
      u.joined.future().onComplete(ar -> inFlight.release());
      vertx.setTimer(15_000, id -> u.joined.tryFail("no joined within 15 s"));
      wsClient.connect(connectOptions).onSuccess(ws -> {
        u.ws = ws;
        u.ctx = Vertx.currentContext();
        countNegotiated(negotiated, ws);
        ws.textMessageHandler(u::onText);
        ws.binaryMessageHandler(b -> acc.error("driver:binary"));
        ws.exceptionHandler(e -> LOG.debug("user {}: {}", u.idx, e.toString()));
        ws.closeHandler(v -> {
          if (!closing) {
            acc.unexpectedClose(ws.closeStatusCode() + " " + ws.closeReason());
            LOG.warn("user {}: socket closed by server: {} {}", u.idx, ws.closeStatusCode(), ws.closeReason());
          }
        });
        if (!socketio) {
          ws.writeTextMessage("{\"t\":\"hello\"}"); // socket.io: the server speaks first (open packet)
        }
      }).onFailure(e -> u.joined.tryFail(e));
    }
    int connected = 0;
    List<String> connectFailures = new ArrayList<>();
    for (User u : all) {
      try {
        u.joined.future().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
        connected++;
      } catch (Exception e) {
        if (connectFailures.size() < 5) {
          connectFailures.add("user " + u.idx + ": " + e.getMessage());
        }
      }
    }
    double connectSeconds = (System.nanoTime() - connectStart) / 1e9;
    LOG.info("{} of {} users connected and joined {} rooms in {} s", connected, users, rooms,
        String.format("%.2f", connectSeconds));
    if (connected < users) {
      LOG.error("connect failures (first 5): {}", connectFailures);
    }

    // expected receivers = members of the room that actually joined, minus the sender
    Map<String, Integer> members = new HashMap<>();
    for (User u : all) {
      if (u.joined.future().succeeded()) {
        members.merge(u.room, 1, Integer::sum);
      }
    }
    for (User u : all) {
      u.expectedReceivers = members.getOrDefault(u.room, 1) - 1;
    }

    // 2. send: warmup, then the measured window
    long start = System.nanoTime() + 200_000_000L;
    long measureFrom = start + warmupS * 1_000_000_000L;
    long sendUntil = measureFrom + durationS * 1_000_000_000L;
    acc.window(measureFrom, sendUntil);
    double periodMs = 1000.0 / rate;
    for (User u : all) {
      if (u.joined.future().succeeded()) {
        u.startSending(start, sendUntil, periodMs);
      }
    }
    Instant startedAt = Instant.now();
    long bytesOutAtStart = -1;
    vertx.setTimer(Math.max(1, (start - System.nanoTime()) / 1_000_000), id -> onSendingStarted.run());
    while (System.nanoTime() < measureFrom) {
      Thread.sleep(Math.max(1, Math.min(1000, (measureFrom - System.nanoTime()) / 1_000_000)));
    }
    bytesOutAtStart = wireBytesRead();
    boolean wireSampled = bytesOutAtStart >= 0;
    cpuAtMeasureStart = ServerSampler.readCpuTicks(serverPid);
    jitAtMeasureStart = ServerSampler.readThreadCpuTicks(serverPid, ServerSampler.JIT_THREADS);
    while (System.nanoTime() < sendUntil) {
      long left = sendUntil - System.nanoTime();
      Thread.sleep(Math.max(1, Math.min(5000, left / 1_000_000)));
      ChatAccounting.Snapshot s = acc.snapshot();
      LOG.info("sent {} delivered(measured) {} / expected {} acked {} errors {} rss {} MB db {}",
          s.sentTotal(), s.delivered(), s.expected(), s.acked(), s.errorFrames(),
          sampler.maxRssKb() / 1024, sampler.maxDbConnections());
    }

    cpuAtMeasureEnd = ServerSampler.readCpuTicks(serverPid);
    jitAtMeasureEnd = ServerSampler.readThreadCpuTicks(serverPid, ServerSampler.JIT_THREADS);

    // 3. drain: until every measured message arrived and was acked, or the drain bound
    long drainStart = System.nanoTime();
    long drainUntil = drainStart + drainS * 1_000_000_000L;
    while (!acc.complete() && System.nanoTime() < drainUntil) {
      Thread.sleep(50);
    }
    double drainSeconds = (System.nanoTime() - drainStart) / 1e9;
    ChatAccounting.Snapshot s = acc.snapshot();
    long bytesOutAtEnd = wireSampled ? wireBytesRead() : -1;
    sampler.stop();
    Map<String, String> serverMetrics = scrapeMetrics();

    closing = true;
    for (User u : all) {
      if (u.ctx != null) {
        u.ctx.runOnContext(v -> u.close());
      }
    }
    Thread.sleep(300);

    JsonObject result = report(s, sampler, serverMetrics, connected, connectSeconds, drainSeconds, rooms, startedAt);
    long wire = bytesOutAtStart >= 0 && bytesOutAtEnd >= 0 ? bytesOutAtEnd - bytesOutAtStart : -1;
    double wireMinutes = (durationS + drainSeconds) / 60.0;
    result.getJsonObject("bandwidth")
        .put("compression", compression)
        .put("wireReceivedBytesPerUserPerMinute", wire < 0 || connected == 0 ? -1 : Math.round(wire / (double) connected / wireMinutes))
        .put("wireNote", "wireReceivedBytesPerUserPerMinute: TCP payload bytes the driver's sockets received from the"
            + " server (kernel bytes_received from ss -tin: WebSocket frames as on the wire, after permessage-deflate"
            + " when negotiated; TCP/IP headers excluded) from the end of warm-up to the end of the drain, per"
            + " connected user per minute; -1 without ss");
    return result;
  }

  private Map<String, String> scrapeMetrics() {
    Map<String, String> m = new TreeMap<>();
    try {
      String body = httpClient.request(new io.vertx.core.http.RequestOptions().setMethod(HttpMethod.GET)
              .setAbsoluteURI(admin + "/metrics"))
          .compose(req -> req.send().compose(resp -> resp.body()))
          .toCompletionStage().toCompletableFuture().get(3, TimeUnit.SECONDS).toString();
      for (String line : body.split("\n")) {
        if (line.startsWith("switchboard_") || line.startsWith("vertx_pool") || line.startsWith("jvm_memory_used_bytes")) {
          int sp = line.lastIndexOf(' ');
          if (sp > 0) {
            m.put(line.substring(0, sp), line.substring(sp + 1));
          }
        }
      }
    } catch (Exception e) {
      m.put("scrape_error", e.toString());
    }
    return m;
  }

  private JsonObject legsJson() {
    long n = legCount.sum();
    return new JsonObject()
        .put("note", "send->receive split at msg.ts (server wall clock, ms resolution; +0.5 ms centring):"
            + " up = driver send -> server sequencing, down = sequencing -> driver receive; percentiles are"
            + " +-0.5 ms, clamped at 0")
        .put("count", n)
        .put("upMeanMs", n == 0 ? 0 : Math.round(upSum.sum() / n * 1000) / 1000.0)
        .put("downMeanMs", n == 0 ? 0 : Math.round(downSum.sum() / n * 1000) / 1000.0)
        .put("upP50Ms", upLeg.getValueAtPercentile(50) / 1000.0)
        .put("upP99Ms", upLeg.getValueAtPercentile(99) / 1000.0)
        .put("downP50Ms", downLeg.getValueAtPercentile(50) / 1000.0)
        .put("downP99Ms", downLeg.getValueAtPercentile(99) / 1000.0);
  }

  private static JsonObject latency(Histogram h) {
    return new JsonObject()
        .put("count", h.getTotalCount())
        .put("p50", ms(h.getValueAtPercentile(50)))
        .put("p95", ms(h.getValueAtPercentile(95)))
        .put("p99", ms(h.getValueAtPercentile(99)))
        .put("p999", ms(h.getValueAtPercentile(99.9)))
        .put("max", ms(h.getMaxValue()))
        .put("mean", Math.round(h.getMean() / 1000.0) / 1000.0);
  }

  private static double ms(long nanos) {
    return Math.round(nanos / 1000.0) / 1000.0;
  }

  private JsonObject report(ChatAccounting.Snapshot s, ServerSampler sampler, Map<String, String> serverMetrics,
      int connected, double connectSeconds, double drainSeconds, int rooms, Instant startedAt) {
    double minutes = durationS / 60.0;
    long bytesPerUserPerMin = connected == 0 ? 0 : Math.round(s.bytesReceived() / (double) connected / minutes);
    long sentBytesPerUserPerMin = connected == 0 ? 0 : Math.round(s.bytesSent() / (double) connected / minutes);
    double errorRate = s.sentTotal() == 0 ? 0 : (double) s.errorFrames() / s.sentTotal();
    long maxRssMb = sampler.maxRssKb() < 0 ? -1 : Math.round(sampler.maxRssKb() / 1024.0);
    Histogram d = s.deliveryLatency();

    Map<String, Long> frames = new TreeMap<>();
    framesIn.forEach((k, v) -> frames.put(k, v.sum()));
    JsonObject targets = new JsonObject()
        .put("p99_below_10ms", ms(d.getValueAtPercentile(99)) < 10.0)
        .put("nothing_duplicated", s.duplicated() == 0)
        .put("nothing_lost", s.lost() == 0 && s.expected() > 0)
        .put("rss_below_300MB", maxRssMb >= 0 && maxRssMb < 300)
        .put("db_connections_at_most_4", sampler.maxDbConnections() >= 0 && sampler.maxDbConnections() <= 4);
    Map<String, Object> params = new LinkedHashMap<>();
    params.put("users", users);
    params.put("roomSize", roomSize);
    params.put("rooms", rooms);
    params.put("ratePerUser", rate);
    params.put("durationS", durationS);
    params.put("warmupS", warmupS);
    params.put("drainS", drainS);
    params.put("url", url);
    params.put("serverPid", serverPid);
    params.put("pgPort", pgPort);
    params.put("seed", seed);
    params.put("eventLoops", eventLoops(opts));
    params.put("dialect", socketio ? "socketio" : "switchboard");
    params.put("compression", compression);
    params.put("relayCompression", opts.getOrDefault("relay-compression", ""));
    Map<String, Long> answers = new TreeMap<>();
    negotiated.forEach((k, v) -> answers.put(k, v.sum()));
    params.put("negotiatedExtensions", answers); // Sec-WebSocket-Extensions answered -> connections
    if (dropEvery > 0 || duplicateEvery > 0) {
      params.put("dropEvery", dropEvery);
      params.put("duplicateEvery", duplicateEvery);
    }
    return new JsonObject()
        .put("scenario", "chat")
        .put("startedAt", startedAt.toString())
        .put("params", new JsonObject(params))
        .put("connected", connected)
        .put("connectSeconds", Math.round(connectSeconds * 100) / 100.0)
        .put("drainSeconds", Math.round(drainSeconds * 100) / 100.0)
        .put("sent", s.sent())
        .put("sentIncludingWarmup", s.sentTotal())
        .put("acked", s.acked())
        .put("ackedStoredFalse", s.ackedNotStored())
        .put("expectedDeliveries", s.expected())
        .put("delivered", s.delivered())
        .put("lost", s.lost())
        .put("rejectedStorageUnavailable", s.rejected())
        .put("rejectedStorageUnavailableMeasured", s.rejectedMeasured())
        .put("duplicated", s.duplicated())
        .put("outOfOrder", s.outOfOrder())
        .put("deliveredIncludingWarmup", s.deliveredTotal())
        .put("deliveriesPerSecond", Math.round(s.delivered() / (double) durationS * 10) / 10.0)
        .put("sendsPerSecond", Math.round(s.sent() / (double) durationS * 10) / 10.0)
        .put("errorFrames", new JsonObject(new LinkedHashMap<>(s.errors())))
        .put("errorRate", errorRate)
        .put("unexpectedCloses", new JsonObject(new LinkedHashMap<>(s.unexpectedCloses())))
        .put("framesReceivedByType", new JsonObject(new LinkedHashMap<>(frames)))
        .put("latencyMs", new JsonObject()
            .put("sendToReceive", latency(d))
            .put("sendToReceiveCdf", Charts.cdf(d))
            .put("sendToAckStored", latency(s.ackLatency()))
            .put("pingToPongBaseline", latency(s.pingLatency()))
            .put("splitAtServerTs", legsJson())
            .put("sendToWrittenDriverSide", latency(written)))
        .put("server", new JsonObject()
            .put("maxRssMb", maxRssMb)
            .put("maxDbConnections", sampler.maxDbConnections())
            .put("dbSamplerError", sampler.pgError())
            .put("samples", sampler.samplesJson())
            .put("cpuSeconds", sampler.cpuSeconds())
            .put("cpuSecondsMeasured", ServerSampler.secondsBetween(cpuAtMeasureStart, cpuAtMeasureEnd))
            // a JVM still compiling hot code competes with its own event loop (and the driver) for the cores
            .put("jitCpuSecondsMeasured", ServerSampler.secondsBetween(jitAtMeasureStart, jitAtMeasureEnd))
            .put("rowsPerSecondMax", sampler.maxRowsPerSecond())
            .put("metricsAtEnd", new JsonObject(new LinkedHashMap<>(serverMetrics))))
        .put("bandwidth", new JsonObject()
            .put("receivedBytesPerUserPerMinute", bytesPerUserPerMin)
            .put("sentBytesPerUserPerMinute", sentBytesPerUserPerMin)
            .put("note", "UTF-8 payload bytes of WebSocket text frames after inflating (whether or not the driver offered"
                + " permessage-deflate), without WebSocket/TCP framing; received = frames arriving inside the"
                + " measured window"))
        .put("targets", socketio ? new JsonObject() : targets);
  }

  static String summary(JsonObject r) {
    JsonObject p = r.getJsonObject("params");
    JsonObject l = r.getJsonObject("latencyMs").getJsonObject("sendToReceive");
    JsonObject a = r.getJsonObject("latencyMs").getJsonObject("sendToAckStored");
    JsonObject srv = r.getJsonObject("server");
    StringBuilder sb = new StringBuilder();
    sb.append(String.format("%s: %d users (%d connected), rooms of %d, %.2f msg/s/user, %d s (+%d s warmup)%s%n",
        r.getString("scenario"), p.getInteger("users"), r.getInteger("connected"), p.getInteger("roomSize"),
        p.getDouble("ratePerUser"), p.getInteger("durationS"), p.getInteger("warmupS"),
        "socketio".equals(p.getString("dialect")) ? " against a stock Socket.IO 4.8 rooms server" : ""));
    sb.append(String.format("  send->receive ms  p50 %.3f  p95 %.3f  p99 %.3f  max %.3f  (n=%d)%n",
        l.getDouble("p50"), l.getDouble("p95"), l.getDouble("p99"), l.getDouble("max"), l.getLong("count")));
    sb.append(String.format("  send->ack(stored) p50 %.3f  p95 %.3f  p99 %.3f  max %.3f  (n=%d)%n",
        a.getDouble("p50"), a.getDouble("p95"), a.getDouble("p99"), a.getDouble("max"), a.getLong("count")));
    JsonObject pp = r.getJsonObject("latencyMs").getJsonObject("pingToPongBaseline");
    sb.append(String.format("  ping->pong (base) p50 %.3f  p95 %.3f  p99 %.3f  max %.3f  (n=%d)%n",
        pp.getDouble("p50"), pp.getDouble("p95"), pp.getDouble("p99"), pp.getDouble("max"), pp.getLong("count")));
    JsonObject sp = r.getJsonObject("latencyMs").getJsonObject("splitAtServerTs");
    sb.append(String.format("  split at msg.ts    up (send->server) mean %.2f p50 %.1f p99 %.1f | down (server->recv) mean %.2f p50 %.1f p99 %.1f%n",
        sp.getDouble("upMeanMs"), sp.getDouble("upP50Ms"), sp.getDouble("upP99Ms"),
        sp.getDouble("downMeanMs"), sp.getDouble("downP50Ms"), sp.getDouble("downP99Ms")));
    JsonObject wr = r.getJsonObject("latencyMs").getJsonObject("sendToWrittenDriverSide");
    sb.append(String.format("  send->written (driver socket write done) p50 %.3f p99 %.3f max %.3f%n",
        wr.getDouble("p50"), wr.getDouble("p99"), wr.getDouble("max")));
    sb.append(String.format("  sent %d  acked %d  expected %d  delivered %d  lost %d  dup %d  refused %d (%d of them in the"
            + " measured window)  deliveries/s %.1f%n",
        r.getLong("sent"), r.getLong("acked"), r.getLong("expectedDeliveries"), r.getLong("delivered"),
        r.getLong("lost"), r.getLong("duplicated"), r.getLong("rejectedStorageUnavailable"),
        r.getLong("rejectedStorageUnavailableMeasured", -1L), r.getDouble("deliveriesPerSecond")));
    sb.append(String.format("  errors %s  error rate %.4f%%  unexpected closes %s%n",
        r.getJsonObject("errorFrames").encode(), r.getDouble("errorRate") * 100, r.getJsonObject("unexpectedCloses").encode()));
    JsonObject bw = r.getJsonObject("bandwidth");
    sb.append(String.format("  server max RSS %d MB  CPU %.1f s (measured window %.2f s, of it JIT compilers %s)"
            + "  max DB connections %d  max rows/s %d%n",
        srv.getLong("maxRssMb"), srv.getDouble("cpuSeconds"), srv.getDouble("cpuSecondsMeasured", -1.0),
        srv.getDouble("jitCpuSecondsMeasured", -1.0) < 0 ? "n/a" : String.format("%.2f s", srv.getDouble("jitCpuSecondsMeasured")),
        srv.getLong("maxDbConnections"), srv.getLong("rowsPerSecondMax")));
    sb.append(String.format("  received %d B/user/min of payload, %d B/user/min on the wire (compression %s)%n",
        bw.getLong("receivedBytesPerUserPerMinute"), bw.getLong("wireReceivedBytesPerUserPerMinute", -1L),
        bw.getBoolean("compression", false)));
    sb.append("  targets ").append(r.getJsonObject("targets").encode());
    return sb.toString();
  }

  /**
   * TCP payload bytes the driver's sockets have received from the server so far: the kernel's
   * {@code bytes_received} of every established connection to the server's port ({@code ss -tin}),
   * i.e. WebSocket frames as on the wire, after permessage-deflate when negotiated, TCP/IP headers
   * excluded. -1 when {@code ss} (iproute2) is missing.
   */
  long wireBytesRead() {
    return tcpBytesReceived(URI.create(url).getPort());
  }

  static long tcpBytesReceived(int port) {
    try {
      Process p = new ProcessBuilder("ss", "-tinH", "state", "established", "( dport = :" + port + " )")
          .redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        return -1;
      }
      long sum = 0;
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("bytes_received:(\\d+)").matcher(out);
      while (m.find()) {
        sum += Long.parseLong(m.group(1));
      }
      return sum;
    } catch (java.io.IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  void close() {
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    } catch (Exception ignored) {
      // exit anyway
    }
  }
}
