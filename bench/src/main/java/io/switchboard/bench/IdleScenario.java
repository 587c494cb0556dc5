package io.switchboard.bench;

import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code idle}: N connections in rooms of K, offering permessage-deflate as Chromium does; each
 * joins its room, then (once all are in) sends one chat message, so every connection has sent one
 * and received K-1 before memory is measured (a connection that never spoke holds no zlib state,
 * one that has spoke holds it as long as it lives), then keeps the heartbeat. Measures the server's
 * RSS and its heap after a full GC before, while (in steps) and after connecting and speaking, and
 * after a hold period with heartbeats only: retained heap and RSS per connection. For the relay the GC is
 * {@code jcmd PID GC.run} and the heap {@code jvm_memory_used_bytes{area="heap"}}; for Socket.IO,
 * {@code global.gc()} and {@code process.memoryUsage().heapUsed} (its {@code /mem}).
 */
final class IdleScenario {
  private static final Logger LOG = LoggerFactory.getLogger(IdleScenario.class);
  private static final int CONNECT_CONCURRENCY = 64;
  static final long TARGET_BYTES_PER_CONNECTION = 40 * 1024;

  private IdleScenario() {}

  static JsonObject run(Options o) throws Exception {
    JsonObject ours;
    Map<String, String> env = new LinkedHashMap<>();
    if (o.i("heartbeat-ms") > 0) {
      env.put("SWITCHBOARD_HEARTBEAT_MS", Integer.toString(o.i("heartbeat-ms")));
    }
    Bench.relayCompression(o, env);
    String heap = o.s("server-heap");
    List<String> jvm = heap.isBlank() ? List.of() : List.of("-Xmx" + heap, "-Xms" + heap);
    try (RelayProcess relay = Bench.startRelay(o, jvm, env)) {
      Target t = new Target(false, relay.wsUrl(), relay.pid(), relay.adminUrl());
      ours = measure(o, t);
      Bench.relayChecked(relay, ours);
    }
    long retained = ours.getLong("retainedHeapPerConnectionBytes", -1L);
    ours.put("targets", new JsonObject()
        .put("all_connected", ours.getInteger("connected") == o.i("connections"))
        .put("retained_heap_below_40KB_per_connection", retained >= 0 && retained < TARGET_BYTES_PER_CONNECTION)
        .put("no_unexpected_closes", ours.getJsonObject("unexpectedCloses").isEmpty()));
    JsonObject r = new JsonObject().put("scenario", "idle").put("switchboard", ours)
        .put("invalid", ours.getBoolean("invalid", false));
    if (o.b("compare")) {
      JsonObject theirs;
      try (NodeServer s = NodeServer.start(NodeServer.Kind.SOCKETIO, NodeServer.competitorsDir(o.s("competitors-dir")))) {
        theirs = measure(o, new Target(true, "ws://127.0.0.1:" + s.port + "/socket.io/?EIO=4&transport=websocket",
            s.pid(), "http://127.0.0.1:" + s.port));
        theirs.put("server_label", NodeServer.Kind.SOCKETIO.label);
      } catch (NodeServer.CompetitorUnavailable e) {
        LOG.error("competitor unavailable: {}", e.getMessage());
        theirs = new JsonObject().put("unavailable", e.getMessage());
      }
      r.put("socketio", theirs);
      r.put("ratios", Bench.ratios(ours, theirs, List.of(
          new Bench.Ratio("retained heap per connection (B)", "retainedHeapPerConnectionBytes"),
          new Bench.Ratio("RSS per connection (B)", "rssPerConnectionBytes"),
          new Bench.Ratio("server RSS with all connections (MB)", "rssAfterMb"),
          new Bench.Ratio("server CPU during hold (s)", "cpuSecondsDuringHold"))));
    }
    return r;
  }

  record Target(boolean socketio, String url, long pid, String memUrl) {}

  /** Server memory after a full GC: {heapBytes, rssKb}. */
  private static long[] memory(Target t, HttpClient http) throws Exception {
    if (t.socketio()) {
      JsonObject m = new JsonObject(http.request(new RequestOptions().setMethod(HttpMethod.GET)
              .setAbsoluteURI(t.memUrl() + "/mem"))
          .compose(req -> req.send().compose(resp -> resp.body()))
          .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS).toString());
      return new long[] {m.getLong("heapUsed"), ServerSampler.readVmRssKb(t.pid())};
    }
    Process p = new ProcessBuilder("jcmd", Long.toString(t.pid()), "GC.run").redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("jcmd GC.run did not finish in 60 s");
    }
    String metrics = http.request(new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(t.memUrl() + "/metrics"))
        .compose(req -> req.send().compose(resp -> resp.body()))
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS).toString();
    return new long[] {ServerSampler.heapUsed(metrics), ServerSampler.readVmRssKb(t.pid())};
  }

  private static final class Conn {
    final String room;
    WebSocket ws;
    final Promise<Void> ready = Promise.promise();
    long pingTimer = -1;

    Conn(String room) {
      this.room = room;
    }
  }

  static JsonObject measure(Options o, Target t) throws Exception {
    int n = o.i("connections");
    int steps = Math.min(o.i("steps"), n);
    int loops = LoadDriver.eventLoops(o.asMap());
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(loops));
    List<Conn> conns = new ArrayList<>(n);
    ConcurrentHashMap<String, LongAdder> closes = new ConcurrentHashMap<>();
    AtomicInteger open = new AtomicInteger();
    LongAdder pongs = new LongAdder();
    LongAdder errors = new LongAdder();
    LongAdder received = new LongAdder();
    ConcurrentHashMap<String, LongAdder> negotiated = new ConcurrentHashMap<>();
    int roomSize = Math.max(2, o.i("room-size"));
    String runId = Long.toString(System.nanoTime() % 1_000_000, 36);
    java.util.concurrent.atomic.AtomicBoolean closing = new java.util.concurrent.atomic.AtomicBoolean();
    try {
      // clients in variables for their whole life (Vert.x 5 closes collected clients)
      WebSocketClient ws = vertx.createWebSocketClient(LoadDriver.offerLikeChromium(new WebSocketClientOptions()
          .setMaxConnections(n + CONNECT_CONCURRENCY).setConnectTimeout(20_000).setMaxFrameSize(1 << 20),
          o.b("compression")));
      HttpClient http = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(5000));
      JsonArray stepsJson = new JsonArray();
      long[] base = memory(t, http);
      stepsJson.add(step(0, base));
      LOG.info("idle {}: baseline heap {} MB rss {} MB", t.socketio() ? "socket.io" : "relay",
          base[0] >> 20, base[1] >> 10);
      WebSocketConnectOptions co = LoadDriver.offerLikeChromium(new WebSocketConnectOptions().setAbsoluteURI(t.url()),
          o.b("compression"));
      Semaphore inFlight = new Semaphore(CONNECT_CONCURRENCY);
      long connectStart = System.nanoTime();
      int connected = 0;
      List<String> failures = new ArrayList<>();
      for (int s = 1; s <= steps; s++) {
        int upTo = (int) ((long) n * s / steps);
        List<Conn> batch = new ArrayList<>();
        while (conns.size() < upTo) {
          Conn c = new Conn("idle-" + runId + "-r" + conns.size() / roomSize);
          conns.add(c);
          batch.add(c);
          if (!inFlight.tryAcquire(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("connect phase stuck");
          }
          c.ready.future().onComplete(ar -> inFlight.release());
          vertx.setTimer(20_000, id -> c.ready.tryFail("not ready within 20 s"));
          ws.connect(co).onSuccess(sock -> {
            c.ws = sock;
            open.incrementAndGet();
            LoadDriver.countNegotiated(negotiated, sock);
            sock.closeHandler(v -> {
              open.decrementAndGet();
              if (!closing.get()) {
                closes.computeIfAbsent(sock.closeStatusCode() + " " + sock.closeReason(), k -> new LongAdder()).increment();
              }
            });
            sock.exceptionHandler(e -> { });
            sock.textMessageHandler(f -> onText(vertx, t, c, f, pongs, errors, received));
            if (!t.socketio()) {
              sock.writeTextMessage("{\"t\":\"hello\"}");
            }
          }).onFailure(c.ready::tryFail);
        }
        for (Conn c : batch) {
          try {
            c.ready.future().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            connected++;
          } catch (Exception e) {
            if (failures.size() < 5) {
              failures.add(String.valueOf(e.getMessage()));
            }
          }
        }
        if (s < steps) {
          stepsJson.add(step(connected, memory(t, http)));
          LOG.info("idle: {} connected", connected);
        }
      }
      double connectSeconds = (System.nanoTime() - connectStart) / 1e9;
      // every joined connection sends one message; each receives its room's other members' ones
      Map<String, Integer> members = new java.util.HashMap<>();
      List<Conn> joined = new ArrayList<>();
      for (Conn c : conns) {
        if (c.ready.future().succeeded()) {
          joined.add(c);
          members.merge(c.room, 1, Integer::sum);
        }
      }
      long expected = 0;
      for (int k : members.values()) {
        expected += (long) k * (k - 1);
      }
      ChatText text = new ChatText(o.has("seed") ? Long.parseLong(o.s("seed")) : 1, 2000);
      java.util.Random random = new java.util.Random(7);
      int sent = 0;
      for (Conn c : joined) {
        String cid = "idle." + sent;
        String body = text.next(random);
        c.ws.writeTextMessage(t.socketio()
            ? "42" + new JsonArray().add("send").add(new JsonObject().put("room", c.room).put("cid", cid).put("body", body)).encode()
            : new JsonObject().put("t", "send").put("id", cid).put("room", c.room).put("cid", cid).put("body", body).encode());
        if (++sent % CONNECT_CONCURRENCY == 0) {
          Thread.sleep(5); // ~13,000 sends/s at most: a burst, not a flood that measures queues
        }
      }
      long exchangeUntil = System.nanoTime() + 30_000_000_000L;
      while (received.sum() < expected && System.nanoTime() < exchangeUntil) {
        Thread.sleep(50);
      }
      LOG.info("idle: {} messages sent, {} of {} expected received", sent, received.sum(), expected);
      Thread.sleep(o.i("settle") * 1000L);
      long[] after = memory(t, http);
      stepsJson.add(step(connected, after));
      long cpu0 = ServerSampler.readCpuTicks(t.pid());
      long holdUntil = System.nanoTime() + o.i("hold") * 1_000_000_000L;
      while (System.nanoTime() < holdUntil) {
        Thread.sleep(Math.min(1000, Math.max(1, (holdUntil - System.nanoTime()) / 1_000_000)));
      }
      long cpu1 = ServerSampler.readCpuTicks(t.pid());
      long[] afterHold = memory(t, http);
      int openAtEnd = open.get();
      closing.set(true);
      JsonObject r = new JsonObject()
          .put("server", t.socketio() ? "socketio" : "switchboard")
          .put("connections", n)
          .put("connected", connected)
          .put("connectFailures", new JsonArray(failures))
          .put("connectSeconds", Math.round(connectSeconds * 100) / 100.0)
          .put("roomSize", roomSize)
          .put("compression", o.b("compression"))
          .put("relayCompression", o.s("relay-compression"))
          .put("negotiatedExtensions", counts(negotiated))
          .put("messagesSent", sent)
          .put("messagesExpected", expected)
          .put("messagesReceived", received.sum())
          .put("openAtEnd", openAtEnd)
          .put("baselineHeapBytes", base[0])
          .put("heapAfterBytes", after[0])
          .put("heapAfterHoldBytes", afterHold[0])
          .put("retainedHeapPerConnectionBytes", connected == 0 ? -1 : (after[0] - base[0]) / connected)
          .put("retainedHeapPerConnectionAfterHoldBytes", connected == 0 ? -1 : (afterHold[0] - base[0]) / connected)
          .put("baselineRssMb", base[1] / 1024)
          .put("rssAfterMb", after[1] / 1024)
          .put("rssPerConnectionBytes", connected == 0 ? -1 : (after[1] - base[1]) * 1024 / connected)
          .put("holdSeconds", o.i("hold"))
          .put("cpuSecondsDuringHold", ServerSampler.secondsBetween(cpu0, cpu1))
          .put("heartbeatAnswers", pongs.sum())
          .put("errorFrames", errors.sum())
          .put("unexpectedCloses", closes(closes))
          .put("steps", stepsJson)
          .put("note", t.socketio()
              ? "heap = process.memoryUsage().heapUsed after global.gc() (V8 heap; socket buffers live outside it, in RSS)"
              : "heap = jvm_memory_used_bytes{area=\"heap\"} after jcmd GC.run");
      return r;
    } finally {
      closing.set(true);
      for (Conn c : conns) {
        if (c.ws != null && !c.ws.isClosed()) {
          c.ws.close();
        }
      }
      Thread.sleep(Math.min(3000, 200 + conns.size() / 10));
      try {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // exit anyway
      }
    }
  }

  private static JsonObject counts(Map<String, LongAdder> m) {
    return closes(m);
  }

  private static JsonObject closes(Map<String, LongAdder> m) {
    JsonObject j = new JsonObject();
    m.forEach((k, v) -> j.put(k, v.sum()));
    return j;
  }

  private static JsonObject step(int connections, long[] mem) {
    return new JsonObject().put("connections", connections).put("heapBytes", mem[0]).put("rssKb", mem[1]);
  }

  private static void onText(Vertx vertx, Target t, Conn c, String f, LongAdder pongs, LongAdder errors,
      LongAdder received) {
    if (t.socketio()) {
      if (f.startsWith("0")) {
        c.ws.writeTextMessage("40");
      } else if (f.startsWith("40")) {
        c.ws.writeTextMessage("42" + new JsonArray().add("join").add(c.room).encode());
      } else if (f.startsWith("42[\"joined\"")) {
        c.ready.tryComplete();
      } else if (f.startsWith("42[\"msg\"")) {
        received.increment();
      } else if (f.equals("2")) {
        c.ws.writeTextMessage("3"); // the engine's heartbeat (server ping, client pong)
        pongs.increment();
      } else if (f.startsWith("44")) {
        errors.increment();
        c.ready.tryFail("connect_error " + f);
      }
      return;
    }
    JsonObject o = new JsonObject(f);
    switch (o.getString("t", "")) {
      case "welcome" -> {
        long hb = o.getLong("heartbeatMs", 15_000L);
        // the protocol's heartbeat: a ping every heartbeatMs
        c.pingTimer = vertx.setPeriodic(hb, id -> {
          if (!c.ws.isClosed()) {
            c.ws.writeTextMessage("{\"t\":\"ping\"}");
          }
        });
        c.ws.writeTextMessage(new JsonObject().put("t", "join").put("id", "j").put("room", c.room).encode());
      }
      case "joined" -> c.ready.tryComplete();
      case "msg" -> received.increment();
      case "pong" -> pongs.increment();
      case "error" -> {
        errors.increment();
        if ("j".equals(o.getString("ref"))) {
          c.ready.tryFail("join failed: " + f);
        }
      }
      default -> { }
    }
  }

  static List<double[]> rssSeries(JsonObject side) {
    List<double[]> l = new ArrayList<>();
    JsonArray steps = side.getJsonArray("steps", new JsonArray());
    for (int i = 0; i < steps.size(); i++) {
      JsonObject s = steps.getJsonObject(i);
      l.add(new double[] {s.getInteger("connections"), s.getLong("rssKb") / 1024.0});
    }
    return l;
  }

  static String summary(JsonObject r) {
    return String.format("idle (%s): %d/%d connected in %.1f s, %d open at the end; heap after GC %d -> %d MB:"
            + " %d B retained per connection (%d B after %d s of heartbeats); RSS %d -> %d MB: %d B per connection;"
            + " CPU %.2f s during the hold; heartbeats answered %d; unexpected closes %s",
        r.getString("server"), r.getInteger("connected"), r.getInteger("connections"), r.getDouble("connectSeconds"),
        r.getInteger("openAtEnd"), r.getLong("baselineHeapBytes") >> 20, r.getLong("heapAfterBytes") >> 20,
        r.getLong("retainedHeapPerConnectionBytes"), r.getLong("retainedHeapPerConnectionAfterHoldBytes"),
        r.getInteger("holdSeconds"), r.getLong("baselineRssMb"), r.getLong("rssAfterMb"),
        r.getLong("rssPerConnectionBytes"), r.getDouble("cpuSecondsDuringHold"), r.getLong("heartbeatAnswers"),
        r.getJsonObject("unexpectedCloses").encode())
        + String.format("; %d messages sent, %d/%d received; permessage-deflate offered: %s, answered %s",
            r.getLong("messagesSent", 0L), r.getLong("messagesReceived", 0L), r.getLong("messagesExpected", 0L),
            r.getBoolean("compression", false), r.getJsonObject("negotiatedExtensions", new JsonObject()).encode());
  }
}
