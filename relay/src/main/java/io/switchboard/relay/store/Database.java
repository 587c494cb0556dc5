package io.switchboard.relay.store;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.SslMode;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlConnection;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;

/**
 * The connection pool, and the embedded Postgres behind it when no {@code databaseUrl} is set.
 */
public final class Database {

  private static final Logger log = LoggerFactory.getLogger(Database.class);

  private final Vertx vertx;
  private final Pool pool;
  private final Embedded embedded;
  private final PostmasterWatchdog watchdog;
  private final long watchTimer;
  private final StoreOptions options;
  private Retention retention;
  private long retentionTimer = -1;

  private Database(Vertx vertx, Pool pool, Embedded embedded, StoreOptions o) {
    this.vertx = vertx;
    this.pool = pool;
    this.embedded = embedded;
    this.options = o;
    if (embedded == null) {
      watchdog = null;
      watchTimer = -1;
    } else {
      watchdog = new PostmasterWatchdog(o.getEmbeddedRestartMaxFailures(), embedded::died, () -> embedded.restart(vertx));
      watchTimer = vertx.setPeriodic(o.getEmbeddedWatchMs(), id -> watchdog.tick());
    }
  }

  /** Starts the embedded server if needed, opens the pool and applies pending migrations. */
  public static Future<Database> start(Vertx vertx, StoreOptions options) {
    StoreOptions o = new StoreOptions(options);
    if (o.getDatabaseUrl() != null) {
      PgConnectOptions connect;
      try {
        connect = StoreOptions.connectOptions(o.getDatabaseUrl(), o.isTransactionPooler());
      } catch (IllegalArgumentException e) {
        return Future.failedFuture(e);
      }
      PgConnectOptions external = connect;
      return (o.isTransactionPooler() ? Future.succeededFuture() : refuseTransactionPooler(vertx, external))
        .compose(v -> open(vertx, o, external, null))
        .recover(err -> explainTls(vertx, err, external, o.getDatabaseUrl()));
    }
    Path dataDir = Path.of(o.getDataDir()).toAbsolutePath();
    Embedded embedded = new Embedded(dataDir, o.getEmbeddedPort());
    return embedded.start(vertx).compose(v -> open(vertx, o,
      StoreOptions.statementMode(embedded.connectOptions(), false), embedded)
      // a failed migration must not leave the server running
      .recover(err -> embedded.stop(vertx).transform(x -> Future.failedFuture(err))));
  }

  /**
   * A failed TLS handshake, with the reason an operator can act on: the pg client says only "SSL
   * handshake failed", so {@link TlsDiagnosis} tries the handshake again to learn why.
   */
  static <T> Future<T> explainTls(Vertx vertx, Throwable failure, PgConnectOptions connect, String databaseUrl) {
    SslMode mode = connect.getSslMode();
    if (mode == null || mode == SslMode.DISABLE || !String.valueOf(failure.getMessage()).contains("SSL")) {
      return Future.failedFuture(failure);
    }
    boolean verify = mode == SslMode.VERIFY_CA || mode == SslMode.VERIFY_FULL;
    String rootCert = verify ? StoreOptions.queryParameters(databaseUrl).get("sslrootcert") : null;
    return vertx.<String>executeBlocking(() -> verify
        ? TlsDiagnosis.why(connect.getHost(), connect.getPort(), rootCert, mode == SslMode.VERIFY_FULL, 10_000)
        : null)
      .transform(ar -> Future.<T>failedFuture(new IllegalStateException("TLS to the database at " + connect.getHost() + ":"
        + connect.getPort() + " failed (sslmode=" + mode.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-')
        + "): " + (ar.succeeded() && ar.result() != null ? ar.result() : failure.getMessage()), failure)));
  }

  /**
   * A failure's text, with what to set when it is the error a transaction-mode pooler gives
   * cached prepared statements (26000 "prepared statement ... does not exist", 42P05 "... already
   * exists"): for a pooler the start-up check could not recognise.
   */
  public static String explainPooler(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof io.vertx.pgclient.PgException pg
          && ("26000".equals(pg.getSqlState()) || "42P05".equals(pg.getSqlState()))) {
        return failure + " (a transaction-mode pooler, e.g. Supabase's port 6543? then set"
          + " SWITCHBOARD_STORE_TRANSACTION_POOLER=true)";
      }
    }
    return failure.toString();
  }

  static final String TRANSACTION_POOLER_DETECTED = "DATABASE_URL leads to a transaction-mode connection pooler"
    + " (two connections were served by one server session, as behind Supabase's port 6543 or pgbouncer's"
    + " pool_mode = transaction), where cached prepared statements fail at random;"
    + " set SWITCHBOARD_STORE_TRANSACTION_POOLER=true (store setting transactionPooler)";

  /**
   * Fails when two client connections open at once are served by the same server session: a
   * direct server or a session-mode pooler (Supabase's port 5432) gives each its own, a
   * transaction-mode pooler hands the session the first one left back to the second (pgbouncer
   * reuses the most recently freed one). Without the switch the relay would otherwise start and
   * then fail writes with "prepared statement ... does not exist".
   */
  static Future<Void> refuseTransactionPooler(Vertx vertx, PgConnectOptions connect) {
    PgConnectOptions simple = new PgConnectOptions(connect).setCachePreparedStatements(false);
    return PgConnection.connect(vertx, simple).compose(a -> PgConnection.connect(vertx, simple)
        .compose(b -> backend(a).compose(first -> backend(b).compose(second -> backend(a).map(again ->
            first.equals(second) || !first.equals(again))))
          .eventually(b::close))
        .eventually(a::close))
      .compose(shared -> shared ? Future.failedFuture(new IllegalStateException(TRANSACTION_POOLER_DETECTED))
        : Future.succeededFuture());
  }

  private static Future<Integer> backend(SqlConnection conn) {
    // a simple query: no prepared statement, so it works behind any pooler
    return conn.query("SELECT pg_backend_pid()").execute().map(rows -> rows.iterator().next().getInteger(0));
  }

  /** Requests waiting for a connection; the relay also caps its own concurrent reads well below this. */
  static final int MAX_WAIT_QUEUE = 1024;

  private static Future<Database> open(Vertx vertx, StoreOptions o, PgConnectOptions connect, Embedded embedded) {
    Pool pool = PgBuilder.pool()
      // the only bound on how many server connections this process holds
      .with(new PoolOptions().setMaxSize(o.getPoolSize())
        // backstop: a flood of reads fails fast instead of queueing without bound
        .setMaxWaitQueueSize(MAX_WAIT_QUEUE))
      .connectingTo(connect)
      .using(vertx)
      .build();
    return Migrations.apply(vertx, pool)
      .map(applied -> {
        if (!applied.isEmpty()) {
          log.info("Applied schema migrations {}", applied);
        }
        return new Database(vertx, pool, embedded, o);
      })
      .recover(err -> pool.close().transform(ignored -> Future.failedFuture(err)));
  }

  public Pool pool() {
    return pool;
  }

  public boolean embedded() {
    return embedded != null;
  }

  /**
   * Why the process is unhealthy, or null: set when an embedded postmaster died and could not be
   * restarted {@code embeddedRestartMaxFailures} times in a row. An external database's outages
   * are {@code /ready}'s business, not the process's.
   */
  public String healthProblem() {
    return watchdog == null ? null : watchdog.problem();
  }

  /**
   * Starts sampling the database size ({@code switchboard_database_bytes}) and pruning by
   * {@code retentionDays} / {@code maxDatabaseBytes}, on the caller's context.
   *
   * @param keepPerRoom each room's newest messages that are never pruned (the relay's resumeMaxReplay)
   */
  public Retention startRetention(int keepPerRoom, io.micrometer.core.instrument.MeterRegistry registry) {
    retention = new Retention(vertx, pool, options, keepPerRoom, registry);
    retentionTimer = retention.start();
    return retention;
  }

  /** The size sampler and pruner, null before {@link #startRetention}. */
  public Retention retention() {
    return retention;
  }

  /** Closes the pool, then stops the embedded server if there is one. Flush the {@link BatchWriter} first. */
  public Future<Void> close() {
    vertx.cancelTimer(watchTimer);
    vertx.cancelTimer(retentionTimer);
    return pool.close().transform(ar -> embedded != null ? embedded.stop(vertx) : Future.<Void>succeededFuture());
  }

  /** Stops the embedded server, keeping pool and data; for outage tests and ops. */
  public Future<Void> stopEmbedded() {
    return requireEmbedded().stop(vertx);
  }

  /** Starts the embedded server again on the same port and data dir; the pool reconnects by itself. */
  public Future<Void> startEmbedded() {
    return requireEmbedded().start(vertx);
  }

  private Embedded requireEmbedded() {
    if (embedded == null) {
      throw new IllegalStateException("not using the embedded database");
    }
    return embedded;
  }

  /** One zonky server at a time; its port is fixed at the first start so restarts keep it. */
  private static final class Embedded {
    private static final java.time.Duration ORPHAN_STOP_TIMEOUT = java.time.Duration.ofSeconds(30);

    private final Path root;
    private final Path dataDir;
    private final Path binDir;
    private volatile int port;
    private volatile EmbeddedPostgres server;
    // between start and a deliberate stop: a server that should be running
    private volatile boolean wanted;
    private volatile String password;
    // the running postmaster, to notice its death without a query
    private volatile ProcessHandle postmaster;

    Embedded(Path root, int port) {
      this.root = root;
      this.dataDir = root.resolve("pg");
      this.binDir = root.resolve("pg-bin");
      this.port = port;
    }

    Future<Void> start(Vertx vertx) {
      // initdb (first run) and pg_ctl start block for seconds
      return vertx.executeBlocking(() -> {
        synchronized (this) {
          wanted = true;
          startLocked();
        }
        return null;
      });
    }

    /** Replaces a server whose postmaster died with a new one on the same port and data folder. */
    Future<Void> restart(Vertx vertx) {
      return vertx.executeBlocking(() -> {
        synchronized (this) {
          if (!died()) {
            return null;
          }
          if (server != null) {
            // releases zonky's folder lock; its pg_ctl stop fails on the dead pid and logs so
            server.close();
            server = null;
          }
          startLocked();
        }
        return null;
      });
    }

    /** True when a server should be running (started, not stopped on purpose) but its postmaster is gone. */
    boolean died() {
      ProcessHandle p = postmaster;
      return wanted && (server == null || p == null || !OrphanedPostgres.running(p));
    }

    private void startLocked() throws Exception {
      if (server != null) {
        return;
      }
      OrphanedPostgres.stop(dataDir, ORPHAN_STOP_TIMEOUT);
      EmbeddedLockdown.Password pw = EmbeddedLockdown.loadOrCreatePassword(root);
      EmbeddedLockdown.warnIfWritableByOthers(root);
      Path binaries = ZonkyBinaries.unpack(binDir);
      EmbeddedLockdown.notWritableByOthers(binDir);
      // An existing cluster is locked down here: a failure inside zonky's start, after it took its
      // folder lock, would keep that lock for the life of this JVM and fail every restart.
      boolean fresh = !java.nio.file.Files.exists(dataDir.resolve("postgresql.conf"));
      if (!fresh) {
        EmbeddedLockdown.lockCluster(dataDir, binaries, pw);
      }
      EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
        .setDataDirectory(dataDir)
        .setCleanDataDirectory(false)
        // unpack the binaries once next to the data, not under /tmp at every start
        .setOverrideWorkingDirectory(binDir.toFile())
        // zonky's own hook would stop Postgres while the relay still flushes on SIGTERM;
        // the relay closes it after draining instead.
        .setRegisterShutdownHook(false)
        // zonky's defaults are for throwaway test databases (-F = no fsync, async commit):
        // acked means on disk, so both go back on. Batching pays for the fsyncs.
        .setServerConfig("fsync", "on")
        .setServerConfig("synchronous_commit", "on")
        // zonky's initdb trusts everyone: after initdb, before the first listen, lock it down
        .setDataDirectoryCustomizer(dir -> {
          try {
            if (fresh) {
              EmbeddedLockdown.lockCluster(dir.toPath(), binaries, pw);
            }
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        })
        .setServerConfig("listen_addresses", "127.0.0.1")
        // no Unix socket (zonky's binaries put a 0777 one in /tmp): nothing here needs it
        .setServerConfig("unix_socket_directories", "")
        .setServerConfig("password_encryption", "scram-sha-256")
        .setConnectConfig("password", pw.value());
      if (port != 0) {
        builder.setPort(port);
      }
      try {
        server = builder.start();
      } catch (Exception | Error e) {
        // zonky may have started a postmaster it then gave up waiting for
        OrphanedPostgres.stop(dataDir, ORPHAN_STOP_TIMEOUT);
        throw e;
      }
      port = server.getPort();
      password = pw.value();
      postmaster = OrphanedPostgres.find(dataDir).orElse(null);
    }

    Future<Void> stop(Vertx vertx) {
      return vertx.executeBlocking(() -> {
        synchronized (this) {
          wanted = false;
          if (server != null) {
            server.close();
            server = null;
          }
          // a postmaster zonky's stop could not end (or one it lost track of) must not outlive us
          OrphanedPostgres.stop(dataDir, ORPHAN_STOP_TIMEOUT);
        }
        return null;
      });
    }

    PgConnectOptions connectOptions() {
      return new PgConnectOptions()
        .setHost("127.0.0.1")
        .setPort(port)
        .setUser(EmbeddedLockdown.SUPERUSER)
        .setPassword(password)
        .setDatabase("postgres");
    }
  }
}
