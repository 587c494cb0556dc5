package io.switchboard.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every scenario at tiny scale against the real relay jar (built before bench in the reactor),
 * asserting that the harness measures: a dropped message is lost, a duplicated one a duplicate,
 * idle memory per connection is positive, signaling latency is recorded, history pages are timed
 * and checked, an outage loses nothing and leaves nothing acked-but-not-stored. With node present
 * the competitors run too (under CI=true a missing node fails; otherwise it is skipped loudly).
 * Not a performance test: nothing here asserts a speed.
 */
class ScenarioSmokeTest {
  private static final Path OUT = Path.of("target", "smoke-results");
  private static boolean node;

  @BeforeAll
  static void setUp() throws Exception {
    Files.createDirectories(OUT);
    node = NodeServer.nodeAvailable();
    if (!node) {
      String msg = "node is not installed: the Socket.IO and PeerJS side-by-side runs are NOT smoke-tested";
      if ("true".equals(System.getenv("CI"))) {
        fail(msg + " (CI=true)");
      }
      System.err.println("*** WARNING: " + msg + " ***");
    }
  }

  private static Bench.Outcome run(String... args) throws Exception {
    List<String> a = new ArrayList<>(List.of(args));
    a.addAll(List.of("--out-dir", OUT.toString(), "--seed", "42", "--event-loops", "2"));
    Options o = Options.parse(a.toArray(String[]::new));
    Bench.validate(o);
    Bench.Outcome r = Bench.execute(o);
    assertThat(r.json()).exists();
    assertThat(r.md()).exists();
    assertThat(Files.readString(r.md())).startsWith("# " + o.scenario);
    for (Path chart : r.charts()) {
      assertThat(chart).exists();
      assertThat(Files.size(chart)).isGreaterThan(1000);
    }
    assertThat(r.result().getBoolean("invalid", false)).as("relay lived through the run").isFalse();
    return r;
  }

  @Test
  @Timeout(120)
  void chatCountsADroppedMessageAsLostAndADuplicateAsDuplicated() throws Exception {
    JsonObject r = run("chat", "--users", "4", "--room-size", "2", "--rate", "5", "--duration", "2",
        "--warmup", "0", "--drain", "2", "--drop-every", "7", "--duplicate-every", "5",
        "--compare", Boolean.toString(node)).result();
    JsonObject ours = node ? r.getJsonObject("switchboard") : r;
    long expected = ours.getLong("expectedDeliveries");
    assertThat(expected).isGreaterThan(10);
    // every 7th msg frame is discarded by the driver, every 5th (not also 7th) accounted twice
    long frames = expected; // the relay delivered everything: the only losses are the injected ones
    assertThat(ours.getLong("lost")).isEqualTo(frames / 7);
    assertThat(ours.getLong("duplicated")).isEqualTo(frames / 5 - frames / 35);
    assertThat(ours.getLong("delivered") + ours.getLong("lost")).isEqualTo(expected);
    assertThat(ours.getJsonObject("latencyMs").getJsonObject("sendToReceive").getLong("count"))
        .isEqualTo(ours.getLong("delivered"));
    assertThat(ours.getJsonObject("targets").getBoolean("nothing_lost")).isFalse();
    assertThat(ours.getJsonObject("server").getLong("maxRssMb")).isGreaterThan(0);
    assertThat(ours.getJsonObject("server").getDouble("cpuSeconds")).isGreaterThan(0);
    assertThat(ours.getJsonObject("server").getDouble("cpuSecondsMeasured")).isGreaterThan(0);
    // the relay is a HotSpot JVM: its compiler threads are found (a 2 s window may not compile anything)
    assertThat(ours.getJsonObject("server").getDouble("jitCpuSecondsMeasured")).isGreaterThanOrEqualTo(0);
    assertThat(ours.getJsonObject("server").getLong("maxDbConnections")).isBetween(1L, 4L);
    assertThat(ours.getJsonObject("bandwidth").getLong("wireReceivedBytesPerUserPerMinute")).isGreaterThan(0);
    assertThat(ours.getLong("acked")).isEqualTo(ours.getLong("sent"));
    if (node) {
      JsonObject theirs = r.getJsonObject("socketio");
      assertThat(theirs.containsKey("unavailable")).as(theirs.encode()).isFalse();
      assertThat(theirs.getLong("expectedDeliveries")).isGreaterThan(10);
      assertThat(theirs.getLong("lost")).isEqualTo(theirs.getLong("expectedDeliveries") / 7);
      assertThat(r.getJsonObject("ratios").getJsonObject("p99 send->receive").getDouble("ratio")).isPositive();
    }
  }

  @Test
  @Timeout(120)
  void idleReportsMemoryPerConnection() throws Exception {
    // enough connections (~3.5 MB of heap) that the heap's own drift between two full GCs (a few
    // hundred KB: metric buffers, caches) cannot make the per-connection figure negative
    JsonObject r = run("idle", "--connections", "300", "--steps", "2", "--settle", "0", "--hold", "1",
        "--server-heap", "256m", "--relay-compression", "deflate", "--compare", Boolean.toString(node)).result();
    JsonObject ours = r.getJsonObject("switchboard");
    assertThat(ours.getInteger("connected")).isEqualTo(300);
    assertThat(ours.getInteger("openAtEnd")).isEqualTo(300);
    assertThat(ours.getLong("retainedHeapPerConnectionBytes")).isPositive();
    assertThat(ours.getJsonArray("steps")).hasSize(3);
    // measured connections are active ones: each sent one message and got its 9 room-mates' ones,
    // after offering Chromium's permessage-deflate, which the relay (set to deflate) accepted
    assertThat(ours.getLong("messagesSent")).isEqualTo(300);
    assertThat(ours.getLong("messagesExpected")).isEqualTo(300 * 9);
    assertThat(ours.getLong("messagesReceived")).isEqualTo(300 * 9);
    assertThat(ours.getJsonObject("negotiatedExtensions").getMap()).containsExactly(entry("permessage-deflate", 300L));
    if (node) {
      JsonObject theirs = r.getJsonObject("socketio");
      assertThat(theirs.containsKey("unavailable")).as(theirs.encode()).isFalse();
      assertThat(theirs.getInteger("connected")).isEqualTo(300);
      assertThat(theirs.getLong("retainedHeapPerConnectionBytes")).isPositive();
      assertThat(theirs.getLong("messagesReceived")).isEqualTo(300 * 9);
      // stock Socket.IO declines the same offer
      assertThat(theirs.getJsonObject("negotiatedExtensions").getMap()).containsExactly(entry("", 300L));
    }
  }

  @Test
  @Timeout(120)
  void signalingRecordsLatency() throws Exception {
    JsonObject r = run("signaling", "--pairs", "2", "--rounds", "2", "--warmup-rounds", "1", "--candidates", "2",
        "--interval-ms", "200", "--compare", Boolean.toString(node)).result();
    for (String side : node ? List.of("switchboard", "peerjs") : List.of("switchboard")) {
      JsonObject s = r.getJsonObject(side);
      assertThat(s.containsKey("unavailable")).as(s.encode()).isFalse();
      // 2 pairs x 3 rounds x (offer + answer + 2 x 2 candidates)
      assertThat(s.getLong("expected")).isEqualTo(2 * 3 * 6);
      assertThat(s.getLong("delivered")).isEqualTo(s.getLong("expected"));
      assertThat(s.getLong("lost")).isZero();
      // only the 2 measured rounds are in the histogram
      assertThat(s.getJsonObject("latencyMs").getLong("count")).isEqualTo(2 * 2 * 6);
      assertThat(s.getJsonObject("latencyMs").getDouble("p50")).isPositive();
      assertThat(s.getJsonObject("offerToAnswerMs").getLong("count")).isEqualTo(2 * 2);
    }
  }

  @Test
  @Timeout(120)
  void historyTimesColdAndWarmPages() throws Exception {
    JsonObject r = run("history", "--rooms", "3", "--messages", "60", "--loads", "5", "--page", "50").result();
    assertThat(r.getJsonObject("fill").getLong("stored")).isEqualTo(180);
    assertThat(r.getLong("badPages")).isZero();
    assertThat(r.getJsonObject("warm").getJsonObject("ws").getLong("count")).isEqualTo(5);
    assertThat(r.getJsonObject("warm").getJsonObject("http").getLong("count")).isEqualTo(5);
    assertThat(r.getJsonObject("cold").getJsonObject("ws").getLong("count")).isEqualTo(1);
    assertThat(r.getJsonObject("cold").getJsonObject("http").getLong("count")).isEqualTo(1);
    assertThat(r.getJsonObject("cold").getJsonObject("http").getDouble("p50")).isPositive();
  }

  @Test
  @Timeout(120)
  void outageLosesNothingAndAcksNothingUnstored() throws Exception {
    JsonObject r = run("outage", "--users", "4", "--room-size", "2", "--rate", "4", "--duration", "5",
        "--outage-at", "1", "--outage-for", "2", "--drain", "25").result();
    JsonObject s = r.getJsonObject("outage");
    assertThat(s.getJsonArray("events").encode()).contains("postmaster exited").contains("Postgres back");
    assertThat(r.getLong("sent")).isPositive();
    assertThat(s.getLong("ackedNotStored")).isZero();
    assertThat(s.getLong("sentNotAckedStoredAtEnd")).isZero();
    assertThat(s.getLong("rowsInDb")).isEqualTo(s.getLong("ackedStored"));
    assertThat(r.getLong("lost")).isZero();
    assertThat(r.getLong("duplicated")).isZero();
  }

  /**
   * Two clustered relays on one Postgres, every client of a room on its owner, the owner of the
   * most rooms killed with SIGKILL after 1 s of the window: the cluster forms, deliveries and their
   * latency are counted, each node's CPU and RSS read, every client of the dead node is timed until
   * it is caught up on the other one, and the checker finds every view equal to the database.
   */
  @Test
  @Timeout(120)
  void clusterFormsReportsPerNodeFiguresAndCatchesUpAfterTheOwnerIsKilled() throws Exception {
    JsonObject r = run("cluster", "--nodes", "2", "--clients", "8", "--room-size", "4", "--rate", "4",
        "--duration", "3", "--warmup", "1", "--drain", "15", "--baseline", "false", "--kill-owner", "true",
        "--kill-at", "1", "--lease-ms", "1000",
        // as the relay tests start child relays: less JIT and GC work while three JVMs start on two cores
        "--server-java-opts", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC").result();
    String summary = ClusterScenario.summary(r);
    JsonObject c = r.getJsonObject("cluster");
    assertThat(c.getInteger("nodes")).isEqualTo(2);
    assertThat(c.getDouble("clusterFormedSeconds")).as(summary).isPositive();
    assertThat(c.getInteger("clientsNotJoinedAtStart")).as(summary).isZero();
    JsonObject same = c.getJsonObject("latencyMs").getJsonObject("sameNode");
    assertThat(same.getLong("count")).as(summary).isPositive();
    assertThat(same.getDouble("p50")).as(summary).isPositive();
    assertThat(c.getJsonObject("latencyMs").getJsonObject("crossNode").getLong("count")).as("rooms spread by owner")
        .isZero();
    assertThat(c.getDouble("deliveriesPerSecond")).isPositive();
    assertThat(c.getJsonArray("perNode")).hasSize(2);
    c.getJsonArray("perNode").forEach(n -> {
      JsonObject node = (JsonObject) n;
      assertThat(node.getLong("maxRssMb")).as(node.encode()).isPositive();
      assertThat(node.getDouble("cpuSecondsMeasured")).as(node.encode()).isPositive();
    });
    JsonObject kill = c.getJsonObject("killOwner");
    assertThat(kill.getInteger("clients")).as(summary).isPositive();
    assertThat(kill.getJsonObject("caughtUpMs").getLong("count")).as(summary).isEqualTo((long) kill.getInteger("clients"));
    assertThat(kill.getJsonObject("caughtUpMs").getDouble("max")).as(summary).isPositive();
    assertThat(c.getJsonObject("invariants").getJsonObject("checked").getLong("clientViews")).isEqualTo(8);
    assertThat(c.getJsonObject("invariants").getJsonObject("checked").getLong("dbRows")).as(summary).isGreaterThan(20);
    assertThat(r.getLong("violations")).as(summary).isZero();
  }

  @Test
  void aCompetitorThatCannotStartIsReportedAndTheRunGoesOn() throws Exception {
    Path empty = Files.createTempDirectory("no-competitors");
    try {
      Options o = Options.parse("chat", "--competitors-dir", empty.toString(), "--users", "2", "--room-size", "2");
      JsonObject theirs = Bench.chatOnSocketIo(o);
      assertThat(theirs.getString("unavailable")).isNotBlank();
      // the report still has our side, and no ratio where their side is missing
      assertThat(Bench.ratios(new JsonObject().put("p", 1.0), theirs, List.of(new Bench.Ratio("p", "p")))
          .getJsonObject("p").containsKey("ratio")).isFalse();
    } finally {
      try (var files = Files.walk(empty)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }

  @Test
  void badInputIsAUsageErrorListingTheValidValues() {
    assertThat(Bench.run(new String[] {"teleport"})).isEqualTo(2);
    assertThat(Bench.run(new String[] {})).isEqualTo(2);
    assertThat(Bench.run(new String[] {"chat", "--users", "many"})).isEqualTo(2);
    assertThat(Bench.run(new String[] {"idle", "--rate", "1"})).isEqualTo(2);
    assertThat(Bench.run(new String[] {"outage", "--outage-mode", "flood"})).isEqualTo(2);
    assertThat(Bench.run(new String[] {"outage", "--outage-at", "30"})).isEqualTo(2);
    assertThat(Bench.run(new String[] {"cluster", "--spread", "everywhere"})).isEqualTo(2);
    assertThat(Bench.run(new String[] {"cluster", "--nodes", "1", "--kill-owner", "true"})).isEqualTo(2);
    assertThat(Bench.run(new String[] {"cluster", "--kill-owner", "true", "--duration", "5", "--kill-at", "5"})).isEqualTo(2);
    String usage = Options.usage(null);
    for (String s : Options.scenarios()) {
      assertThat(usage).contains(s);
    }
  }
}
