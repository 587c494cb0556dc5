package io.switchboard.relay.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded default must be a real database: an acked message is on disk. (Recovery from a killed relay: JarSigtermIT.) */
class EmbeddedDurabilityTest {
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
  void commitsAreFsyncedNotZonkysTestDefaults(@TempDir Path dataDir) {
    Database db = Database.start(vertx, new StoreOptions().setDataDir(dataDir.toString()).setPoolSize(1)).await();
    try {
      assertThat(db.pool().query("SHOW fsync").execute().await().iterator().next().getString(0)).isEqualTo("on");
      assertThat(db.pool().query("SHOW synchronous_commit").execute().await().iterator().next().getString(0))
          .isEqualTo("on");
    } finally {
      db.close().await();
    }
  }
}
