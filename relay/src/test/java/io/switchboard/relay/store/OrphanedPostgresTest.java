package io.switchboard.relay.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A dead postmaster nobody reaps is a zombie, which {@link ProcessHandle#isAlive} calls alive. */
class OrphanedPostgresTest {

  @Test
  void aZombieIsNotRunning() throws Exception {
    // sh starts a short child, then becomes `sleep 5`, which never reaps it: the child stays a zombie
    Process parent = new ProcessBuilder("sh", "-c", "sleep 0.1 & exec sleep 5").start();
    try {
      ProcessHandle child = await().atMost(Duration.ofSeconds(5))
          .until(() -> parent.toHandle().children().findFirst().orElse(null), c -> c != null);
      await().atMost(Duration.ofSeconds(5)).until(() -> !OrphanedPostgres.running(child));
      assertThat(child.isAlive()).as("the JDK's view of a zombie").isTrue();
      assertThat(OrphanedPostgres.running(parent.toHandle())).isTrue();
    } finally {
      parent.destroyForcibly().waitFor();
    }
    assertThat(OrphanedPostgres.running(parent.toHandle())).isFalse();
  }
}
