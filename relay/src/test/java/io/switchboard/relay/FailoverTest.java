package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.relay.FailoverInvariants.Epoch;
import io.switchboard.relay.FailoverInvariants.Msg;
import io.switchboard.relay.config.P2pOptions;
import io.switchboard.relay.config.RelayOptions;
import io.switchboard.relay.store.StoreOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 15's node loss, on what exists without a cluster: two relays on one Postgres. Relay A (a
 * child JVM) sequences three rooms whose clients write at a steady rate; A is killed with SIGKILL
 * mid-traffic; its clients fail over to relay B (in this JVM) as the SDK does with two URLs and
 * resume there once B has taken A's rooms over (A's leases ran out: a new epoch). Judged by
 * {@link FailoverInvariants}: every {@code stored:true} ack has its row, no (room, seq) names two
 * messages (across epochs too, except the seqs a takeover may give again), every client's view
 * equals the database, every message written is stored once. Also today's answer to a client of B
 * that joins a room A holds: {@code room_unavailable} after B waited out up to 1.5 of A's leases.
 *
 * <p>{@code store.leaseMs} is 1000 here (default 15000) so a run takes seconds; the catch-up time
 * is printed. {@code -Dfailover.leaseMs=15000} measures the default.
 */
class FailoverTest {
  private static final long LEASE_MS = Long.getLong("failover.leaseMs", 1000);
  private static final String SECRET = "failover-test-shared-secret";
  private static final List<String> ROOMS = List.of("fo-1", "fo-2", "fo-3");
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();
  private Path dir;
  private SharedPostgres postgres;
  private Vertx vertx;
  private Vertx vertxB;
  private Process relayA;
  private final List<FailoverClient> clients = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    dir = Files.createTempDirectory("switchboard-failover");
    postgres = new SharedPostgres(dir);
    vertx = Vertx.vertx();
    vertxB = Vertx.vertx();
  }

  @AfterEach
  void tearDown() throws Exception {
    clients.forEach(FailoverClient::close);
    if (relayA != null && relayA.isAlive()) {
      relayA.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    for (Vertx v : new Vertx[] {vertxB, vertx}) {
      if (v != null) {
        TestClient.sync(v.close(), 30);
      }
    }
    if (postgres != null) {
      postgres.close();
    }
  }

  @Test
  void clientsOfAKilledRelayResumeOnTheSecondRelayAndNothingAckedStoredIsLost() throws Exception {
    String url = postgres.url();
    RelayVerticle relayB = new RelayVerticle(new RelayOptions().setHost("127.0.0.1").setPort(0)
        .setAdminHost("127.0.0.1").setAdminPort(0).setSecret(SECRET).setRateFramesPerSecond(1000).setRateBurst(2000)
        .setStore(new StoreOptions().setDatabaseUrl(url).setDataDir(dir.resolve("b").toString()).setLeaseMs(LEASE_MS))
        .setP2p(new P2pOptions().setEnabled(false)), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    Future<String> bDeployed = vertxB.deployVerticle(relayB);
    int portA = RelayChildProcess.freePort();
    Files.createDirectories(dir.resolve("a"));
    // A writes a batch 1 s after its first message, so a kill leaves fanned-out messages unstored
    relayA = RelayChildProcess.start(List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp",
            System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")), Main.class.getName()),
        dir.resolve("a"), portA, RelayChildProcess.freePort(), Map.of("DATABASE_URL", url,
            "SWITCHBOARD_STORE_LEASE_MS", Long.toString(LEASE_MS), "SWITCHBOARD_SECRET", SECRET,
            "SWITCHBOARD_STORE_BATCH_MAX_DELAY_MS", "1000", "SWITCHBOARD_P2P_ENABLED", "false",
            // the outbox re-send after a long outage (leaseMs 15 s) bursts past the default bucket
            "SWITCHBOARD_RATE_FRAMES_PER_SECOND", "1000", "SWITCHBOARD_RATE_BURST", "2000"),
        http, Duration.ofSeconds(60));
    TestClient.sync(bDeployed, 60);
    int portB = relayB.port();

    // six clients of A (two URLs, A first), each in two of the three rooms, 10 messages/s per room
    FailoverInvariants seen = new FailoverInvariants();
    for (int i = 0; i < 6; i++) {
      clients.add(new FailoverClient(vertx, "c" + i, List.of(portA, portB),
          List.of(ROOMS.get(i % 3), ROOMS.get((i + 1) % 3)), seen, 100));
    }
    clients.forEach(FailoverClient::start);
    await("every client joined on A").atMost(Duration.ofSeconds(15))
        .until(() -> clients.stream().allMatch(c -> c.joinedEverywhere() && c.connectedPort() == portA));

    // Today a client of B cannot use a room A holds: B waits up to 1.5 leases, then room_unavailable
    // (what cross-node forwarding is to fix). Meanwhile A's traffic goes on.
    JsonObject refused;
    long waitedMs;
    try (TestClient probe = TestClient.connect(vertx, portB)) {
      probe.hello(null, null);
      long start = System.nanoTime();
      probe.send(new JsonObject().put("t", "join").put("id", 1).put("room", ROOMS.get(0)));
      refused = probe.poll(Duration.ofMillis(3 * LEASE_MS)); // B's answer takes longer than TestClient's timeout
      waitedMs = (System.nanoTime() - start) / 1_000_000;
      assertThat(refused).as("B's answer within 3 leases").isNotNull();
    }
    assertThat(refused.getString("code")).as(refused.encode()).isEqualTo("room_unavailable");
    assertThat(refused.getString("room")).isEqualTo(ROOMS.get(0));
    assertThat(waitedMs).as("B waits while A renews its lease").isBetween(LEASE_MS, 3 * LEASE_MS);
    // bob, a client of B only, keeps retrying that room as the SDK does; he gets in after the kill
    FailoverClient bob = new FailoverClient(vertx, "bob", List.of(portB), List.of(ROOMS.get(0)), seen, 100);
    clients.add(bob);
    bob.start();
    await("traffic on A").atMost(Duration.ofSeconds(15)).until(() -> count("SELECT count(*) FROM messages") >= 150);
    assertThat(bob.joinedEverywhere()).as("bob is not in a room A holds").isFalse();
    // kill while clients hold messages A fanned out and has not stored: the takeover gives their seqs again
    await("A has fanned out 10 messages it has not stored").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
        .until(() -> ROOMS.stream().anyMatch(room -> clients.stream().mapToLong(c -> c.heldMax(room)).max().orElse(0)
            - count("SELECT coalesce(max(seq), 0) FROM messages WHERE room = $1", room) >= 10));

    long kill = System.nanoTime();
    clients.forEach(c -> c.killedAt(kill));
    relayA.destroyForcibly(); // SIGKILL: A's leases stay in the database until they run out
    assertThat(relayA.waitFor(10, TimeUnit.SECONDS)).isTrue();

    await("every client caught up on B").atMost(Duration.ofMillis(LEASE_MS * 2 + 15_000))
        .until(() -> clients.stream().allMatch(c -> c.catchUpNanos() >= 0));
    clients.forEach(FailoverClient::stopSending);
    await("every outbox empty").atMost(Duration.ofSeconds(20)).until(() -> clients.stream().allMatch(c -> c.outboxSize() == 0));
    Map<String, Long> heads = new HashMap<>();
    for (String room : ROOMS) {
      heads.put(room, count("SELECT coalesce(max(seq), 0) FROM messages WHERE room = $1", room));
    }
    await("every client holds what the database has").atMost(Duration.ofSeconds(10)).until(() -> clients.stream()
        .allMatch(c -> c.views().keySet().stream().allMatch(room -> c.holdsUpTo(room, heads.get(room)))));

    Map<String, NavigableMap<Long, Msg>> rows = new HashMap<>();
    for (Row r : query("SELECT room, seq, sender, cid, body FROM messages")) {
      rows.computeIfAbsent(r.getString(0), k -> new TreeMap<>())
          .put(r.getLong(1), new Msg(r.getString(2), r.getString(3), r.getString(4)));
    }
    Map<String, List<Epoch>> epochs = new HashMap<>();
    for (Row r : query("SELECT room, epoch, since FROM room_epochs ORDER BY started_at, since")) {
      epochs.computeIfAbsent(r.getString(0), k -> new ArrayList<>()).add(new Epoch(r.getString(1), r.getLong(2)));
    }
    Map<String, Map<String, Map.Entry<Long, NavigableMap<Long, Msg>>>> views = new LinkedHashMap<>();
    Map<String, Map<String, String>> written = new HashMap<>();
    for (FailoverClient c : clients) {
      views.put(c.name, c.views());
      written.put(c.user(), c.created());
    }
    FailoverInvariants.Verdict verdict = seen.check(rows, epochs, views, written);

    List<Long> catchUpMs = clients.stream().filter(c -> c != bob).map(c -> c.catchUpNanos() / 1_000_000).sorted().toList();
    System.out.printf("failover: leaseMs=%d, %d clients of A caught up on B after the kill: p50 %d ms, max %d ms; "
            + "bob (client of B waiting for a room A held) in after %d ms; %d rows, %d observations, %d stored acks checked, "
            + "%d seen messages a takeover replaced, %d dropped from views on divergedAfter%n",
        LEASE_MS, catchUpMs.size(), catchUpMs.get((catchUpMs.size() - 1) / 2), catchUpMs.get(catchUpMs.size() - 1),
        bob.catchUpNanos() / 1_000_000, rows.values().stream().mapToInt(Map::size).sum(), verdict.observations(),
        verdict.acksChecked(), verdict.diverged().size(), clients.stream().mapToLong(FailoverClient::droppedOnDivergence).sum());
    verdict.diverged().stream().limit(5).forEach(d -> System.out.println("  diverged: " + d));
    System.out.println("  epochs (since) per room: " + epochs);

    assertThat(verdict.violations()).as("broken promises").isEmpty();
    assertThat(verdict.diverged()).as("seqs clients saw from A that B gave to other messages").isNotEmpty();
    assertThat(clients.stream().mapToLong(FailoverClient::droppedOnDivergence).sum()).as("told by divergedAfter")
        .isPositive();
    assertThat(clients.stream().flatMap(c -> c.problems().stream()).toList()).isEmpty();
    assertThat(verdict.acksChecked()).as("stored acks before and after the kill").isGreaterThan(100);
    for (FailoverClient c : clients) {
      assertThat(c.connectedPort()).as(c.name + " ends on B").isEqualTo(portB);
    }
    for (String room : ROOMS) {
      assertThat(epochs.get(room)).as("B took " + room + " over from the dead A in a new epoch").hasSize(2);
    }
  }

  private List<Row> query(String sql, Object... args) {
    List<Row> rows = new ArrayList<>();
    TestClient.sync(postgres.database().pool().preparedQuery(sql).execute(Tuple.from(args)), 10).forEach(rows::add);
    return rows;
  }

  private long count(String sql, Object... args) {
    return query(sql, args).get(0).getLong(0);
  }
}
