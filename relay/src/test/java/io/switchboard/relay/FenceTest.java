package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.relay.config.P2pOptions;
import io.switchboard.relay.config.RelayOptions;
import io.switchboard.relay.store.StoreOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Finding 11 of issue 12: two relays on one database. One Postgres (started the way the relay
 * starts its embedded one) serves relay A and relay B through {@code databaseUrl}; a room is
 * sequenced by one of them at a time, and a relay that lost a room's lease cannot store into it.
 */
class FenceTest {
  private static final long LEASE_MS = 600;
  private static Path dir;
  private static SharedPostgres postgres;
  private static Vertx clientVertx;
  private static Vertx vertxA;
  private static Vertx vertxB;
  private static RelayVerticle relayA;
  private static RelayVerticle relayB;
  private static PrometheusMeterRegistry registryA;
  private final List<TestClient> clients = new ArrayList<>();

  @BeforeAll
  static void start() throws IOException {
    dir = Files.createTempDirectory("switchboard-fence");
    postgres = new SharedPostgres(dir);
    String url = postgres.url();
    clientVertx = Vertx.vertx();
    // one event-loop thread: blocking it stops everything relay A does, as a long GC pause would
    vertxA = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    vertxB = Vertx.vertx();
    registryA = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    // A flushes a lone message after a second, so one can be caught sequenced but unstored
    relayA = deploy(vertxA, options(url, dir.resolve("a"), 1000), registryA);
    relayB = deploy(vertxB, options(url, dir.resolve("b"), 50), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  private static RelayOptions options(String url, Path dataDir, long batchDelayMs) {
    return new RelayOptions().setHost("127.0.0.1").setPort(0).setAdminHost("127.0.0.1").setAdminPort(0)
        .setRoomIdleMs(1000)
        .setStore(new StoreOptions().setDatabaseUrl(url).setDataDir(dataDir.toString()).setLeaseMs(LEASE_MS)
            .setBatchMaxDelayMs(batchDelayMs).setPoolSize(2))
        .setP2p(new P2pOptions().setEnabled(false));
  }

  private static RelayVerticle deploy(Vertx vertx, RelayOptions options, PrometheusMeterRegistry registry) {
    RelayVerticle relay = new RelayVerticle(options, registry);
    TestClient.sync(vertx.deployVerticle(relay), 60);
    return relay;
  }

  @AfterAll
  static void stop() throws IOException {
    for (Vertx v : new Vertx[] {vertxA, vertxB, clientVertx}) {
      if (v != null) {
        TestClient.sync(v.close(), 30);
      }
    }
    if (postgres != null) {
      postgres.close();
    }
  }

  @AfterEach
  void closeClients() {
    for (TestClient c : clients) {
      try {
        c.close();
      } catch (RuntimeException | AssertionError ignored) {
        // already closed
      }
    }
    clients.clear();
  }

  private TestClient member(RelayVerticle relay) {
    TestClient c = TestClient.connect(clientVertx, relay.port());
    clients.add(c);
    c.hello();
    return c;
  }

  private static List<Row> query(String sql, Object... args) {
    List<Row> rows = new ArrayList<>();
    TestClient.sync(postgres.database().pool().preparedQuery(sql).execute(Tuple.from(args)), 10).forEach(rows::add);
    return rows;
  }

  @Test
  void aRoomAnotherLiveRelayOwnsIsUnavailableUntilThatRelayReleasesIt() {
    TestClient alice = member(relayA);
    JsonObject aliceJoined = alice.join("fence-busy");
    assertThat(alice.sendMessage("fence-busy", "a1", "mine").getBoolean("stored")).isTrue();

    TestClient bob = member(relayB);
    long start = System.nanoTime();
    JsonObject refused = bob.request(new JsonObject().put("t", "join").put("room", "fence-busy"));
    long waitedMs = (System.nanoTime() - start) / 1_000_000;
    assertThat(refused.getString("t")).as(refused.encode()).isEqualTo("error");
    assertThat(refused.getString("code")).isEqualTo("room_unavailable");
    assertThat(refused.getString("room")).isEqualTo("fence-busy");
    assertThat(waitedMs).as("B waits out up to 1.5 leases of A's, renewed meanwhile").isBetween(LEASE_MS, 4 * LEASE_MS);
    assertThat(query("SELECT owner FROM rooms WHERE name = 'fence-busy'").get(0).getString(0))
        .isEqualTo(relayA.incarnation());

    // A unloads the room once it is empty (roomIdleMs 1 s) and releases it: B takes it in the same epoch
    alice.send(new JsonObject().put("t", "leave").put("room", "fence-busy"));
    org.awaitility.Awaitility.await("A releases the room").atMost(Duration.ofSeconds(10))
        .until(() -> query("SELECT owner FROM rooms WHERE name = 'fence-busy'").get(0).getString(0) == null);
    JsonObject joined = bob.join("fence-busy");
    assertThat(joined.getString("t")).as(joined.encode()).isEqualTo("joined");
    assertThat(joined.getString("epoch")).as("a clean release keeps the epoch").isEqualTo(aliceJoined.getString("epoch"));
    assertThat(joined.getLong("head")).isEqualTo(1);
    assertThat(bob.sendMessage("fence-busy", "b1", "now mine").getLong("seq")).isEqualTo(2);
  }

  @Test
  void aRelayThatLostItsLeaseCannotStoreIntoTheRoomAndDropsIt() throws Exception {
    TestClient alice = member(relayA);
    TestClient carol = member(relayA);
    JsonObject before = alice.join("fence-lapse");
    carol.join("fence-lapse");
    assertThat(alice.sendMessage("fence-lapse", "a1", "stored").getBoolean("stored")).isTrue();
    carol.await("msg");
    // sequenced and fanned out, its write waiting for A's 1 s batch delay
    alice.send(new JsonObject().put("t", "send").put("room", "fence-lapse").put("cid", "a2").put("body", "lost"));
    assertThat(carol.await("msg").getLong("seq")).isEqualTo(2);

    // A stalls for over two leases (a GC pause, a frozen VM); B takes the room over meanwhile
    vertxA.runOnContext(v -> {
      try {
        Thread.sleep(5 * LEASE_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    TestClient bob = member(relayB);
    JsonObject taken = bob.join("fence-lapse");
    assertThat(taken.getString("t")).as(taken.encode()).isEqualTo("joined");
    assertThat(taken.getString("epoch")).as("an unclean takeover starts a new epoch").isNotEqualTo(before.getString("epoch"));
    assertThat(taken.getLong("head")).isEqualTo(1);
    assertThat(bob.sendMessage("fence-lapse", "b1", "the real seq 2").getLong("seq")).isEqualTo(2);

    // A wakes up, flushes a2 and is refused by the fence: no row, no stored ack, the room dropped
    JsonObject dropped = alice.await(f -> "error".equals(f.getString("t")) || "ack".equals(f.getString("t")));
    assertThat(dropped.getString("code")).as(dropped.encode()).isEqualTo("room_unavailable");
    assertThat(dropped.getString("room")).isEqualTo("fence-lapse");
    assertThat(carol.await("error").getString("code")).isEqualTo("room_unavailable");
    assertThat(alice.poll(Duration.ofMillis(300))).as("no ack for a2").isNull();
    assertThat(query("SELECT sender || '/' || cid FROM messages WHERE room = 'fence-lapse' ORDER BY seq").stream()
        .map(r -> r.getString(0)).toList()).containsExactly(alice.user() + "/a1", bob.user() + "/b1");
    assertThat(query("SELECT count(*) FROM room_epochs WHERE room = 'fence-lapse'").get(0).getLong(0)).isEqualTo(2);
    assertThat(query("SELECT since FROM room_epochs WHERE room = 'fence-lapse' AND epoch = $1",
        taken.getString("epoch")).get(0).getLong(0)).as("A's watermark as its last renewal recorded it").isBetween(0L, 1L);
    assertThat(relayA.engine().rooms().get("fence-lapse")).isNull();
    assertThat(registryA.scrape()).containsPattern("switchboard_store_fenced_total(\\{[^}]*\\})? 1\\.0");
    // the membership is gone on A: a send there is not_joined until the client joins again
    assertThat(alice.request(new JsonObject().put("t", "send").put("room", "fence-lapse").put("cid", "a3")
        .put("body", "x")).getString("code")).isEqualTo("not_joined");
  }
}
