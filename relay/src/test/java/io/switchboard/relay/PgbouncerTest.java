package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.switchboard.relay.store.Database;
import io.switchboard.relay.store.StoreOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A relay whose {@code DATABASE_URL} goes through a real pgbouncer 1.18 in transaction mode
 * (Debian's, as Supabase's port 6543 behaves) to Debian's Postgres 15, with two server
 * connections for the relay's pool of four, so statements of one client connection land on
 * different server sessions. With {@code transactionPooler} everything works; without it the
 * relay refuses to start and says which setting to turn on.
 */
class PgbouncerTest extends RelayTestBase {
  private static DebianPostgres postgres;
  private static String pooledUrl;

  @BeforeAll
  static void setUp() throws Exception {
    DebianPostgres.require("PgbouncerTest", true);
    postgres = new DebianPostgres(Files.createTempDirectory("switchboard-pgbouncer"), List.of());
    pooledUrl = "postgres://postgres@127.0.0.1:" + postgres.startPgbouncer(2) + "/postgres";
    startRelay(pooled());
  }

  @AfterAll
  static void stopPostgres() {
    // RelayTestBase's own @AfterAll (the relay) runs after this one: stop it first
    stopRelay();
    if (postgres != null) {
      postgres.close();
    }
  }

  private static io.switchboard.relay.config.RelayOptions pooled() {
    // a short lease: renewals (every third of it) happen during the test
    return baseOptions().setStore(new StoreOptions().setDatabaseUrl(pooledUrl).setTransactionPooler(true)
        .setLeaseMs(600).setBatchMaxDelayMs(5));
  }

  @Test
  void joinsSendsStoredAcksHistoryLeasesAndARestartWorkThroughTheTransactionPooler() {
    TestClient alice = member("pooled");
    TestClient bob = member("pooled");
    for (int i = 1; i <= 40; i++) {
      JsonObject ack = alice.sendMessage("pooled", "p" + i, "through pgbouncer " + i);
      assertThat(ack.getLong("seq")).isEqualTo(i);
      assertThat(ack.getBoolean("stored")).as("ack " + i).isTrue();
    }
    assertThat(bob.await(f -> "msg".equals(f.getString("t")) && f.getLong("seq") == 40).getString("body"))
        .isEqualTo("through pgbouncer 40");
    JsonObject page = bob.request(new JsonObject().put("t", "history").put("room", "pooled").put("before", 11)
        .put("limit", 10));
    assertThat(page.getJsonArray("messages")).hasSize(10);
    assertThat(page.getJsonArray("messages").getJsonObject(0).getString("body")).isEqualTo("through pgbouncer 1");
    assertThat(count("SELECT count(*) FROM messages WHERE room = 'pooled'")).isEqualTo(40);
    // the size sampler's query and the retention deletes go through the pooler too
    Awaitility.await("size sampled").atMost(Duration.ofSeconds(10)).until(() -> relay.database().retention().databaseBytes() > 0);
    assertThat(scrapeMetrics()).contains("switchboard_database_bytes " + (double) relay.database().retention().databaseBytes());
    assertThat(TestClient.sync(relay.database().retention().tick(), 10)).as("nothing to prune by default").isZero();

    // the lease: claimed by this relay and renewed (its end moves on) through the pooler
    assertThat(query("SELECT owner FROM rooms WHERE name = 'pooled'").get(0).getString(0))
        .isEqualTo(relay.incarnation());
    OffsetDateTime until = leaseUntil("pooled");
    Awaitility.await("lease renewed").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
        .until(() -> leaseUntil("pooled").isAfter(until));

    String epoch = alice.request(new JsonObject().put("t", "join").put("room", "pooled")).getString("epoch");
    String token = alice.token();
    alice.close();
    bob.close();
    stopRelay();

    startRelay(pooled());
    assertThat(count("SELECT count(*) FROM rooms WHERE name = 'pooled' AND owner IS NULL AND durable_seq = 40"))
        .as("released at shutdown, through the pooler").isEqualTo(1);
    TestClient again = client();
    again.hello(token, new JsonObject().put("pooled", new JsonObject().put("seq", 35).put("epoch", epoch)));
    JsonObject joined = again.await("joined");
    assertThat(joined.getString("epoch")).isEqualTo(epoch);
    assertThat(joined.getBoolean("recovered")).isTrue();
    assertThat(again.await(f -> "msg".equals(f.getString("t")) && f.getLong("seq") == 40).getString("body"))
        .as("the replay after the restart").isEqualTo("through pgbouncer 40");
    JsonObject ack = again.sendMessage("pooled", "after", "after the restart");
    assertThat(ack.getLong("seq")).isEqualTo(41);
    assertThat(ack.getBoolean("stored")).isTrue();
  }

  @Test
  void withoutTheSwitchTheRelayRefusesToStartAndNamesTheSetting() {
    Vertx own = Vertx.vertx();
    try {
      Throwable failure = assertThrows(Throwable.class, () -> TestClient.sync(Database.start(own,
          new StoreOptions().setDatabaseUrl(pooledUrl)), 30));
      assertThat(failure).hasMessageContaining("transaction-mode connection pooler")
          .hasMessageContaining("SWITCHBOARD_STORE_TRANSACTION_POOLER=true");
      // the same server without the pooler is no false alarm
      Database direct = TestClient.sync(Database.start(own, new StoreOptions().setDatabaseUrl(postgres.url())), 30);
      TestClient.sync(direct.close(), 10);
    } finally {
      TestClient.sync(own.close(), 10);
    }
  }

  /**
   * What the switch prevents, shown: a pool caching prepared statements, through the pooler,
   * fails (each client connection's statement names collide on or miss from the shared server
   * sessions), and the failure's text names the setting.
   */
  @Test
  void cachedPreparedStatementsBreakBehindTheTransactionPoolerAndTheErrorSaysWhatToSet() {
    Vertx own = Vertx.vertx();
    io.vertx.sqlclient.Pool pool = io.vertx.pgclient.PgBuilder.pool()
        .with(new io.vertx.sqlclient.PoolOptions().setMaxSize(4))
        .connectingTo(StoreOptions.connectOptions(pooledUrl, false)).using(own).build();
    try {
      List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
      for (int round = 0; round < 5 && failures.isEmpty(); round++) {
        List<io.vertx.core.Future<?>> queries = new java.util.ArrayList<>();
        for (int i = 0; i < 16; i++) {
          queries.add(pool.preparedQuery("SELECT $1::int + " + (i % 4)).execute(io.vertx.sqlclient.Tuple.of(i))
              .onFailure(failures::add));
        }
        io.vertx.core.Future.join(queries).otherwiseEmpty().toCompletionStage().toCompletableFuture().join();
      }
      assertThat(failures).as("cached prepared statements through a transaction pooler").isNotEmpty();
      assertThat(Database.explainPooler(failures.get(0))).contains("SWITCHBOARD_STORE_TRANSACTION_POOLER=true");
    } finally {
      TestClient.sync(pool.close(), 10);
      TestClient.sync(own.close(), 10);
    }
  }

  private static OffsetDateTime leaseUntil(String room) {
    return query("SELECT lease_until FROM rooms WHERE name = $1", room).get(0).getOffsetDateTime(0);
  }
}
