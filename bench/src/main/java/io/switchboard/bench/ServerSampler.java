package io.switchboard.bench;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
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
 * Once a second: the server's resident memory ({@code VmRSS} of {@code /proc/PID/status}) and CPU
 * time ({@code utime+stime} of {@code /proc/PID/stat}); with the admin URL, the heap in use
 * ({@code jvm_memory_used_bytes{area="heap"}} of {@code /metrics}); with the embedded Postgres
 * port, the client backends other than this sampler's own ({@code pg_stat_activity}) and the rows
 * in {@code messages} ({@code count(*)}, so rows/s persisted is the difference of two samples).
 * A lost Postgres connection (the outage scenario) is opened again at the next sample.
 */
final class ServerSampler {
  private static final Logger LOG = LoggerFactory.getLogger(ServerSampler.class);
  static final String CONNECTIONS_SQL = "SELECT count(*) FROM pg_stat_activity"
      + " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()";
  static final String ROWS_SQL = "SELECT count(*) FROM messages";
  /** USER_HZ: the unit of utime/stime in /proc/PID/stat (100 on every Linux this runs on). */
  static final double CLOCK_TICKS = 100.0;

  private final Vertx vertx;
  private final long serverPid;
  private final int pgPort;
  private final String pgPassword;
  private final String admin;
  private final HttpClient http; // kept in a field for its whole life
  private final AtomicLong maxRssKb = new AtomicLong(-1);
  private final AtomicLong maxDbConnections = new AtomicLong(-1);
  private final List<JsonObject> samples = new ArrayList<>();
  private final long startNanos = System.nanoTime();
  private PgConnection pg; // kept in a field for its whole life
  private boolean connecting;
  private long timer = -1;
  private volatile long lastDb = -1;
  private volatile long lastRows = -1;
  private volatile long lastHeap = -1;
  private volatile String pgError;
  private long firstCpuTicks = -1;
  private long lastCpuTicks = -1;

  ServerSampler(Vertx vertx, long serverPid, int pgPort, String pgPassword, String admin) {
    this.pgPassword = pgPassword;
    this.vertx = vertx;
    this.serverPid = serverPid;
    this.pgPort = pgPort;
    this.admin = admin == null || admin.isBlank() ? null : admin;
    this.http = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(2000));
  }

  void start() {
    sample();
    timer = vertx.setPeriodic(1000, id -> sample());
  }

  private void connectPg() {
    if (pgPort <= 0 || connecting) {
      return;
    }
    connecting = true;
    PgConnectOptions o = RelayProcess.databaseOptions(pgPort, pgPassword);
    PgConnection.connect(vertx, o)
        .onComplete(ar -> connecting = false)
        .onSuccess(c -> {
          pg = c;
          c.closeHandler(v -> pg = null);
        })
        .onFailure(e -> {
          pgError = e.toString();
          LOG.debug("cannot reach Postgres on 127.0.0.1:{}: {}", pgPort, e.toString());
        });
  }

  private synchronized void sample() {
    long rss = serverPid > 0 ? readVmRssKb(serverPid) : -1;
    if (rss >= 0) {
      maxRssKb.accumulateAndGet(rss, Math::max);
    }
    long cpu = serverPid > 0 ? readCpuTicks(serverPid) : -1;
    if (cpu >= 0) {
      if (firstCpuTicks < 0) {
        firstCpuTicks = cpu;
      }
      lastCpuTicks = cpu;
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
      c.query(ROWS_SQL).execute().onSuccess(rows -> {
        for (Row row : rows) {
          lastRows = row.getLong(0);
        }
      }).onFailure(e -> pgError = e.toString());
    } else {
      connectPg();
    }
    if (admin != null) {
      http.request(new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(admin + "/metrics"))
          .compose(req -> req.send().compose(resp -> resp.body()))
          .onSuccess(b -> lastHeap = heapUsed(b.toString()));
    }
    double t = (System.nanoTime() - startNanos) / 1e9;
    samples.add(new JsonObject()
        .put("t", Math.round(t * 10) / 10.0)
        .put("rssKb", rss)
        .put("cpuTicks", cpu)
        .put("heapUsedBytes", lastHeap)
        .put("dbConnections", lastDb)
        .put("rows", lastRows));
  }

  /** Sum of {@code jvm_memory_used_bytes{area="heap",…}} in a Prometheus text body, or -1. */
  static long heapUsed(String metrics) {
    double sum = 0;
    boolean found = false;
    for (String line : metrics.split("\n")) {
      if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        found = true;
      }
    }
    return found ? (long) sum : -1;
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

  double cpuSeconds() {
    return secondsBetween(firstCpuTicks, lastCpuTicks);
  }

  /** Seconds of CPU between two tick readings, or -1 when either is missing. */
  static double secondsBetween(long fromTicks, long toTicks) {
    return fromTicks < 0 || toTicks < 0 ? -1 : (toTicks - fromTicks) / CLOCK_TICKS;
  }

  /** Samples as {t, rssKb, cpuTicks, heapUsedBytes, dbConnections, rows} (rows: a count at that second). */
  synchronized JsonArray samplesJson() {
    JsonArray a = new JsonArray();
    samples.forEach(s -> a.add(s.copy()));
    return a;
  }

  /** The largest increase of count(*) over one sampling interval, per second; -1 without Postgres. */
  synchronized long maxRowsPerSecond() {
    long best = -1;
    for (int i = 1; i < samples.size(); i++) {
      long a = samples.get(i - 1).getLong("rows");
      long b = samples.get(i).getLong("rows");
      double dt = samples.get(i).getDouble("t") - samples.get(i - 1).getDouble("t");
      if (a >= 0 && b >= 0 && dt > 0.2) {
        best = Math.max(best, Math.round((b - a) / dt));
      }
    }
    return best;
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

  /** utime + stime of {@code /proc/PID/stat} in clock ticks, or -1. */
  static long readCpuTicks(long pid) {
    try {
      return cpuTicksOfStat(Files.readString(Path.of("/proc", Long.toString(pid), "stat")));
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** Names HotSpot gives its JIT compiler threads, as {@code comm} shows them (cut to 15 chars). */
  static final List<String> JIT_THREADS = List.of("C1 CompilerThre", "C2 CompilerThre");

  /**
   * utime + stime in clock ticks of the process's threads named in {@code names} (their
   * {@code /proc/PID/task/TID/stat}), or -1 when none is found (not a HotSpot JVM, or gone). A
   * thread that exits between two readings takes its ticks with it: HotSpot keeps one compiler
   * thread of each tier for the JVM's life (all there are on 2 cores); on bigger machines the extra
   * ones it starts may exit again, so there the figure is a lower bound.
   */
  static long readThreadCpuTicks(long pid, List<String> names) {
    long sum = 0;
    boolean found = false;
    try (var tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path task : tasks) {
        try {
          String stat = Files.readString(task.resolve("stat"));
          String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
          if (names.contains(comm)) {
            sum += cpuTicksOfStat(stat);
            found = true;
          }
        } catch (IOException | RuntimeException e) {
          // the thread ended while listing
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return found ? sum : -1;
  }

  static long cpuTicksOfStat(String stat) {
    // the command may contain spaces and parentheses: fields start after the last ')'
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14 and 15 of proc(5)
  }
}
