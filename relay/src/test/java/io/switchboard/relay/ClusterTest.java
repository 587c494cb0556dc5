package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 15's cluster foundation with real parts: relays in child JVMs, clustered by Hazelcast on
 * loopback, sharing one Postgres. They form one cluster, agree where every room belongs, drop a
 * killed member within a measured time and agree again having moved only its rooms, take in a
 * joining member, and let a drained one leave at once.
 */
class ClusterTest {
  private static final List<String> ROOMS = IntStream.range(0, 1000).mapToObj(i -> "room-" + i).toList();
  /** Tighter than the relay's default (10 s) so the suite stays quick; docs/operations.md says how. */
  private static final int MAX_NO_HEARTBEAT_SECONDS = 4;
  private static final Map<String, String> ENV = Map.of(
      "SWITCHBOARD_STORE_LEASE_MS", "1000",
      "JAVA_TOOL_OPTIONS", "-Dhazelcast.max.no.heartbeat.seconds=" + MAX_NO_HEARTBEAT_SECONDS);
  /** 128 + SIGTERM: the JVM's status after its shutdown hooks ran to the end. */
  static final int CLEAN_SIGTERM_EXIT = 143;
  private static RelayCluster cluster;
  private static Vertx vertx;

  @BeforeAll
  static void start() throws Exception {
    cluster = new RelayCluster();
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() throws Exception {
    if (vertx != null) {
      TestClient.sync(vertx.close(), 10);
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void threeRelaysAgreeOnEveryRoomOwnerLoseAKilledOneMovingOnlyItsRoomsAndTakeInAFourth() throws Exception {
    long launched = System.nanoTime();
    List<RelayCluster.Node> three = cluster.start(3, ENV);
    awaitMembers(three, 3, Duration.ofSeconds(60));
    System.out.printf("cluster: 3 relays launched to one cluster of 3 in %d ms%n", msSince(launched));

    Set<String> ids = new HashSet<>();
    for (RelayCluster.Node n : three) {
      JsonObject view = n.cluster();
      assertThat(view.getBoolean("clustered")).isTrue();
      ids.add(view.getString("node"));
      JsonArray members = view.getJsonArray("members");
      // every member published its relay's ports: each node lists all three relays
      assertThat(members.stream().map(m -> ((JsonObject) m).getInteger("adminPort")).toList())
          .containsExactlyInAnyOrderElementsOf(three.stream().map(x -> x.adminPort).toList());
      assertThat(members.stream().filter(m -> ((JsonObject) m).getBoolean("self")).count()).isEqualTo(1);
    }
    assertThat(ids).hasSize(3);
    JsonObject owners = agreedOwners(three);
    assertThat(new HashSet<>(owners.getMap().values())).as("every node owns some of 1,000 rooms").isEqualTo(ids);

    twoRelaysWithClientsInOneRoom(three.get(0), three.get(1));

    RelayCluster.Node victim = three.get(1);
    String victimId = victim.cluster().getString("node");
    victim.kill9();
    long killed = System.nanoTime();
    List<RelayCluster.Node> survivors = List.of(three.get(0), three.get(2));
    List<Long> detected = new ArrayList<>();
    for (RelayCluster.Node n : survivors) {
      // its connections are refused at once; the heartbeat timeout is the bound if that went unnoticed
      await("node " + n.index + " drops the killed member").atMost(Duration.ofSeconds(MAX_NO_HEARTBEAT_SECONDS + 3))
          .pollInterval(Duration.ofMillis(50)).until(() -> n.cluster().getInteger("size") == 2);
      detected.add(msSince(killed));
    }
    System.out.printf("cluster: kill -9 detected by the survivors after %s ms%n", detected);
    JsonObject after = agreedOwners(survivors);
    int moved = 0;
    for (String room : ROOMS) {
      String was = owners.getString(room);
      if (was.equals(victimId)) {
        moved++;
        assertThat(after.getString(room)).isNotEqualTo(victimId);
      } else {
        assertThat(after.getString(room)).as(room + " was on a survivor: it stays").isEqualTo(was);
      }
    }
    assertThat(moved).as("the killed node had rooms").isGreaterThan(200);

    long joining = System.nanoTime();
    RelayCluster.Node fourth = cluster.start(1, ENV).get(0);
    List<RelayCluster.Node> now = List.of(three.get(0), three.get(2), fourth);
    awaitMembers(now, 3, Duration.ofSeconds(45));
    System.out.printf("cluster: a fourth relay launched and seen by all in %d ms%n", msSince(joining));
    String fourthId = fourth.cluster().getString("node");
    JsonObject grown = agreedOwners(now);
    int taken = 0;
    for (String room : ROOMS) {
      if (!grown.getString(room).equals(after.getString(room))) {
        assertThat(grown.getString(room)).as("a room only moves to the joining node").isEqualTo(fourthId);
        taken++;
      }
    }
    assertThat(taken).as("about a third of the rooms").isBetween(250, 420);

    RelayCluster.Node drained = three.get(2);
    long term = System.nanoTime();
    assertThat(drained.sigterm()).as("a clean drain: the signal's status, not Main's unclean 3").isEqualTo(CLEAN_SIGTERM_EXIT);
    List<RelayCluster.Node> left = List.of(three.get(0), fourth);
    awaitMembers(left, 2, Duration.ofSeconds(10));
    System.out.printf("cluster: a SIGTERM'd relay stopped and left the others' view in %d ms%n", msSince(term));
    agreedOwners(left);

    // a frozen relay keeps its sockets open: only the missing heartbeats give it away
    fourth.freeze();
    long frozen = System.nanoTime();
    RelayCluster.Node last = three.get(0);
    await("node 0 drops the frozen member").atMost(Duration.ofSeconds(MAX_NO_HEARTBEAT_SECONDS + 4))
        .pollInterval(Duration.ofMillis(50)).until(() -> last.cluster().getInteger("size") == 1);
    System.out.printf("cluster: a frozen (SIGSTOP) relay dropped after %d ms (max.no.heartbeat %d s)%n",
        msSince(frozen), MAX_NO_HEARTBEAT_SECONDS);
    fourth.kill9();
  }

  /**
   * Until cross-node forwarding exists a room is sequenced by whichever relay claimed it first: a
   * second relay's join waits for the claim for 1.5 leases and is then refused, while the first
   * relay's members chat on.
   */
  /** Clients of two relays share a room: it is sequenced (and claimed) by the node the placement names. */
  private static void twoRelaysWithClientsInOneRoom(RelayCluster.Node first, RelayCluster.Node second) {
    TestClient alice = TestClient.connect(vertx, first.port);
    TestClient bob = TestClient.connect(vertx, second.port);
    try {
      alice.hello();
      bob.hello();
      assertThat(alice.join("shared").getString("t")).isEqualTo("joined");
      JsonObject view = first.cluster();
      String owner = cluster.get(first.adminPort, "/cluster?room=shared").body();
      String ownerNode = new JsonObject(owner).getString("owner");
      String ownerIncarnation = view.getJsonArray("members").stream().map(JsonObject.class::cast)
          .filter(m -> m.getString("node").equals(ownerNode)).findFirst().orElseThrow().getString("incarnation");
      assertThat(cluster.claimOwner("shared")).isEqualTo(ownerIncarnation);
      assertThat(bob.join("shared").getString("t")).isEqualTo("joined");
      assertThat(alice.sendMessage("shared", "a1", "to bob").getBoolean("stored")).isTrue();
      assertThat(bob.await("msg").getString("body")).isEqualTo("to bob");
    } finally {
      alice.close();
      bob.close();
    }
  }

  @Test
  void aClusteredStartOnTheEmbeddedDefaultFailsAtOnceSayingWhatToSet() throws Exception {
    Path data = Files.createDirectories(cluster.dir().resolve("no-db"));
    String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", classpath, Main.class.getName());
    pb.environment().remove("DATABASE_URL");
    pb.environment().put("SWITCHBOARD_CLUSTER_MEMBERS", "127.0.0.1:" + RelayChildProcess.freePort());
    pb.environment().put("SWITCHBOARD_DATA_DIR", data.toString());
    pb.redirectErrorStream(true).redirectOutput(data.resolve("server.log").toFile());
    long started = System.nanoTime();
    Process p = pb.start();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    String log = Files.readString(data.resolve("server.log"));
    assertThat(p.exitValue()).as(log).isEqualTo(2);
    assertThat(log).contains("DATABASE_URL").contains("clustered");
    // it stopped before starting Postgres or Hazelcast: the folder holds only the log
    try (var files = Files.list(data)) {
      assertThat(files.map(f -> f.getFileName().toString()).toList()).containsExactly("server.log");
    }
    System.out.printf("cluster: a clustered start without DATABASE_URL exited in %d ms%n", msSince(started));
  }

  private static void awaitMembers(List<RelayCluster.Node> nodes, int size, Duration within) {
    for (RelayCluster.Node n : nodes) {
      await("node " + n.index + " sees " + size + " members").atMost(within).pollInterval(Duration.ofMillis(50))
          .until(() -> n.cluster().getInteger("size") == size);
    }
  }

  /** Every node's owner of each of the 1,000 rooms: they must be the same. */
  private static JsonObject agreedOwners(List<RelayCluster.Node> nodes) {
    JsonObject first = nodes.get(0).owners(ROOMS).getJsonObject("owners");
    for (RelayCluster.Node n : nodes.subList(1, nodes.size())) {
      assertThat(n.owners(ROOMS).getJsonObject("owners")).as("node " + n.index + " agrees with node 0").isEqualTo(first);
    }
    assertThat(first.size()).isEqualTo(ROOMS.size());
    return first;
  }

  private static long msSince(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
  }
}
