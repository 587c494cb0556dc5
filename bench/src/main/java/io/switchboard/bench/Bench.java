package io.switchboard.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bench's one entry point: {@code bench/run.sh <scenario> [--options]} (or {@code java -jar
 * switchboard-bench.jar <scenario> ...}). Starts the relay (and, with {@code --compare}, the
 * competitor) itself on 127.0.0.1, runs the scenario, stops every process it started, and writes
 * {@code <out-dir>/<scenario>-<UTC timestamp>.json}, a markdown summary next to it (also printed)
 * and PNG charts. Exit status: 0 done, 2 usage error, 1 failure (chaos: an invariant broken), 3 the
 * relay died during the run.
 */
public final class Bench {
  private static final Logger LOG = LoggerFactory.getLogger(Bench.class);
  static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  private Bench() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  static int run(String[] args) {
    Options o;
    try {
      o = Options.parse(args);
      validate(o);
    } catch (Options.UsageError e) {
      System.err.println(e.getMessage());
      return 2;
    }
    try {
      Outcome r = execute(o);
      System.out.println(r.markdown());
      System.err.println("results: " + r.json());
      if (r.result().getBoolean("invalid", false)) {
        return 3;
      }
      return r.result().getLong("violations", 0L) > 0 ? 1 : 0; // chaos: a broken invariant fails the run
    } catch (Options.UsageError e) {
      System.err.println(e.getMessage());
      return 2;
    } catch (Exception e) {
      LOG.error("bench failed", e);
      return 1;
    }
  }

  /** What a run wrote. */
  record Outcome(JsonObject result, Path json, Path md, List<Path> charts, String markdown) {}

  static void validate(Options o) {
    switch (o.scenario) {
      case "chat", "outage" -> {
        o.require(o.i("users") >= 2 && o.i("room-size") >= 2, "need --users >= 2 and --room-size >= 2");
        o.require(o.d("rate") > 0 && o.i("duration") >= 1, "need --rate > 0 and --duration >= 1");
        if (o.scenario.equals("outage")) {
          o.require(o.i("outage-at") >= 0 && o.i("outage-for") >= 1
              && o.i("outage-at") + o.i("outage-for") <= o.i("duration"),
              "need 0 <= --outage-at and --outage-at + --outage-for <= --duration");
        } else {
          o.require(!o.s("dialect").equals("socketio") || o.has("url"), "--dialect socketio needs --url");
          o.require(o.has("url") || o.d("rate") <= 40 || o.i("relay-rate") >= o.d("rate") + 10,
              "--rate " + o.s("rate") + " is over the relay's 50 frames/s per connection (pings count too):"
              + " add --relay-rate " + (int) Math.ceil(o.d("rate") * 1.5 + 10));
        }
      }
      case "chaos" -> ChaosScenario.validate(o);
      case "cluster" -> ClusterScenario.validate(o);
      case "idle" -> o.require(o.i("connections") >= 1 && o.i("steps") >= 1, "need --connections >= 1, --steps >= 1");
      case "signaling" -> {
        o.require(o.i("pairs") >= 1 && o.i("rounds") >= 1 && o.i("candidates") >= 0 && o.i("warmup-rounds") >= 0
            && o.i("sdp-bytes") >= 10 && o.i("sdp-bytes") <= 12_000 && o.i("interval-ms") >= 1, "need --pairs >= 1,"
            + " --rounds >= 1, --warmup-rounds >= 0, --candidates >= 0, --interval-ms >= 1,"
            + " 10 <= --sdp-bytes <= 12000 (the relay's signal limit is 16384 bytes)");
        // each side sends 1 + candidates signals per round; the relay's signal bucket is 20/s (burst 60)
        double perSecond = (1 + o.i("candidates")) * 1000.0 / o.i("interval-ms");
        o.require(perSecond <= 20 && 1 + o.i("candidates") <= 60, String.format("%d signals every %d ms is %.1f/s"
            + " per peer: over the relay's signal rate (20/s, burst 60); raise --interval-ms",
            1 + o.i("candidates"), o.i("interval-ms"), perSecond));
      }
      case "history" -> o.require(o.i("rooms") >= 2 && o.i("rooms") <= 100 && o.i("messages") >= 1
          && o.i("loads") >= 1 && o.i("page") >= 1 && o.i("page") <= 100,
          "need 2 <= --rooms <= 100, --messages >= 1, --loads >= 1, 1 <= --page <= 100");
      default -> { }
    }
    Path dir = Path.of(o.s("out-dir"));
    o.require(!dir.toString().isBlank(), "--out-dir is empty");
  }

  static Outcome execute(Options o) throws Exception {
    Instant started = Instant.now();
    JsonObject result = switch (o.scenario) {
      case "chat" -> chat(o);
      case "idle" -> IdleScenario.run(o);
      case "signaling" -> SignalingScenario.run(o);
      case "history" -> HistoryScenario.run(o);
      case "outage" -> OutageScenario.run(o);
      case "chaos" -> ChaosScenario.run(o);
      case "cluster" -> ClusterScenario.run(o);
      case "compare" -> compare(o);
      default -> throw new Options.UsageError(Options.usage(null));
    };
    result.put("bench", new JsonObject()
        .put("scenario", o.scenario)
        .put("startedAt", started.toString())
        .put("finishedAt", Instant.now().toString())
        .put("options", new JsonObject(new LinkedHashMap<>(o.asMap())))
        .put("cores", Runtime.getRuntime().availableProcessors())
        .put("loadAverage", loadAverage())
        .put("note", "a 2-core machine shared by the relay, its Postgres, the driver and any competitor:"
            + " check loadAverage before trusting a figure"));
    return write(o, result, started);
  }

  static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (Exception e) {
      return "?";
    }
  }

  // ---- chat ---------------------------------------------------------------------------------

  static JsonObject chat(Options o) throws Exception {
    JsonObject ours;
    if (o.has("url")) {
      ours = runDriver(o.asMap());
    } else {
      ours = chatOnRelay(o);
    }
    if (!o.b("compare")) {
      return ours;
    }
    JsonObject theirs = chatOnSocketIo(o);
    return new JsonObject().put("scenario", "chat").put("switchboard", ours).put("socketio", theirs)
        .put("ratios", ratios(ours, theirs, List.of(
            new Ratio("p50 send->receive", "latencyMs.sendToReceive.p50"),
            new Ratio("p99 send->receive", "latencyMs.sendToReceive.p99"),
            new Ratio("max send->receive", "latencyMs.sendToReceive.max"),
            new Ratio("server max RSS", "server.maxRssMb"),
            new Ratio("server CPU seconds", "server.cpuSeconds"),
            new Ratio("server CPU seconds, measured window", "server.cpuSecondsMeasured"),
            new Ratio("deliveries/s", "deliveriesPerSecond"))))
        .put("invalid", ours.getBoolean("invalid", false));
  }

  static JsonObject chatOnRelay(Options o) throws Exception {
    Map<String, String> env = new LinkedHashMap<>();
    if (o.i("relay-rate") > 0) {
      env.put("SWITCHBOARD_RATE_FRAMES_PER_SECOND", Integer.toString(o.i("relay-rate")));
      env.put("SWITCHBOARD_RATE_BURST", Integer.toString(2 * o.i("relay-rate")));
    }
    relayCompression(o, env);
    try (RelayProcess relay = startRelay(o, List.of(), env)) {
      Map<String, String> m = o.asMap();
      m.put("url", relay.wsUrl());
      m.put("admin", relay.adminUrl());
      m.put("server-pid", Long.toString(relay.pid()));
      m.put("pg-port", Integer.toString(relay.pgPort));
      m.put("pg-password", relay.pgPassword());
      JsonObject r = runDriver(m);
      return relayChecked(relay, r);
    }
  }

  /** --relay-compression: the relay's {@code compression} setting for this run (empty: its default). */
  static void relayCompression(Options o, Map<String, String> env) {
    if (!o.s("relay-compression").isEmpty()) {
      env.put("SWITCHBOARD_COMPRESSION", o.s("relay-compression"));
    }
  }

  static JsonObject chatOnSocketIo(Options o) {
    try (NodeServer s = NodeServer.start(NodeServer.Kind.SOCKETIO, NodeServer.competitorsDir(o.s("competitors-dir")))) {
      Map<String, String> m = o.asMap();
      m.put("dialect", "socketio");
      // the clients still offer permessage-deflate as browsers do: stock Socket.IO declines it
      m.put("url", "ws://127.0.0.1:" + s.port + "/socket.io/?EIO=4&transport=websocket");
      m.put("admin", "");
      m.put("server-pid", Long.toString(s.pid()));
      m.put("pg-port", "-1");
      JsonObject r = runDriver(m);
      r.put("server_label", NodeServer.Kind.SOCKETIO.label);
      if (!s.alive()) {
        r.put("invalid", true).put("invalidReason", "the Socket.IO server exited during the run");
      }
      return r;
    } catch (NodeServer.CompetitorUnavailable e) {
      LOG.error("competitor unavailable: {}", e.getMessage());
      return new JsonObject().put("unavailable", e.getMessage());
    } catch (Exception e) {
      LOG.error("competitor run failed", e);
      return new JsonObject().put("unavailable", "run failed: " + e);
    }
  }

  /**
   * The random stream of simulated client {@code idx}. Seeds are mixed first: {@code new Random(s)}
   * for neighbouring {@code s} starts nearly identically (first doubles within 0.3 % of each other),
   * which once put every client's "random" send phase in the same few milliseconds.
   */
  static Random clientRandom(long seed, int idx) {
    return new Random(new SplittableRandom(seed + idx * 0x9E3779B97F4A7C15L).nextLong());
  }

  static JsonObject runDriver(Map<String, String> m) throws Exception {
    LoadDriver d = new LoadDriver(m);
    try {
      return d.run();
    } finally {
      d.close();
    }
  }

  /**
   * The heap flags of the documented run command (README, docs/operations.md): the relay is measured
   * as operators run it. A scenario's own flags and --server-java-opts come later and win.
   */
  static final List<String> RELAY_RUN_FLAGS = List.of("-Xms32m", "-Xmx1g");

  static RelayProcess startRelay(Options o, List<String> extraJavaOpts, Map<String, String> env) throws Exception {
    List<String> javaOpts = new ArrayList<>(RELAY_RUN_FLAGS);
    javaOpts.addAll(extraJavaOpts);
    if (!o.s("server-java-opts").isBlank()) {
      javaOpts.addAll(Arrays.asList(o.s("server-java-opts").trim().split("\\s+")));
    }
    RelayProcess relay = new RelayProcess(RelayProcess.findJar(o.s("relay-jar")), javaOpts, env);
    try {
      relay.start();
      return relay;
    } catch (Exception e) {
      relay.close();
      throw e;
    }
  }

  /** Marks a result invalid when the relay did not live through the run, and adds its warnings. */
  static JsonObject relayChecked(RelayProcess relay, JsonObject r) {
    if (!relay.alive()) {
      r.put("invalid", true).put("invalidReason", "the relay stopped before the bench was done:\n" + relay.tail(20));
    }
    r.put("serverLogWarnings", new JsonArray(relay.warnings(20)));
    return r;
  }

  // ---- compare ------------------------------------------------------------------------------

  static JsonObject compare(Options o) throws Exception {
    JsonObject chat = chat(o.with("chat", Map.of("users", o.s("users"), "room-size", o.s("room-size"),
        "rate", o.s("rate"), "duration", o.s("duration"), "warmup", o.s("warmup"), "compare", "true")));
    JsonObject idle = IdleScenario.run(o.with("idle", Map.of("connections", o.s("connections"), "hold", o.s("hold"),
        "compare", "true", "charts", "false")));
    JsonObject sig = SignalingScenario.run(o.with("signaling", Map.of("pairs", o.s("pairs"), "rounds", o.s("rounds"),
        "warmup-rounds", o.s("warmup-rounds"), "compare", "true")));
    return new JsonObject().put("scenario", "compare").put("chat", chat).put("idle", idle).put("signaling", sig)
        .put("invalid", chat.getBoolean("invalid", false) || idle.getBoolean("invalid", false)
            || sig.getBoolean("invalid", false));
  }

  record Ratio(String label, String path) {}

  /** ours/theirs for each path ("a.b.c" in both results); null where either side is missing. */
  static JsonObject ratios(JsonObject ours, JsonObject theirs, List<Ratio> which) {
    JsonObject r = new JsonObject();
    for (Ratio q : which) {
      Double a = number(ours, q.path());
      Double b = number(theirs, q.path());
      JsonObject e = new JsonObject().put("ours", a).put("theirs", b);
      if (a != null && b != null && b != 0 && a >= 0 && b > 0) {
        e.put("ratio", Math.round(a / b * 1000) / 1000.0);
      }
      r.put(q.label(), e);
    }
    return r;
  }

  static Double number(JsonObject o, String path) {
    Object cur = o;
    for (String k : path.split("\\.")) {
      if (!(cur instanceof JsonObject j) || !j.containsKey(k)) {
        return null;
      }
      cur = j.getValue(k);
    }
    return cur instanceof Number n ? n.doubleValue() : null;
  }

  // ---- outputs ------------------------------------------------------------------------------

  static Outcome write(Options o, JsonObject result, Instant started) throws Exception {
    Path json;
    if (o.has("out")) {
      json = Path.of(o.s("out"));
    } else {
      json = Path.of(o.s("out-dir")).resolve(o.scenario + "-" + TS.format(started) + ".json");
    }
    if (json.toAbsolutePath().getParent() != null) {
      Files.createDirectories(json.toAbsolutePath().getParent());
    }
    String base = json.getFileName().toString().replaceFirst("\\.json$", "");
    List<Path> charts = new ArrayList<>();
    if (o.b("charts")) {
      charts.addAll(Report.charts(o.scenario, result, json.toAbsolutePath().getParent(), base));
    }
    JsonArray chartNames = new JsonArray();
    charts.forEach(c -> chartNames.add(c.getFileName().toString()));
    result.put("charts", chartNames);
    Files.writeString(json, result.encodePrettily() + "\n");
    String md = Report.markdown(o.scenario, result, base);
    Path mdPath = json.resolveSibling(base + ".md");
    Files.writeString(mdPath, md);
    return new Outcome(result, json, mdPath, charts, md);
  }
}
