package io.switchboard.relay.store;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;

import static io.switchboard.relay.store.StoreTestSupport.count;
import static io.switchboard.relay.store.StoreTestSupport.exec;
import static org.assertj.core.api.Assertions.assertThat;

class DatabaseTest {

  @TempDir
  static Path dataDir;

  static Vertx vertx;

  @BeforeAll
  static void setUp() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void tearDown() {
    vertx.close().await();
  }

  @Test
  void migratesOnceAndKeepsDataAcrossRestarts() {
    StoreOptions options = new StoreOptions().setDataDir(dataDir.toString()).setPoolSize(2);

    Database first = Database.start(vertx, options).await();
    try {
      assertThat(first.embedded()).isTrue();
      assertThat(Files.isRegularFile(dataDir.resolve("pg/postgresql.conf"))).isTrue();
      assertThat(Files.isDirectory(dataDir.resolve("pg-bin"))).isTrue();
      assertThat(count(first.pool(), "SELECT count(*) FROM schema_version")).isEqualTo(Migrations.FILES.size());
      exec(first.pool(), "INSERT INTO rooms (name, epoch) VALUES ('lobby', 'e1');"
        + " INSERT INTO messages VALUES ('lobby', 1, 'ann', 'c1', 'hello', now()),"
        + " ('lobby', 2, 'bob', 'c1', 'hi', now())").await();
    } finally {
      first.close().await();
    }

    Database second = Database.start(vertx, options).await();
    try {
      assertThat(count(second.pool(), "SELECT count(*) FROM messages WHERE room = 'lobby'")).isEqualTo(2);
      Row version = second.pool().query("SELECT version, applied_at FROM schema_version ORDER BY version")
        .execute().await().iterator().next();
      assertThat(version.getInteger(0)).isEqualTo(1);
      OffsetDateTime appliedAt = version.getOffsetDateTime(1);
      // nothing left to apply, and the recorded migration is untouched
      assertThat(Migrations.apply(vertx, second.pool()).await()).isEmpty();
      assertThat(count(second.pool(), "SELECT count(*) FROM schema_version")).isEqualTo(Migrations.FILES.size());
      assertThat(second.pool().query("SELECT applied_at FROM schema_version ORDER BY version").execute().await()
        .iterator().next().getOffsetDateTime(0)).isEqualTo(appliedAt);
    } finally {
      second.close().await();
    }
  }

  @Test
  void embeddedRestartsOnTheSamePortAndThePoolReconnects() {
    // same data dir as the other test (one binary unpack per class); the tests do not overlap
    Database db = Database.start(vertx, new StoreOptions().setDataDir(dataDir.toString()).setPoolSize(2)).await();
    try {
      MessageStore store = new MessageStore(db.pool());
      String port = db.pool().query("SELECT current_setting('port')").execute().await().iterator().next().getString(0);
      store.ping().await();

      db.stopEmbedded().await();
      assertThat(store.ping().transform(ar -> Future.succeededFuture(ar.failed())).await()).isTrue();
      db.startEmbedded().await();

      store.ping().await();
      assertThat(db.pool().query("SELECT current_setting('port')").execute().await().iterator().next().getString(0))
        .isEqualTo(port);
    } finally {
      db.close().await();
    }
  }

  /** The embedded default is a real database: an acked message is on disk (zonky defaults both off). */
  @Test
  void embeddedCommitsAreFsynced(@TempDir Path dir) {
    Database db = Database.start(vertx, new StoreOptions().setDataDir(dir.toString()).setPoolSize(1)).await();
    try {
      assertThat(db.pool().query("SHOW fsync").execute().await().iterator().next().getString(0)).isEqualTo("on");
      assertThat(db.pool().query("SHOW synchronous_commit").execute().await().iterator().next().getString(0))
        .isEqualTo("on");
    } finally {
      db.close().await();
    }
  }
}
