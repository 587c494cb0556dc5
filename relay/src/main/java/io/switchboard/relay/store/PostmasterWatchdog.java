package io.switchboard.relay.store;

import io.vertx.core.Future;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices an embedded postmaster that died (killed, OOM-killed, crashed) and restarts it; while
 * it is down the writer keeps acked messages queued and retries, so they are stored once it is back.
 * After {@code maxFailures} restarts in a row have failed, {@link #problem()} names the reason,
 * and {@code /health} turns 503 so an orchestrator restarts the relay. Call {@link #tick()}
 * periodically from one thread (the relay's event loop).
 */
final class PostmasterWatchdog {
  private static final Logger LOG = LoggerFactory.getLogger(PostmasterWatchdog.class);

  private final int maxFailures;
  private final BooleanSupplier died;
  private final Supplier<Future<Void>> restart;
  private boolean restarting;
  private int failures;
  private volatile String problem;

  /**
   * @param died    whether the server that should be running is gone (false while it was stopped on purpose)
   * @param restart starts it again on the same port and data folder
   */
  PostmasterWatchdog(int maxFailures, BooleanSupplier died, Supplier<Future<Void>> restart) {
    this.maxFailures = maxFailures;
    this.died = died;
    this.restart = restart;
  }

  void tick() {
    if (restarting) {
      return;
    }
    if (!died.getAsBoolean()) {
      if (failures > 0) {
        failures = 0;
        problem = null;
      }
      return;
    }
    restarting = true;
    LOG.warn("The embedded Postgres died; restarting it (attempt {})", failures + 1);
    Future<Void> attempt;
    try {
      attempt = restart.get();
    } catch (RuntimeException e) {
      attempt = Future.failedFuture(e);
    }
    attempt.onComplete(ar -> {
      restarting = false;
      if (ar.succeeded()) {
        failures = 0;
        problem = null;
        LOG.info("The embedded Postgres is running again; queued writes are being retried");
        return;
      }
      failures++;
      LOG.error("Restarting the embedded Postgres failed ({} in a row): {}", failures, ar.cause().toString());
      if (failures >= maxFailures) {
        problem = "embedded Postgres died and " + failures + " restarts in a row failed; last: " + ar.cause().getMessage();
      }
    });
  }

  /** Null while the server runs or restarts have not failed {@code maxFailures} times in a row. */
  String problem() {
    return problem;
  }
}
