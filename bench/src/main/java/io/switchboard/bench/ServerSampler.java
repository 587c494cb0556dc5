package io.switchboard.bench;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Once a second: the server's resident memory ({@code VmRSS} of {@code /proc/PID/status}) and, when
 * the embedded Postgres port is known, the number of client backends other than this sampler's own
 * ({@code pg_stat_activity}).
 */
final class ServerSampler {
  private static final Logger LOG = LoggerFactory.getLogger(ServerSampler.class);
  static final String CONNECTIONS_SQL = "SELECT count(*) FROM pg_stat_activity"
      + " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()";

  private final Vertx vertx;
  private final long serverPid;
  private final int pgPort;
  private final AtomicLong maxRssKb = new AtomicLong(-1);
  private final AtomicLong lastRssKb = new AtomicLong(-1);
  private final AtomicLong maxDbConnections = new AtomicLong(-1);
  private final List<long[]> series = new ArrayList<>(); // {secondsSinceStart, rssKb, dbConnections}
  private final long startNanos = System.nanoTime();
  private PgConnection pg; // kept in a field for its whole life
  private long timer = -1;
  private volatile long lastDb = -1;
  private volatile String pgError;

  ServerSampler(Vertx vertx, long serverPid, int pgPort) {
    this.vertx = vertx;
    this.serverPid = serverPid;
    this.pgPort = pgPort;
  }

  void start() {
    if (pgPort > 0) {
      PgConnectOptions o = new PgConnectOptions().setHost("127.0.0.1").setPort(pgPort)
          .setUser("postgres").setDatabase("postgres");
      PgConnection.connect(vertx, o)
          .onSuccess(c -> pg = c)
          .onFailure(e -> {
            pgError = e.toString();
            LOG.warn("cannot reach Postgres on 127.0.0.1:{}: {}", pgPort, e.toString());
          });
    }
    sample();
    timer = vertx.setPeriodic(1000, id -> sample());
  }

  private void sample() {
    long rss = serverPid > 0 ? readVmRssKb(serverPid) : -1;
    if (rss >= 0) {
      lastRssKb.set(rss);
      maxRssKb.accumulateAndGet(rss, Math::max);
    }
    PgConnection c = pg;
    if (c != null) {
      c.query(CONNECTIONS_SQL).execute().onSuccess(rows -> {
        for (Row row : rows) {
          long n = row.getLong(0);
          lastDb = n;
          maxDbConnections.accumulateAndGet(n, Math::max);
        }
      }).onFailure(e -> pgError = e.toString());
    }
    synchronized (series) {
      series.add(new long[] {(System.nanoTime() - startNanos) / 1_000_000_000L, rss, lastDb});
    }
  }

  void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    sample();
    if (pg != null) {
      pg.close();
    }
  }

  long maxRssKb() {
    return maxRssKb.get();
  }

  long maxDbConnections() {
    return maxDbConnections.get();
  }

  String pgError() {
    return pgError;
  }

  List<long[]> series() {
    synchronized (series) {
      return new ArrayList<>(series);
    }
  }

  /** {@code VmRSS} in kB, or -1 when the process is gone or the line is missing. */
  static long readVmRssKb(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }
}
