package io.switchboard.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The markdown summary and the PNG charts of a result. */
final class Report {
  private Report() {}

  static String markdown(String scenario, JsonObject r, String base) {
    StringBuilder sb = new StringBuilder();
    JsonObject bench = r.getJsonObject("bench", new JsonObject());
    sb.append("# ").append(scenario).append(" — ").append(bench.getString("startedAt", "")).append("\n\n");
    sb.append("Load average at the end: `").append(bench.getString("loadAverage", "?"))
        .append("` on ").append(bench.getInteger("cores", 0)).append(" cores. Results: `").append(base)
        .append(".json`.\n\n");
    if (r.getBoolean("invalid", false)) {
      sb.append("**INVALID RUN**: ").append(r.getString("invalidReason", "see the JSON")).append("\n\n");
    }
    switch (scenario) {
      case "chat", "outage" -> chatSection(sb, r);
      case "idle" -> sideBySide(sb, r, "socketio", IdleScenario::summary);
      case "signaling" -> sideBySide(sb, r, "peerjs", SignalingScenario::summary);
      case "history" -> {
        block(sb, HistoryScenario.summary(r));
        targets(sb, r.getJsonObject("targets"));
      }
      case "chaos" -> block(sb, ChaosScenario.summary(r));
      case "cluster" -> block(sb, ClusterScenario.summary(r));
      case "compare" -> {
        sb.append("## chat\n\n");
        chatSection(sb, r.getJsonObject("chat"));
        sb.append("## idle\n\n");
        sideBySide(sb, r.getJsonObject("idle"), "socketio", IdleScenario::summary);
        sb.append("## signaling\n\n");
        sideBySide(sb, r.getJsonObject("signaling"), "peerjs", SignalingScenario::summary);
      }
      default -> block(sb, r.encodePrettily());
    }
    JsonArray charts = r.getJsonArray("charts", new JsonArray());
    for (int i = 0; i < charts.size(); i++) {
      sb.append("![").append(charts.getString(i)).append("](").append(charts.getString(i)).append(")\n\n");
    }
    return sb.toString();
  }

  private static void chatSection(StringBuilder sb, JsonObject r) {
    if (r.containsKey("switchboard")) {
      block(sb, LoadDriver.summary(r.getJsonObject("switchboard")));
      JsonObject theirs = r.getJsonObject("socketio");
      if (theirs.containsKey("unavailable")) {
        sb.append("**Socket.IO not measured**: ").append(theirs.getString("unavailable")).append("\n\n");
      } else {
        block(sb, LoadDriver.summary(theirs));
      }
      ratioTable(sb, r.getJsonObject("ratios"), "Socket.IO");
      targets(sb, r.getJsonObject("switchboard").getJsonObject("targets"));
    } else {
      block(sb, LoadDriver.summary(r));
      if (r.containsKey("outage")) {
        block(sb, OutageScenario.summary(r));
      }
      targets(sb, r.getJsonObject("targets"));
    }
  }

  interface Summary {
    String of(JsonObject side);
  }

  private static void sideBySide(StringBuilder sb, JsonObject r, String competitor, Summary f) {
    block(sb, f.of(r.getJsonObject("switchboard")));
    if (r.containsKey(competitor)) {
      JsonObject theirs = r.getJsonObject(competitor);
      if (theirs.containsKey("unavailable")) {
        sb.append("**").append(competitor).append(" not measured**: ").append(theirs.getString("unavailable"))
            .append("\n\n");
      } else {
        block(sb, f.of(theirs));
      }
      ratioTable(sb, r.getJsonObject("ratios"), competitor);
    }
    targets(sb, r.getJsonObject("switchboard").getJsonObject("targets"));
  }

  private static void block(StringBuilder sb, String text) {
    sb.append("```\n").append(text.strip()).append("\n```\n\n");
  }

  private static void ratioTable(StringBuilder sb, JsonObject ratios, String theirs) {
    if (ratios == null || ratios.isEmpty()) {
      return;
    }
    sb.append("| measure | Switchboard | ").append(theirs).append(" | ours/theirs |\n|---|---|---|---|\n");
    for (String k : ratios.fieldNames()) {
      JsonObject e = ratios.getJsonObject(k);
      sb.append("| ").append(k).append(" | ").append(v(e.getValue("ours"))).append(" | ")
          .append(v(e.getValue("theirs"))).append(" | ").append(v(e.getValue("ratio"))).append(" |\n");
    }
    sb.append("\n");
  }

  private static void targets(StringBuilder sb, JsonObject targets) {
    if (targets == null || targets.isEmpty()) {
      return;
    }
    sb.append("| target | met |\n|---|---|\n");
    for (String k : targets.fieldNames()) {
      sb.append("| ").append(k).append(" | ").append(Boolean.TRUE.equals(targets.getValue(k)) ? "yes" : "**no**")
          .append(" |\n");
    }
    sb.append("\n");
  }

  private static String v(Object o) {
    if (o == null) {
      return "—";
    }
    if (o instanceof Double d) {
      return String.format("%.3f", d);
    }
    return o.toString();
  }

  // ---- charts -------------------------------------------------------------------------------

  static List<Path> charts(String scenario, JsonObject r, Path dir, String base) throws IOException {
    List<Path> out = new ArrayList<>();
    switch (scenario) {
      case "chat", "outage" -> chatCdf(r, dir.resolve(base + "-latency-cdf.png"), out);
      case "idle" -> idleRss(r, dir.resolve(base + "-rss-vs-connections.png"), out);
      case "signaling" -> signalingCdf(r, dir.resolve(base + "-latency-cdf.png"), out);
      case "history" -> {
        Path p = dir.resolve(base + "-latency-cdf.png");
        Charts.latencyCdf(p, "history: first page (" + r.getJsonObject("params").getInteger("page") + ") load latency",
            HistoryScenario.cdfs(r));
        out.add(p);
      }
      case "cluster" -> {
        Path p = dir.resolve(base + "-latency-cdf.png");
        Charts.latencyCdf(p, "send -> deliver: 1 node vs the cluster's same-node and cross-node deliveries",
            ClusterScenario.cdfs(r));
        out.add(p);
      }
      case "compare" -> {
        chatCdf(r.getJsonObject("chat"), dir.resolve(base + "-chat-latency-cdf.png"), out);
        idleRss(r.getJsonObject("idle"), dir.resolve(base + "-idle-rss-vs-connections.png"), out);
        signalingCdf(r.getJsonObject("signaling"), dir.resolve(base + "-signaling-latency-cdf.png"), out);
      }
      default -> { }
    }
    return out;
  }

  private static void chatCdf(JsonObject r, Path p, List<Path> out) throws IOException {
    Map<String, JsonArray> s = new LinkedHashMap<>();
    if (r.containsKey("switchboard")) {
      s.put("Switchboard", cdfOf(r.getJsonObject("switchboard")));
      if (!r.getJsonObject("socketio").containsKey("unavailable")) {
        s.put("Socket.IO 4.8", cdfOf(r.getJsonObject("socketio")));
      }
    } else {
      s.put("Switchboard", cdfOf(r));
    }
    Charts.latencyCdf(p, "send -> receive latency", s);
    out.add(p);
  }

  private static JsonArray cdfOf(JsonObject chat) {
    return chat.getJsonObject("latencyMs", new JsonObject()).getJsonArray("sendToReceiveCdf", new JsonArray());
  }

  private static void signalingCdf(JsonObject r, Path p, List<Path> out) throws IOException {
    Map<String, JsonArray> s = new LinkedHashMap<>();
    s.put("Switchboard", r.getJsonObject("switchboard").getJsonArray("cdf", new JsonArray()));
    if (r.containsKey("peerjs") && !r.getJsonObject("peerjs").containsKey("unavailable")) {
      s.put("PeerJS server 1.0.2", r.getJsonObject("peerjs").getJsonArray("cdf", new JsonArray()));
    }
    Charts.latencyCdf(p, "signal send -> delivery latency", s);
    out.add(p);
  }

  private static void idleRss(JsonObject r, Path p, List<Path> out) throws IOException {
    Map<String, List<double[]>> s = new LinkedHashMap<>();
    s.put("Switchboard RSS", IdleScenario.rssSeries(r.getJsonObject("switchboard")));
    if (r.containsKey("socketio") && !r.getJsonObject("socketio").containsKey("unavailable")) {
      s.put("Socket.IO 4.8 RSS", IdleScenario.rssSeries(r.getJsonObject("socketio")));
    }
    Charts.line(p, "server RSS vs idle connections", "connections", "RSS (MB)", s, false);
    out.add(p);
  }
}
