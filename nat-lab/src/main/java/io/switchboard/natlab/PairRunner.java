package io.switchboard.natlab;

import io.switchboard.natlab.peer.JavaPeerMain;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs pairs of peers through a {@link Lab}: sides up, both peers, results, sides down. */
public final class PairRunner {
  /** A peer gives up (and reports) after this long; the lab stops it a little later. */
  static final long PEER_DEADLINE_MS = 45_000;
  static final int MESSAGES = 20;

  private final Lab lab;
  private final PeerKind kind;
  private final Expected expected;
  private int counter;

  public PairRunner(Lab lab, PeerKind kind, Expected expected) {
    this.lab = lab;
    this.kind = kind;
    this.expected = expected;
  }

  public Row run(NatType natA, NatType natB) throws IOException {
    long start = System.nanoTime();
    int n = ++counter;
    String tag = String.format("pair-%02d-%s-%s", n, natA.wire(), natB.wire());
    Lab.Side a = lab.side("a", natA);
    Lab.Side b = null;
    JsonObject ra;
    JsonObject rb;
    long upMs;
    long downStart;
    try {
      b = lab.side("b", natB);
      upMs = (System.nanoTime() - start) / 1_000_000;
      String room = "natlab-" + n;
      CompletableFuture<String> outA = lab.runIn(a.clientNs(), kind.command(launch(room, "a", a, false)), tag + "-a",
          PEER_DEADLINE_MS + 5000);
      CompletableFuture<String> outB = lab.runIn(b.clientNs(), kind.command(launch(room, "b", b, false)), tag + "-b",
          PEER_DEADLINE_MS + 5000);
      ra = parse(join(outA), tag + "-a");
      rb = parse(join(outB), tag + "-b");
    } finally {
      downStart = System.nanoTime();
      lab.removeSide(a);
      if (b != null) {
        lab.removeSide(b);
      }
    }
    long downMs = (System.nanoTime() - downStart) / 1_000_000;
    ra.put("labUpMs", upMs).put("labDownMs", downMs);
    return row(natA, natB, ra, rb, (System.nanoTime() - start) / 1_000_000);
  }

  /** One peer alone in a room: STUN probe and the relay's classification only. */
  public CompletableFuture<String> probe(Lab.Side side, String tag) throws IOException {
    return lab.runIn(side.clientNs(), kind.command(launch("natlab-probe-" + (++counter), side.id(), side, true)), tag,
        PEER_DEADLINE_MS);
  }

  private PeerKind.Launch launch(String room, String name, Lab.Side side, boolean probeOnly) {
    return new PeerKind.Launch(Lab.RELAY_URL, room, name, side.clientIp(), MESSAGES, PEER_DEADLINE_MS, probeOnly);
  }

  static String join(CompletableFuture<String> out) {
    try {
      return out.get(PEER_DEADLINE_MS + 15_000, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      return "";
    }
  }

  /** The peer's NATLAB-RESULT line, or a result naming the failure. */
  static JsonObject parse(String stdout, String tag) {
    for (String line : stdout.split("\n")) {
      if (line.startsWith(JavaPeerMain.RESULT_PREFIX)) {
        try {
          return new JsonObject(line.substring(JavaPeerMain.RESULT_PREFIX.length()));
        } catch (RuntimeException e) {
          return new JsonObject().put("error", "unreadable result line from " + tag + ": " + e.getMessage());
        }
      }
    }
    return new JsonObject().put("error", "no NATLAB-RESULT line from " + tag + " (see its log)");
  }

  private Row row(NatType natA, NatType natB, JsonObject ra, JsonObject rb, long pairMs) {
    List<String> errors = new ArrayList<>();
    for (JsonObject r : List.of(ra, rb)) {
      if (r.getString("error") != null) {
        errors.add(r.getString("name", "?") + ": " + r.getString("error"));
      }
    }
    String pathA = ra.getString("path", "none");
    String pathB = rb.getString("path", "none");
    if (!pathA.equals(pathB)) {
      errors.add("the peers ended on different paths: " + pathA + " / " + pathB);
    }
    String predicted = predicted(ra);
    String predictedB = predicted(rb);
    if (!predicted.equals(predictedB)) {
      errors.add("the peers got different steers: " + predicted + " / " + predictedB);
    }
    Long setup = max(ra.getLong("setupMs"), rb.getLong("setupMs"));
    Double rtt = ra.getDouble("rttMs") != null ? ra.getDouble("rttMs") : rb.getDouble("rttMs");
    String candidates = ra.getString("localType") == null ? "-" : ra.getString("localType") + "↔" + ra.getString("remoteType");
    return new Row(natA, natB, pathA, predicted, ra.getJsonObject("steer", new JsonObject()).getString("reason", "-"),
        ra.getInteger("sent", 0) + rb.getInteger("sent", 0), ra.getInteger("delivered", 0) + rb.getInteger("delivered", 0),
        ra.getInteger("duplicates", 0) + rb.getInteger("duplicates", 0), setup, rtt,
        ra.getString("class", "-"), rb.getString("class", "-"), candidates, expected.get(natA, natB), pairMs, errors,
        ra, rb);
  }

  private static String predicted(JsonObject r) {
    JsonObject steer = r.getJsonObject("steer");
    if (steer == null) {
      return "none";
    }
    String mode = steer.getString("mode");
    return "p2p".equals(mode) ? "direct" : mode;
  }

  private static Long max(Long x, Long y) {
    return x == null ? y : y == null ? x : Math.max(x, y);
  }

  static JsonArray toJson(List<Row> rows) {
    JsonArray out = new JsonArray();
    rows.forEach(r -> out.add(r.toJson()));
    return out;
  }
}
