package io.switchboard.bench;

import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code history}: {@code --rooms} rooms are filled with {@code --messages} messages each (one
 * writer, the relay's rate limit raised for it), then first pages ({@code limit = --page}) are
 * loaded. <b>warm</b>: room 0, loaded again and again ({@code --loads} times per transport, after
 * 20 unmeasured loads). <b>cold</b>: the relay is restarted (same data dir), then each other room's
 * first load — odd rooms over WebSocket ({@code join} then {@code history}; the join is timed apart,
 * it loads the room), even rooms over HTTP ({@code GET /api/rooms/{room}/messages?limit=}). Every
 * page is checked: {@code --page} messages, the newest ending at the room's last seq.
 */
final class HistoryScenario {
  private static final Logger LOG = LoggerFactory.getLogger(HistoryScenario.class);
  private static final long MAX = 60_000_000_000L;
  private static final int FILL_WINDOW = 500;

  private HistoryScenario() {}

  /** One WebSocket with request/answer matching by id. Confined to its event loop. */
  private static final class Ws {
    final WebSocket ws;
    final Map<String, Promise<JsonObject>> pending = new ConcurrentHashMap<>();
    Consumer<JsonObject> other = m -> { };

    Ws(WebSocket ws) {
      this.ws = ws;
      ws.textMessageHandler(f -> {
        JsonObject m = new JsonObject(f);
        Object id = m.getValue("id", m.getValue("ref"));
        Promise<JsonObject> p = id == null || "ack".equals(m.getString("t")) ? null : pending.remove(id.toString());
        if (p != null) {
          p.tryComplete(m);
        } else {
          other.accept(m);
        }
      });
    }

    JsonObject call(JsonObject frame, String id) throws Exception {
      Promise<JsonObject> p = Promise.promise();
      pending.put(id, p);
      ws.writeTextMessage(frame.put("id", id).encode());
      return p.future().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  static JsonObject run(Options o) throws Exception {
    int rooms = o.i("rooms");
    int messages = o.i("messages");
    int loads = o.i("loads");
    int page = o.i("page");
    long seed = o.s("seed").isEmpty() ? System.nanoTime() : Long.parseLong(o.s("seed"));
    String run = Long.toString(Math.abs(seed) % 1_000_000, 36);
    Map<String, String> env = new LinkedHashMap<>();
    env.put("SWITCHBOARD_RATE_FRAMES_PER_SECOND", "100000"); // the filler sends as fast as acks come
    env.put("SWITCHBOARD_RATE_BURST", "100000");
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    JsonObject r = new JsonObject().put("scenario", "history");
    r.put("params", new JsonObject().put("rooms", rooms).put("messages", messages).put("loads", loads).put("page", page));
    try (RelayProcess relay = Bench.startRelay(o, List.of(), env)) {
      WebSocketClient wsc = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxFrameSize(1 << 22)
          .setMaxMessageSize(1 << 24).setConnectTimeout(10_000));
      HttpClient http = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(5000).setKeepAlive(true));
      // 1. fill
      long fillStart = System.nanoTime();
      Ws filler = connect(wsc, relay.wsUrl());
      for (int i = 0; i < rooms; i++) {
        filler.call(new JsonObject().put("t", "join").put("room", room(run, i)), "j" + i);
      }
      AtomicLong stored = new AtomicLong();
      AtomicLong acked = new AtomicLong();
      AtomicLong fillErrors = new AtomicLong();
      filler.other = m -> {
        if ("ack".equals(m.getString("t"))) {
          if (Boolean.TRUE.equals(m.getBoolean("stored"))) {
            stored.incrementAndGet();
          }
          acked.incrementAndGet();
        } else if ("error".equals(m.getString("t"))) {
          fillErrors.incrementAndGet();
        }
      };
      ChatText text = new ChatText(seed, 500);
      Random random = new Random(seed);
      long total = (long) rooms * messages;
      long fillUntil = System.nanoTime() + (60 + total / 500) * 1_000_000_000L;
      for (long k = 0; k < total; k++) {
        while (k - stored.get() - fillErrors.get() >= FILL_WINDOW) {
          if (System.nanoTime() > fillUntil) {
            throw new IllegalStateException("fill did not finish: " + stored.get() + " of " + total + " stored");
          }
          Thread.sleep(1);
        }
        String frame = new JsonObject().put("t", "send").put("room", room(run, (int) (k % rooms)))
            .put("cid", "h" + k).put("body", text.next(random)).encode();
        filler.ws.writeTextMessage(frame);
      }
      while (stored.get() + fillErrors.get() < total && System.nanoTime() < fillUntil) {
        Thread.sleep(10);
      }
      double fillSeconds = (System.nanoTime() - fillStart) / 1e9;
      r.put("fill", new JsonObject().put("messages", total).put("stored", stored.get()).put("errors", fillErrors.get())
          .put("seconds", Math.round(fillSeconds * 100) / 100.0)
          .put("storedPerSecond", Math.round(stored.get() / fillSeconds)));
      LOG.info("history: {} messages stored in {} rooms in {} s", stored.get(), rooms, String.format("%.1f", fillSeconds));
      filler.ws.close();
      long expectedLast = messages; // seqs are gap-free from 1

      // 2. warm: room 0 over both transports
      Ws reader = connect(wsc, relay.wsUrl());
      reader.call(new JsonObject().put("t", "join").put("room", room(run, 0)), "j");
      Histogram warmWs = new Histogram(MAX, 3);
      Histogram warmHttp = new Histogram(MAX, 3);
      long[] badPages = {0};
      for (int i = 0; i < 20 + loads; i++) {
        long t0 = System.nanoTime();
        JsonObject p = reader.call(new JsonObject().put("t", "history").put("room", room(run, 0)).put("limit", page), "h" + i);
        long dt = System.nanoTime() - t0;
        check(p, page, expectedLast, badPages);
        if (i >= 20) {
          warmWs.recordValue(Math.min(MAX, dt));
        }
      }
      for (int i = 0; i < 20 + loads; i++) {
        long t0 = System.nanoTime();
        JsonObject p = httpPage(http, relay, room(run, 0), page);
        long dt = System.nanoTime() - t0;
        check(p, page, expectedLast, badPages);
        if (i >= 20) {
          warmHttp.recordValue(Math.min(MAX, dt));
        }
      }
      reader.ws.close();

      // 3. cold: restart, then the first load of every other room
      relay.restart();
      Histogram coldWs = new Histogram(MAX, 3);
      Histogram coldJoin = new Histogram(MAX, 3);
      Histogram coldHttp = new Histogram(MAX, 3);
      JsonArray coldWsInOrder = new JsonArray();
      JsonArray coldHttpInOrder = new JsonArray();
      Ws cold = connect(wsc, relay.wsUrl());
      for (int i = 1; i < rooms; i++) {
        if (i % 2 == 1) {
          long t0 = System.nanoTime();
          cold.call(new JsonObject().put("t", "join").put("room", room(run, i)), "cj" + i);
          long t1 = System.nanoTime();
          JsonObject p = cold.call(new JsonObject().put("t", "history").put("room", room(run, i)).put("limit", page), "ch" + i);
          long t2 = System.nanoTime();
          check(p, page, expectedLast, badPages);
          coldJoin.recordValue(Math.min(MAX, t1 - t0));
          coldWs.recordValue(Math.min(MAX, t2 - t1));
          coldWsInOrder.add(ms(t2 - t1));
        } else {
          long t0 = System.nanoTime();
          JsonObject p = httpPage(http, relay, room(run, i), page);
          long t1 = System.nanoTime();
          coldHttp.recordValue(Math.min(MAX, t1 - t0));
          coldHttpInOrder.add(ms(t1 - t0));
          check(p, page, expectedLast, badPages);
        }
      }
      cold.ws.close();
      r.put("warm", new JsonObject().put("ws", SignalingScenario.latencyJson(warmWs))
          .put("http", SignalingScenario.latencyJson(warmHttp)));
      r.put("cold", new JsonObject().put("ws", SignalingScenario.latencyJson(coldWs))
          .put("wsJoin", SignalingScenario.latencyJson(coldJoin))
          .put("http", SignalingScenario.latencyJson(coldHttp))
          // the few cold samples in load order: tells a slow first request from a real tail
          .put("wsMsInOrder", coldWsInOrder).put("httpMsInOrder", coldHttpInOrder)
          .put("note", "one sample per room: first load after a relay restart (a cold JVM as well as cold rooms);"
              + " the WebSocket load comes after a join, which is timed apart (wsJoin)"));
      r.put("cdf", new JsonObject().put("warm ws", Charts.cdf(warmWs)).put("warm http", Charts.cdf(warmHttp))
          .put("cold ws", Charts.cdf(coldWs)).put("cold http", Charts.cdf(coldHttp)));
      r.put("badPages", badPages[0]);
      double warmP99 = Math.max(ms(warmWs.getValueAtPercentile(99)), ms(warmHttp.getValueAtPercentile(99)));
      double coldP99 = Math.max(ms(coldWs.getValueAtPercentile(99)), ms(coldHttp.getValueAtPercentile(99)));
      r.put("targets", new JsonObject()
          .put("warm_p99_below_20ms", warmWs.getTotalCount() > 0 && warmP99 < 20)
          .put("cold_p99_below_50ms", coldWs.getTotalCount() + coldHttp.getTotalCount() > 0 && coldP99 < 50)
          .put("every_page_complete", badPages[0] == 0));
      Bench.relayChecked(relay, r);
      return r;
    } finally {
      try {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // exit anyway
      }
    }
  }

  static String room(String run, int i) {
    return "hist-" + run + "-r" + i;
  }

  private static double ms(long nanos) {
    return Math.round(nanos / 1000.0) / 1000.0;
  }

  private static Ws connect(WebSocketClient wsc, String url) throws Exception {
    WebSocket ws = wsc.connect(new WebSocketConnectOptions().setAbsoluteURI(url))
        .toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    ws.exceptionHandler(e -> { });
    Ws w = new Ws(ws);
    Promise<JsonObject> welcome = Promise.promise();
    w.other = m -> {
      if ("welcome".equals(m.getString("t"))) {
        welcome.tryComplete(m);
      }
    };
    ws.writeTextMessage("{\"t\":\"hello\"}");
    welcome.future().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    w.other = m -> { };
    return w;
  }

  private static JsonObject httpPage(HttpClient http, RelayProcess relay, String room, int page) throws Exception {
    Buffer b = http.request(new RequestOptions().setMethod(HttpMethod.GET)
            .setAbsoluteURI(relay.httpUrl() + "/api/rooms/" + room + "/messages?limit=" + page))
        .compose(req -> req.send().compose(resp -> {
          if (resp.statusCode() != 200) {
            return resp.body().map(x -> Buffer.buffer("{\"status\":" + resp.statusCode() + "}"));
          }
          return resp.body();
        }))
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    return new JsonObject(b);
  }

  private static void check(JsonObject p, int page, long last, long[] bad) {
    JsonArray msgs = p.getJsonArray("messages");
    int want = (int) Math.min(page, last);
    if (msgs == null || msgs.size() != want
        || msgs.getJsonObject(msgs.size() - 1).getLong("seq") != last) {
      if (bad[0]++ < 3) {
        LOG.warn("history: unexpected page {}", p.encode().substring(0, Math.min(300, p.encode().length())));
      }
    }
  }

  static Map<String, JsonArray> cdfs(JsonObject r) {
    Map<String, JsonArray> m = new LinkedHashMap<>();
    JsonObject c = r.getJsonObject("cdf", new JsonObject());
    for (String k : c.fieldNames()) {
      m.put(k, c.getJsonArray(k));
    }
    return m;
  }

  static String summary(JsonObject r) {
    JsonObject p = r.getJsonObject("params");
    JsonObject f = r.getJsonObject("fill");
    StringBuilder sb = new StringBuilder(String.format(
        "history: %d rooms x %d messages (filled in %.1f s, %d stored/s), first page of %d%n",
        p.getInteger("rooms"), p.getInteger("messages"), f.getDouble("seconds"), f.getLong("storedPerSecond"),
        p.getInteger("page")));
    for (String phase : List.of("warm", "cold")) {
      JsonObject ph = r.getJsonObject(phase);
      for (String tr : List.of("ws", "http", "wsJoin")) {
        JsonObject l = ph.getJsonObject(tr);
        if (l != null) {
          sb.append(String.format("  %-4s %-6s ms p50 %.3f p95 %.3f p99 %.3f max %.3f (n=%d)%n", phase, tr,
              l.getDouble("p50"), l.getDouble("p95"), l.getDouble("p99"), l.getDouble("max"), l.getLong("count")));
        }
      }
    }
    sb.append("  bad pages ").append(r.getLong("badPages"));
    return sb.toString();
  }
}
