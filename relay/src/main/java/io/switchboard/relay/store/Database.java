package io.switchboard.relay.store;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
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

  private Database(Vertx vertx, Pool pool, Embedded embedded) {
    this.vertx = vertx;
    this.pool = pool;
    this.embedded = embedded;
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
      return open(vertx, o, connect, null);
    }
    Path dataDir = Path.of(o.getDataDir()).toAbsolutePath();
    Embedded embedded = new Embedded(dataDir.resolve("pg"), dataDir.resolve("pg-bin"), o.getEmbeddedPort());
    return embedded.start(vertx).compose(v -> open(vertx, o,
      StoreOptions.statementMode(embedded.connectOptions(), false), embedded));
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
    Database db = new Database(vertx, pool, embedded);
    return Migrations.apply(vertx, pool)
      .map(applied -> {
        if (!applied.isEmpty()) {
          log.info("Applied schema migrations {}", applied);
        }
        return db;
      })
      .recover(err -> db.close().transform(ignored -> Future.failedFuture(err)));
  }

  public Pool pool() {
    return pool;
  }

  public boolean embedded() {
    return embedded != null;
  }

  /** Closes the pool, then stops the embedded server if there is one. Flush the {@link BatchWriter} first. */
  public Future<Void> close() {
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

    private final Path dataDir;
    private final Path binDir;
    private volatile int port;
    private volatile EmbeddedPostgres server;

    Embedded(Path dataDir, Path binDir, int port) {
      this.dataDir = dataDir;
      this.binDir = binDir;
      this.port = port;
    }

    Future<Void> start(Vertx vertx) {
      // initdb (first run) and pg_ctl start block for seconds
      return vertx.executeBlocking(() -> {
        synchronized (this) {
          if (server == null) {
            OrphanedPostgres.stop(dataDir, ORPHAN_STOP_TIMEOUT);
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
              .setServerConfig("synchronous_commit", "on");
            if (port != 0) {
              builder.setPort(port);
            }
            server = builder.start();
            port = server.getPort();
          }
        }
        return null;
      });
    }

    Future<Void> stop(Vertx vertx) {
      return vertx.executeBlocking(() -> {
        synchronized (this) {
          if (server != null) {
            server.close();
            server = null;
          }
        }
        return null;
      });
    }

    PgConnectOptions connectOptions() {
      return new PgConnectOptions()
        .setHost("127.0.0.1")
        .setPort(port)
        .setUser("postgres")
        .setDatabase("postgres");
    }
  }
}
