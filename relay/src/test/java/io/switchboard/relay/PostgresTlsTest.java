package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.switchboard.relay.store.Database;
import io.switchboard.relay.store.StoreOptions;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code sslmode=verify-full} against Debian's Postgres 15 with {@code ssl = on} and a server
 * certificate from a CA made here with openssl (for host name {@code localhost} only): the right
 * CA file and host connect over TLS; another CA or another host name fail the start at once with
 * a message that says why, and the process exits 1.
 */
class PostgresTlsTest {
  private static Path dir;
  private static DebianPostgres postgres;
  private static Vertx vertx;

  @BeforeAll
  static void setUp() throws Exception {
    DebianPostgres.require("PostgresTlsTest", false);
    if (!Files.isExecutable(Path.of("/usr/bin/openssl"))) {
      DebianPostgres.require("PostgresTlsTest (openssl)", false);
    }
    dir = Files.createTempDirectory("switchboard-tls");
    Path certs = Files.createDirectories(dir.resolve("certs"));
    ca(certs, "ca");
    ca(certs, "other-ca");
    openssl(certs, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=localhost");
    Files.writeString(certs.resolve("san.ext"), "subjectAltName=DNS:localhost\n");
    openssl(certs, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "2", "-out", "server.pem", "-extfile", "san.ext");
    DebianPostgres.ownByPostgres(dir);
    Files.setPosixFilePermissions(certs.resolve("server.key"),
        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    postgres = new DebianPostgres(dir.resolve("pg"), List.of("ssl = on",
        "ssl_cert_file = '" + certs.resolve("server.pem") + "'",
        "ssl_key_file = '" + certs.resolve("server.key") + "'"));
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void tearDown() throws IOException {
    if (vertx != null) {
      TestClient.sync(vertx.close(), 10);
    }
    if (postgres != null) {
      postgres.close();
    }
    if (dir != null) {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static String url(String host, String caFile) {
    return "postgres://postgres@" + host + ":" + postgres.port() + "/postgres?sslmode=verify-full&sslrootcert="
        + dir.resolve("certs").resolve(caFile);
  }

  @Test
  void verifyFullWithTheRightCaAndHostConnectsOverTls() {
    Database db = TestClient.sync(Database.start(vertx, new StoreOptions().setDatabaseUrl(url("localhost", "ca.pem"))),
        30);
    try {
      boolean ssl = TestClient.sync(db.pool().query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
          .execute(), 10).iterator().next().getBoolean(0);
      assertThat(ssl).as("the session is encrypted").isTrue();
    } finally {
      TestClient.sync(db.close(), 10);
    }
  }

  @Test
  void anotherCaIsRefusedAtOnceSayingWhy() {
    long start = System.nanoTime();
    Throwable failure = assertThrows(Throwable.class, () -> TestClient.sync(
        Database.start(vertx, new StoreOptions().setDatabaseUrl(url("localhost", "other-ca.pem"))), 30));
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).as("no hang").isLessThan(10_000);
    assertThat(failure).hasMessageContaining("TLS to the database at localhost:" + postgres.port() + " failed")
        .hasMessageContaining("sslmode=verify-full")
        .hasMessageContaining("not signed by the CA in sslrootcert");
  }

  @Test
  void anotherHostNameIsRefusedSayingWhy() {
    Throwable failure = assertThrows(Throwable.class, () -> TestClient.sync(
        Database.start(vertx, new StoreOptions().setDatabaseUrl(url("127.0.0.1", "ca.pem"))), 30));
    assertThat(failure).hasMessageContaining("TLS to the database at 127.0.0.1:" + postgres.port() + " failed")
        .hasMessageContaining("does not name host 127.0.0.1");
  }

  @Test
  void theProcessExitsWithStatusOneAndTheReasonOnAWrongCa() throws Exception {
    Path data = Files.createDirectories(dir.resolve("relay-data"));
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("DATABASE_URL", url("localhost", "other-ca.pem"));
    pb.environment().put("SWITCHBOARD_DATA_DIR", data.toString());
    pb.environment().put("SWITCHBOARD_HOST", "127.0.0.1");
    pb.environment().put("SWITCHBOARD_PORT", "0");
    pb.environment().put("SWITCHBOARD_ADMIN_PORT", "0");
    pb.environment().put("SWITCHBOARD_P2P_ENABLED", "false");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("exited").isTrue();
    assertThat(p.exitValue()).as(out).isEqualTo(1);
    assertThat(out).contains("relay failed to start").contains("not signed by the CA in sslrootcert");
  }

  private static void ca(Path certs, String name) throws IOException {
    openssl(certs, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".pem",
        "-days", "2", "-subj", "/CN=Switchboard test " + name);
  }

  private static void openssl(Path cwd, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of("/usr/bin/openssl"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true).start();
    try {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new AssertionError("openssl " + String.join(" ", args) + ": " + out);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }
}
