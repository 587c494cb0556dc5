package io.switchboard.bench;

import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code signaling}: pairs of peers, each pair alone in a room of two, negotiating like WebRTC
 * peers: every round the offerer sends an offer (an SDP of {@code --sdp-bytes}) and trickles
 * {@code --candidates} candidates; the answerer answers the offer at once and trickles as many.
 * Every signal carries its send time; the histogram is signal send → delivery at the other peer,
 * and the offer → answer round trip is kept apart. Against the relay the signals are protocol
 * {@code signal} frames; against the PeerJS server they are its OFFER/ANSWER/CANDIDATE messages
 * with {@code dst}, shaped as the PeerJS client sends them.
 */
final class SignalingScenario {
  private static final Logger LOG = LoggerFactory.getLogger(SignalingScenario.class);
  private static final int CONNECT_CONCURRENCY = 32;
  private static final long MAX = 60_000_000_000L;

  private SignalingScenario() {}

  static JsonObject run(Options o) throws Exception {
    JsonObject ours;
    try (RelayProcess relay = Bench.startRelay(o, List.of(), Map.of())) {
      ours = measure(o, false, relay.wsUrl(), relay.pid());
      Bench.relayChecked(relay, ours);
    }
    ours.put("targets", new JsonObject()
        .put("nothing_lost", ours.getLong("lost") == 0 && ours.getLong("delivered") > 0)
        .put("no_errors", ours.getJsonObject("errors").isEmpty()));
    JsonObject r = new JsonObject().put("scenario", "signaling").put("switchboard", ours)
        .put("invalid", ours.getBoolean("invalid", false));
    if (o.b("compare")) {
      JsonObject theirs;
      try (NodeServer s = NodeServer.start(NodeServer.Kind.PEERJS, NodeServer.competitorsDir(o.s("competitors-dir")))) {
        theirs = measure(o, true, "ws://127.0.0.1:" + s.port + "/peerjs", s.pid());
        theirs.put("server_label", NodeServer.Kind.PEERJS.label);
      } catch (NodeServer.CompetitorUnavailable e) {
        LOG.error("competitor unavailable: {}", e.getMessage());
        theirs = new JsonObject().put("unavailable", e.getMessage());
      }
      r.put("peerjs", theirs);
      r.put("ratios", Bench.ratios(ours, theirs, List.of(
          new Bench.Ratio("p50 signal send->delivery", "latencyMs.p50"),
          new Bench.Ratio("p99 signal send->delivery", "latencyMs.p99"),
          new Bench.Ratio("max signal send->delivery", "latencyMs.max"),
          new Bench.Ratio("p99 offer->answer", "offerToAnswerMs.p99"),
          new Bench.Ratio("server CPU seconds", "cpuSeconds"),
          new Bench.Ratio("server max RSS (MB)", "maxRssMb"))));
    }
    return r;
  }

  private static final class Peer {
    final int idx;
    final String room;
    final Promise<Void> ready = Promise.promise();
    final Random random;
    String id; // our session id, or the PeerJS id we chose
    Peer other;
    WebSocket ws;
    Context ctx;
    long offerSentNanos;

    Peer(int idx, String room, long seed) {
      this.idx = idx;
      this.room = room;
      this.random = Bench.clientRandom(seed, idx);
    }
  }

  static JsonObject measure(Options o, boolean peerjs, String url, long pid) throws Exception {
    int pairs = o.i("pairs");
    int rounds = o.i("rounds");
    int candidates = o.i("candidates");
    int intervalMs = Math.max(1, o.i("interval-ms"));
    int warmupRounds = o.i("warmup-rounds");
    long seed = o.s("seed").isEmpty() ? System.nanoTime() : Long.parseLong(o.s("seed"));
    String run = Long.toString(Math.abs(seed) % 1_000_000, 36);
    String sdp = sdp(o.i("sdp-bytes"));
    ConcurrentHistogram latency = new ConcurrentHistogram(MAX, 3);
    ConcurrentHistogram offerAnswer = new ConcurrentHistogram(MAX, 3);
    LongAdder sent = new LongAdder();
    LongAdder delivered = new LongAdder();
    LongAdder bytesSent = new LongAdder();
    ConcurrentHashMap<String, LongAdder> errors = new ConcurrentHashMap<>();
    ConcurrentHashMap<String, LongAdder> closes = new ConcurrentHashMap<>();
    AtomicBoolean closing = new AtomicBoolean();
    latencyH = latency;
    offerAnswerH = offerAnswer;
    deliveredC = delivered;
    sentC = sent;
    bytesC = bytesSent;
    errorsC = errors;
    candidatesN = candidates;
    sdpText = sdp;
    firstMeasuredRound = warmupRounds;
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(LoadDriver.eventLoops(o.asMap())));
    List<Peer> peers = new ArrayList<>();
    ServerSampler sampler = new ServerSampler(vertx, pid, -1, "", null);
    try {
      WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions()
          .setMaxConnections(2 * pairs + CONNECT_CONCURRENCY).setConnectTimeout(10_000).setMaxFrameSize(1 << 20));
      for (int i = 0; i < pairs; i++) {
        Peer a = new Peer(2 * i, "sig-" + run + "-" + i, seed);
        Peer b = new Peer(2 * i + 1, a.room, seed);
        a.other = b;
        b.other = a;
        if (peerjs) {
          a.id = "p" + run + "-" + a.idx;
          b.id = "p" + run + "-" + b.idx;
        }
        peers.add(a);
        peers.add(b);
      }
      sampler.start();
      Semaphore inFlight = new Semaphore(CONNECT_CONCURRENCY);
      for (Peer p : peers) {
        if (!inFlight.tryAcquire(30, TimeUnit.SECONDS)) {
          throw new IllegalStateException("connect phase stuck");
        }
        p.ready.future().onComplete(ar -> inFlight.release());
        vertx.setTimer(15_000, id -> p.ready.tryFail("not ready within 15 s"));
        WebSocketConnectOptions co = new WebSocketConnectOptions().setAbsoluteURI(peerjs
            ? url + "?key=peerjs&id=" + p.id + "&token=t" + Long.toHexString(p.random.nextLong())
            : url);
        client.connect(co).onSuccess(ws -> {
          p.ws = ws;
          p.ctx = Vertx.currentContext();
          ws.exceptionHandler(e -> { });
          ws.closeHandler(v -> {
            if (!closing.get()) {
              closes.computeIfAbsent(ws.closeStatusCode() + " " + ws.closeReason(), k -> new LongAdder()).increment();
            }
          });
          ws.textMessageHandler(f -> {
            long now = System.nanoTime();
            JsonObject m = new JsonObject(f);
            if (peerjs) {
              onPeerJs(p, m, now);
            } else {
              onSwitchboard(p, m, now);
            }
          });
          if (!peerjs) {
            ws.writeTextMessage("{\"t\":\"hello\"}");
          }
        }).onFailure(p.ready::tryFail);
      }
      int ready = 0;
      for (Peer p : peers) {
        try {
          p.ready.future().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
          ready++;
        } catch (Exception e) {
          errors.computeIfAbsent("driver:not_ready", k -> new LongAdder()).increment();
        }
      }
      LOG.info("signaling ({}): {} of {} peers ready", peerjs ? "peerjs" : "relay", ready, peers.size());
      // heartbeats as each client does them: PeerJS every 5 s, ours every heartbeatMs (15 s)
      long hb = peerjs ? 5000 : 15_000;
      for (Peer p : peers) {
        if (p.ctx != null) {
          p.ctx.runOnContext(v -> vertx.setPeriodic(hb, id -> {
            if (!closing.get() && !p.ws.isClosed()) {
              p.ws.writeTextMessage(peerjs ? "{\"type\":\"HEARTBEAT\"}" : "{\"t\":\"ping\"}");
            }
          }));
        }
      }

      long start = System.nanoTime();
      List<Peer> offerers = new ArrayList<>();
      for (Peer p : peers) {
        if (p.idx % 2 == 0 && p.ready.future().succeeded() && p.other.ready.future().succeeded()) {
          offerers.add(p);
        }
      }
      for (Peer a : offerers) {
        long phase = 1 + (long) (a.random.nextDouble() * intervalMs);
        a.ctx.runOnContext(v -> {
          int[] done = {0};
          vertx.setPeriodic(phase, intervalMs, id -> {
            if (done[0]++ >= rounds + warmupRounds || closing.get()) {
              vertx.cancelTimer(id);
              return;
            }
            int round = done[0] - 1;
            a.offerSentNanos = System.nanoTime();
            send(a, peerjs, "offer", sdp, round, sent, bytesSent);
            for (int c = 0; c < candidates; c++) {
              send(a, peerjs, "candidate", candidate(a, c), round, sent, bytesSent);
            }
          });
        });
      }
      // every signal sent reaches the other side exactly once
      long expected = (long) offerers.size() * (rounds + warmupRounds) * (2 + 2L * candidates);
      long until = start + (rounds + warmupRounds + 1L) * intervalMs * 1_000_000L + 10_000_000_000L;
      while (delivered.sum() < expected && System.nanoTime() < until) {
        Thread.sleep(50);
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      sampler.stop();
      Histogram h = latency.copy();
      Map<String, Long> errs = new TreeMap<>();
      errors.forEach((k, v) -> errs.put(k, v.sum()));
      Map<String, Long> cls = new TreeMap<>();
      closes.forEach((k, v) -> cls.put(k, v.sum()));
      return new JsonObject()
          .put("server", peerjs ? "peerjs" : "switchboard")
          .put("pairs", pairs)
          .put("pairsReady", offerers.size())
          .put("rounds", rounds)
          .put("warmupRounds", warmupRounds)
          .put("candidatesPerSide", candidates)
          .put("sdpBytes", sdp.length())
          .put("intervalMs", intervalMs)
          .put("seconds", Math.round(seconds * 100) / 100.0)
          .put("sent", sent.sum())
          .put("expected", expected)
          .put("delivered", delivered.sum())
          .put("lost", Math.max(0, expected - delivered.sum()))
          .put("signalsPerSecond", Math.round(delivered.sum() / seconds * 10) / 10.0)
          .put("bytesSent", bytesSent.sum())
          .put("latencyMs", latencyJson(h))
          .put("offerToAnswerMs", latencyJson(offerAnswer.copy()))
          .put("cdf", Charts.cdf(h))
          .put("errors", new JsonObject(new java.util.LinkedHashMap<>(errs)))
          .put("unexpectedCloses", new JsonObject(new java.util.LinkedHashMap<>(cls)))
          .put("maxRssMb", sampler.maxRssKb() < 0 ? -1 : sampler.maxRssKb() / 1024)
          .put("cpuSeconds", sampler.cpuSeconds());
    } finally {
      closing.set(true);
      for (Peer p : peers) {
        if (p.ws != null && !p.ws.isClosed()) {
          p.ws.close();
        }
      }
      Thread.sleep(300);
      try {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // exit anyway
      }
    }
  }

  // per-run state the handlers need; one measure() runs at a time
  private static volatile ConcurrentHistogram latencyH;
  private static volatile ConcurrentHistogram offerAnswerH;
  private static volatile LongAdder deliveredC;
  private static volatile LongAdder sentC;
  private static volatile LongAdder bytesC;
  private static volatile ConcurrentHashMap<String, LongAdder> errorsC;
  private static volatile int candidatesN;
  private static volatile String sdpText;
  /** Rounds before this one are traffic only: both servers (and the driver) warm up first. */
  private static volatile int firstMeasuredRound;

  private static void onSwitchboard(Peer p, JsonObject m, long now) {
    switch (m.getString("t", "")) {
      case "welcome" -> {
        p.id = m.getString("session");
        p.ws.writeTextMessage(new JsonObject().put("t", "join").put("id", "j").put("room", p.room).encode());
      }
      case "joined" -> p.ready.tryComplete();
      case "signal" -> received(p, m.getJsonObject("data"), false, now);
      case "error" -> errorsC.computeIfAbsent(m.getString("code", "?"), k -> new LongAdder()).increment();
      default -> { }
    }
  }

  private static void onPeerJs(Peer p, JsonObject m, long now) {
    switch (m.getString("type", "")) {
      case "OPEN" -> p.ready.tryComplete();
      case "OFFER", "ANSWER", "CANDIDATE" -> received(p, m.getJsonObject("payload"), true, now);
      case "ERROR", "ID-TAKEN", "EXPIRE", "LEAVE" -> {
        errorsC.computeIfAbsent("peerjs:" + m.getString("type"), k -> new LongAdder()).increment();
        if (!p.ready.future().isComplete()) {
          p.ready.tryFail(m.encode());
        }
      }
      default -> { }
    }
  }

  private static void received(Peer p, JsonObject data, boolean peerjs, long now) {
    if (data == null || data.getLong("bench") == null) {
      errorsC.computeIfAbsent("driver:foreign_signal", k -> new LongAdder()).increment();
      return;
    }
    long sentAt = data.getLong("bench");
    int round = data.getInteger("round", 0);
    boolean measured = round >= firstMeasuredRound;
    if (measured) {
      latencyH.recordValue(Math.max(0, Math.min(MAX, now - sentAt)));
    }
    deliveredC.increment();
    String type = peerjs ? data.getString("kind") : kindOf(data);
    if ("offer".equals(type)) {
      send(p, peerjs, "answer", sdpText, round, sentC, bytesC);
      for (int c = 0; c < candidatesN; c++) {
        send(p, peerjs, "candidate", candidate(p, c), round, sentC, bytesC);
      }
    } else if ("answer".equals(type) && measured) {
      offerAnswerH.recordValue(Math.max(0, Math.min(MAX, now - p.offerSentNanos)));
    }
  }

  private static String kindOf(JsonObject data) {
    JsonObject d = data.getJsonObject("description");
    return d != null ? d.getString("type") : "candidate";
  }

  /** One signal from {@code p} to its partner, shaped as each client library sends it. */
  private static void send(Peer p, boolean peerjs, String kind, String text, int round, LongAdder sent,
      LongAdder bytes) {
    long n = System.nanoTime();
    String frame;
    if (peerjs) {
      JsonObject payload = new JsonObject().put("type", "data").put("connectionId", "dc_" + p.room).put("kind", kind)
          .put("bench", n).put("round", round);
      if (kind.equals("candidate")) {
        payload.put("candidate", new JsonObject().put("candidate", text).put("sdpMid", "0").put("sdpMLineIndex", 0));
      } else {
        payload.put("sdp", new JsonObject().put("type", kind).put("sdp", text));
      }
      frame = new JsonObject().put("type", kind.toUpperCase()).put("payload", payload).put("dst", p.other.id).encode();
    } else {
      JsonObject data = new JsonObject();
      if (kind.equals("candidate")) {
        data.put("candidate", new JsonObject().put("candidate", text).put("sdpMid", "0").put("sdpMLineIndex", 0));
      } else {
        data.put("description", new JsonObject().put("type", kind).put("sdp", text));
      }
      data.put("bench", n).put("round", round);
      frame = new JsonObject().put("t", "signal").put("room", p.room).put("to", p.other.id).put("data", data).encode();
    }
    p.ws.writeTextMessage(frame);
    sent.increment();
    bytes.add(frame.length());
  }

  static String candidate(Peer p, int c) {
    return "candidate:" + (842163049 + c) + " 1 udp 1677729535 127.0.0.1 " + (50000 + (p.idx * 16 + c) % 15000)
        + " typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag sB" + p.idx + " network-cost 999";
  }

  /** An SDP-looking text of about {@code bytes} characters. */
  static String sdp(int bytes) {
    StringBuilder sb = new StringBuilder("v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
        + "a=group:BUNDLE 0\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS\r\n"
        + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n");
    int i = 0;
    while (sb.length() < bytes) {
      sb.append("a=fingerprint:sha-256 ").append(String.format("%02X", i++ & 0xff))
          .append(":5B:0C:7D:2E:AF:10:9C:3B:44:E1:D0:2F:6A:8B:91:C4:55:0D:3E:7F:A2:B6:19:CE:08:6D:F3:21:94:E7:5A\r\n");
    }
    return sb.substring(0, bytes);
  }

  static JsonObject latencyJson(Histogram h) {
    return new JsonObject()
        .put("count", h.getTotalCount())
        .put("p50", ms(h.getValueAtPercentile(50)))
        .put("p95", ms(h.getValueAtPercentile(95)))
        .put("p99", ms(h.getValueAtPercentile(99)))
        .put("max", ms(h.getMaxValue()))
        .put("mean", Math.round(h.getMean() / 1000.0) / 1000.0);
  }

  private static double ms(long nanos) {
    return Math.round(nanos / 1000.0) / 1000.0;
  }

  static String summary(JsonObject r) {
    JsonObject l = r.getJsonObject("latencyMs");
    JsonObject oa = r.getJsonObject("offerToAnswerMs");
    return String.format("signaling (%s): %d pairs x %d measured rounds (offer/answer + %d candidates each side, SDP %d B)"
            + " in %.1f s%n  signal send->delivery ms p50 %.3f p95 %.3f p99 %.3f max %.3f (n=%d)%n"
            + "  offer->answer ms p50 %.3f p99 %.3f%n  sent %d expected %d delivered %d lost %d  errors %s"
            + "  closes %s  server CPU %.2f s  max RSS %d MB",
        r.getString("server"), r.getInteger("pairsReady"), r.getInteger("rounds"), r.getInteger("candidatesPerSide"),
        r.getInteger("sdpBytes"), r.getDouble("seconds"), l.getDouble("p50"), l.getDouble("p95"), l.getDouble("p99"),
        l.getDouble("max"), l.getLong("count"), oa.getDouble("p50"), oa.getDouble("p99"), r.getLong("sent"),
        r.getLong("expected"), r.getLong("delivered"), r.getLong("lost"), r.getJsonObject("errors").encode(),
        r.getJsonObject("unexpectedCloses").encode(), r.getDouble("cpuSeconds"), r.getLong("maxRssMb"));
  }
}
