package io.switchboard.relay.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The watchdog's rules without a server: one restart at a time, 503 only after maxFailures in a row. */
class PostmasterWatchdogTest {
  private final AtomicBoolean dead = new AtomicBoolean();
  private final List<Promise<Void>> attempts = new ArrayList<>();
  private final PostmasterWatchdog watchdog = new PostmasterWatchdog(2, dead::get, () -> {
    Promise<Void> p = Promise.promise();
    attempts.add(p);
    return p.future();
  });

  @Test
  void aliveMeansNoRestartAndNoProblem() {
    watchdog.tick();
    assertThat(attempts).isEmpty();
    assertThat(watchdog.problem()).isNull();
  }

  @Test
  void restartsOneAtATimeAndReportsOnlyAfterMaxFailuresInARow() {
    dead.set(true);
    watchdog.tick();
    watchdog.tick();
    assertThat(attempts).as("no second restart while one runs").hasSize(1);
    attempts.get(0).fail("port taken");
    assertThat(watchdog.problem()).as("one failure is not yet unhealthy").isNull();
    watchdog.tick();
    attempts.get(1).fail("port taken");
    assertThat(watchdog.problem()).contains("2 restarts in a row failed", "port taken");

    watchdog.tick();
    attempts.get(2).complete();
    dead.set(false);
    assertThat(watchdog.problem()).isNull();
    watchdog.tick();
    assertThat(attempts).hasSize(3);
  }

  @Test
  void aSuccessResetsTheCount() {
    dead.set(true);
    watchdog.tick();
    attempts.get(0).fail("x");
    watchdog.tick();
    attempts.get(1).complete();
    watchdog.tick();
    attempts.get(2).fail("y");
    assertThat(watchdog.problem()).as("1 failure since the last success").isNull();
  }
}
