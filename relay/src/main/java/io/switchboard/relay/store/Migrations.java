package io.switchboard.relay.store;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Applies the versioned SQL files under {@code db/migration/} in order, each in its own
 * transaction, recording them in {@code schema_version}.
 */
public final class Migrations {

  /**
   * Explicit because listing a classpath directory inside the shaded jar is unreliable. Append new
   * files here; never edit or reorder applied ones.
   */
  static final List<String> FILES = List.of("V1__init.sql", "V2__room_epochs.sql", "V3__room_access.sql",
      "V4__relay_secret.sql", "V5__retention.sql", "V6__chat_reads.sql", "V7__chat_changes.sql",
      "V8__encrypted_rooms.sql");

  private static final String DIR = "db/migration/";

  /** Any constant shared by all nodes; serialises concurrent migrators. */
  private static final long LOCK_KEY = 0x5357_4254_5342_4431L;

  private Migrations() {
  }

  /** @return the versions this call applied, in order (empty when the schema was current) */
  public static Future<List<Integer>> apply(Vertx vertx, Pool pool) {
    return vertx.executeBlocking(Migrations::load).compose(migrations -> {
      List<Integer> applied = new ArrayList<>();
      Future<Void> chain = Future.succeededFuture();
      for (Migration m : migrations) {
        chain = chain
          .compose(v -> pool.withTransaction(conn -> applyOne(conn, m)))
          .map(done -> {
            if (done) {
              applied.add(m.version);
            }
            return null;
          });
      }
      return chain.map(v -> applied);
    });
  }

  private static Future<Boolean> applyOne(SqlConnection conn, Migration m) {
    // the lock is held until this transaction ends, so the check and the apply cannot interleave
    // with another node's
    return conn.query("SELECT pg_advisory_xact_lock(" + LOCK_KEY + ")").execute()
      // checked first rather than CREATE ... IF NOT EXISTS, which logs a notice at every start
      .compose(v -> conn.query("SELECT to_regclass('schema_version') IS NULL").execute())
      .compose(rows -> rows.iterator().next().getBoolean(0)
        ? conn.query("CREATE TABLE schema_version ("
          + "version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())").execute().mapEmpty()
        : Future.succeededFuture())
      .compose(v -> conn.preparedQuery("SELECT 1 FROM schema_version WHERE version = $1")
        .execute(Tuple.of(m.version)))
      .compose(rows -> {
        if (rows.size() > 0) {
          return Future.succeededFuture(false);
        }
        return conn.query(m.sql).execute()
          .compose(v -> conn.preparedQuery("INSERT INTO schema_version (version, applied_at) VALUES ($1, now())")
            .execute(Tuple.of(m.version)))
          .map(true);
      });
  }

  private static List<Migration> load() {
    List<Migration> list = new ArrayList<>();
    for (String file : FILES) {
      list.add(new Migration(version(file), read(DIR + file)));
    }
    return list;
  }

  private static int version(String file) {
    int sep = file.indexOf("__");
    if (!file.startsWith("V") || sep < 2 || !file.endsWith(".sql")) {
      throw new IllegalArgumentException("migration file must be named V<n>__<name>.sql: " + file);
    }
    return Integer.parseInt(file.substring(1, sep));
  }

  private static String read(String resource) {
    try (InputStream in = Migrations.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing migration resource " + resource);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private record Migration(int version, String sql) {
  }
}
