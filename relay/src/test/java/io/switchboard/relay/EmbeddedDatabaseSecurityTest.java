package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Finding 4: the embedded Postgres is the relay's alone. Another local account ({@code nobody},
 * through {@code runuser} and the real {@code psql}) reaches it neither over TCP without the
 * password or with a wrong one, nor over a Unix socket; its files are not open to others. The
 * data folder starts as one made by an older relay (zonky's trust defaults, binaries writable by
 * everyone), so the migration is what is tested.
 */
class EmbeddedDatabaseSecurityTest extends RelayTestBase {
  private static final String PSQL = "/usr/bin/psql";

  @BeforeAll
  static void start() throws IOException {
    requireRootAndPsql();
    dataDir = Files.createTempDirectory("switchboard-test");
    // What main's relay left behind: zonky's initdb (trust for everyone), binaries unpacked here.
    try (EmbeddedPostgres old = EmbeddedPostgres.builder().setDataDirectory(dataDir.resolve("pg"))
        .setCleanDataDirectory(false).setOverrideWorkingDirectory(dataDir.resolve("pg-bin").toFile())
        .setRegisterShutdownHook(false).start()) {
      assertThat(old.getPort()).isPositive();
    }
    assertThat(Files.readString(dataDir.resolve("pg/pg_hba.conf"))).contains("trust");
    // ...unpacked under a umask of 0, as the issue found it
    try (Stream<Path> files = Files.walk(dataDir.resolve("pg-bin"))) {
      for (Path p : (Iterable<Path>) files::iterator) {
        if (!Files.isSymbolicLink(p)) {
          Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p);
          perms.addAll(Set.of(PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE));
          Files.setPosixFilePermissions(p, perms);
        }
      }
    }
    startRelay(baseOptions());
  }

  /** runuser and a postgres the test account may not read need root; CI must not skip silently. */
  private static void requireRootAndPsql() {
    boolean root = "root".equals(System.getProperty("user.name"));
    boolean psql = Files.isExecutable(Path.of(PSQL)) && Files.isExecutable(Path.of("/usr/sbin/runuser"));
    if (root && psql) {
      return;
    }
    String why = "EmbeddedDatabaseSecurityTest needs root, " + PSQL + " and runuser (root=" + root + ", psql=" + psql + ")";
    if ("true".equals(System.getenv("CI"))) {
      fail(why + "; CI must run it");
    }
    System.err.println("SKIPPED: " + why);
    org.junit.jupiter.api.Assumptions.abort(why);
  }

  @Test
  void anotherLocalUserCannotConnectOverTcpWithoutTheRightPassword() throws Exception {
    int port = embeddedPort();
    Result none = psqlAsNobody(Map.of(), "-h", "127.0.0.1", "-p", Integer.toString(port));
    assertThat(none.exit()).as("no password: " + none.output()).isNotZero();
    assertThat(none.output()).contains("password");

    Result wrong = psqlAsNobody(Map.of("PGPASSWORD", "not-the-password"), "-h", "127.0.0.1", "-p", Integer.toString(port));
    assertThat(wrong.exit()).as("wrong password: " + wrong.output()).isNotZero();
    assertThat(wrong.output()).contains("password authentication failed");

    // The one password works (and is stored as a SCRAM verifier), so the lock is not just a dead server.
    String password = Files.readString(dataDir.resolve("pg-password")).trim();
    Result right = run(Map.of("PGPASSWORD", password), PSQL, "-w", "-X", "-At", "-h", "127.0.0.1", "-p",
        Integer.toString(port), "-U", "postgres", "-d", "postgres", "-c",
        "SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = 'postgres'");
    assertThat(right.exit()).as(right.output()).isZero();
    assertThat(right.output().trim()).isEqualTo("SCRAM-SHA-256$");
  }

  @Test
  void thereIsNoUnixSocketToConnectTo() throws Exception {
    int port = embeddedPort();
    for (String dir : List.of("/tmp", "/var/run/postgresql", "/run/postgresql", dataDir.resolve("pg").toString())) {
      assertThat(Path.of(dir, ".s.PGSQL." + port)).as("socket in " + dir).doesNotExist();
      Result socket = psqlAsNobody(Map.of(), "-h", dir, "-p", Integer.toString(port));
      assertThat(socket.exit()).as("socket in " + dir + ": " + socket.output()).isNotZero();
    }
    Result listening = run(Map.of(), "ss", "-Hltn", "sport = :" + port);
    assertThat(listening.output().lines().map(l -> l.trim().split("\\s+")[3]).toList())
        .as("listens on IPv4 loopback only").containsExactly("127.0.0.1:" + port);
  }

  @Test
  void filesAreNotOpenToOthersAndTheRelayStillStores() throws Exception {
    assertThat(mode(dataDir.resolve("pg-password"))).isEqualTo("rw-------");
    assertThat(mode(dataDir.resolve("pg"))).isEqualTo("rwx------");
    assertThat(Files.readString(dataDir.resolve("pg/pg_hba.conf")).lines()
        .filter(l -> !l.isBlank() && !l.startsWith("#")).toList())
        .containsExactly("host all all 127.0.0.1/32 scram-sha-256");
    List<String> writable = new ArrayList<>();
    try (Stream<Path> files = Files.walk(dataDir.resolve("pg-bin"))) {
      files.filter(p -> !Files.isSymbolicLink(p)).forEach(p -> {
        String m = mode(p);
        if (m.charAt(4) == 'w' || m.charAt(7) == 'w') {
          writable.add(p + " " + m);
        }
      });
    }
    assertThat(writable).as("group/other-writable under pg-bin").isEmpty();

    TestClient alice = member("locked");
    assertThat(alice.sendMessage("locked", "c1", "hello").getBoolean("stored")).isTrue();
  }

  static int embeddedPort() throws IOException {
    // postmaster.pid line 4 is the port
    return Integer.parseInt(Files.readAllLines(dataDir.resolve("pg/postmaster.pid")).get(3).trim());
  }

  private static String mode(Path p) {
    try {
      return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static Result psqlAsNobody(Map<String, String> env, String... target) throws Exception {
    List<String> command = new ArrayList<>(List.of("/usr/sbin/runuser", "-u", "nobody", "--", PSQL, "-w", "-X", "-At"));
    command.addAll(List.of(target));
    // what the issue's attacker ran: a superuser session could run COPY ... TO PROGRAM
    command.addAll(List.of("-U", "postgres", "-d", "postgres", "-c", "COPY (SELECT 1) TO PROGRAM 'true'"));
    return run(env, command.toArray(String[]::new));
  }

  record Result(int exit, String output) {
  }

  private static Result run(Map<String, String> env, String... command) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).directory(Path.of("/").toFile());
    pb.environment().remove("PGPASSWORD");
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
    return new Result(p.exitValue(), out);
  }
}
