package io.switchboard.relay;

import io.switchboard.relay.store.Database;
import io.switchboard.relay.store.StoreOptions;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * One real Postgres (the embedded one, in the test's JVM, on its own Vert.x) that several relays
 * share through {@code DATABASE_URL}, as relays share Supabase in production. Lives in
 * {@code dir/db}; {@link #close} stops it and deletes all of {@code dir}.
 */
final class SharedPostgres implements AutoCloseable {
  private final Path dir;
  private final Vertx vertx = Vertx.vertx();
  private final Database db;
  private final String url;

  SharedPostgres(Path dir) throws IOException {
    this.dir = dir;
    int port = RelayChildProcess.freePort();
    db = TestClient.sync(Database.start(vertx, new StoreOptions().setDataDir(dir.resolve("db").toString())
        .setEmbeddedPort(port)), 60);
    String password = Files.readString(dir.resolve("db").resolve("pg-password")).trim();
    url = "postgres://postgres:" + password + "@127.0.0.1:" + port + "/postgres";
  }

  /** What each relay gets as {@code DATABASE_URL}. */
  String url() {
    return url;
  }

  /** For the test's own queries. */
  Database database() {
    return db;
  }

  @Override
  public void close() {
    TestClient.sync(db.close(), 30);
    TestClient.sync(vertx.close(), 10);
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
