package io.switchboard.relay.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A relay killed with SIGKILL (or by the OOM killer) leaves its embedded Postgres running on the
 * data folder, and the next start cannot take the folder's lock. Before starting, such a server is
 * asked to shut down: its clients died with the old JVM, so a smart shutdown (SIGTERM) completes.
 */
final class OrphanedPostgres {
  private static final Logger LOG = LoggerFactory.getLogger(OrphanedPostgres.class);

  private OrphanedPostgres() {
  }

  /** Stops the postmaster named by {@code dataDir/postmaster.pid} if it is still a live postgres. */
  static void stop(Path dataDir, Duration timeout) throws IOException, InterruptedException {
    Optional<ProcessHandle> orphan = find(dataDir);
    if (orphan.isEmpty()) {
      return;
    }
    ProcessHandle postmaster = orphan.get();
    LOG.warn("Postgres (pid {}) from an earlier run still holds {}; shutting it down", postmaster.pid(), dataDir);
    postmaster.destroy();
    try {
      postmaster.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new IOException("Postgres pid " + postmaster.pid() + " still holds " + dataDir + " after "
          + timeout.toSeconds() + " s; stop it by hand", e);
    } catch (ExecutionException e) {
      throw new IOException("waiting for Postgres pid " + postmaster.pid() + " failed", e);
    }
  }

  static Optional<ProcessHandle> find(Path dataDir) throws IOException {
    Path pidFile = dataDir.resolve("postmaster.pid");
    if (!Files.exists(pidFile)) {
      return Optional.empty();
    }
    List<String> lines = Files.readAllLines(pidFile);
    long pid;
    try {
      pid = lines.isEmpty() ? -1 : Long.parseLong(lines.get(0).trim());
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
    // A stale file whose pid is dead (or reused by another program) is Postgres's own business.
    return ProcessHandle.of(pid)
        .filter(OrphanedPostgres::running)
        .filter(p -> p.info().command().map(c -> c.endsWith("/postgres")).orElse(false));
  }

  /**
   * Alive and not a zombie. {@link ProcessHandle#isAlive} counts zombies as alive, and a killed
   * postmaster stays one when the PID 1 that adopted it never reaps (a JVM as a container's
   * entrypoint does not).
   */
  static boolean running(ProcessHandle p) {
    if (!p.isAlive()) {
      return false;
    }
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat"));
      // "pid (comm) S ...": the state follows the last ')', as comm may contain one
      int close = stat.lastIndexOf(')');
      return close < 0 || close + 2 >= stat.length() || stat.charAt(close + 2) != 'Z';
    } catch (IOException e) {
      // no /proc (not Linux) or gone meanwhile
      return p.isAlive();
    }
  }
}
