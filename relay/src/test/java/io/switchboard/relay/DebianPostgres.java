package io.switchboard.relay;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throwaway cluster of Debian's Postgres 15 ({@code initdb} + {@code pg_ctl}, run as user
 * {@code postgres} when the tests run as root), on 127.0.0.1 and a free port, trusting loopback
 * logins: the real server an operator points {@code DATABASE_URL} at, not the embedded one. Also
 * starts Debian's {@code pgbouncer} in front of it. {@link #close} stops everything and deletes
 * the folder.
 */
final class DebianPostgres implements AutoCloseable {
  static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");
  static final Path PGBOUNCER = Path.of("/usr/sbin/pgbouncer");
  private static final Path RUNUSER = Path.of("/usr/sbin/runuser");

  private final Path dir;
  private final int port;
  private final List<Process> poolers = new ArrayList<>();

  /**
   * @param dir    an empty folder of its own
   * @param config extra {@code postgresql.conf} lines (e.g. {@code ssl = on})
   */
  DebianPostgres(Path dir, List<String> config) throws IOException {
    this.dir = dir;
    this.port = RelayChildProcess.freePort();
    Files.createDirectories(dir);
    ownByPostgres(dir);
    run(BIN.resolve("initdb").toString(), "-D", data().toString(), "-U", "postgres", "-A", "trust",
        "-E", "UTF8", "--no-sync");
    List<String> conf = new ArrayList<>(List.of("listen_addresses = '127.0.0.1'", "port = " + port,
        "unix_socket_directories = ''",
        // a test server: durability is not what these tests check, speed on a shared machine is
        "fsync = off", "synchronous_commit = off", "max_connections = 40"));
    conf.addAll(config);
    Files.writeString(data().resolve("postgresql.conf"), String.join("\n", conf) + "\n", StandardCharsets.UTF_8,
        java.nio.file.StandardOpenOption.APPEND);
    start();
  }

  /** Whether the Debian packages the real-deployment tests need are here, else skip loudly (never under CI). */
  static void require(String test, boolean pgbouncer) {
    List<String> missing = new ArrayList<>();
    if (!Files.isExecutable(BIN.resolve("pg_ctl"))) {
      missing.add("postgresql-15 (" + BIN + ")");
    }
    if (pgbouncer && !Files.isExecutable(PGBOUNCER)) {
      missing.add("pgbouncer");
    }
    if (root() && !Files.isExecutable(RUNUSER)) {
      missing.add("util-linux (runuser)");
    }
    if (missing.isEmpty()) {
      return;
    }
    String why = test + " needs Debian's " + String.join(", ", missing);
    if ("true".equals(System.getenv("CI"))) {
      throw new AssertionError(why + "; CI must run it (.ci/run installs them)");
    }
    System.err.println("SKIPPED: " + why);
    org.junit.jupiter.api.Assumptions.abort(why);
  }

  int port() {
    return port;
  }

  Path dir() {
    return dir;
  }

  /** A URL straight to the server (user postgres, no password: loopback is trusted). */
  String url() {
    return "postgres://postgres@127.0.0.1:" + port + "/postgres";
  }

  void start() throws IOException {
    run(BIN.resolve("pg_ctl").toString(), "-D", data().toString(), "-l", dir.resolve("postgres.log").toString(),
        "-w", "-t", "60", "start");
  }

  void stop() throws IOException {
    run(BIN.resolve("pg_ctl").toString(), "-D", data().toString(), "-m", "fast", "-w", "-t", "60", "stop");
  }

  /**
   * Starts pgbouncer in transaction mode in front of this server, with fewer server connections
   * than a relay's pool so client connections share them, and returns its port.
   */
  int startPgbouncer(int serverConnections) throws IOException {
    int listen = RelayChildProcess.freePort();
    Path ini = dir.resolve("pgbouncer-" + listen + ".ini");
    Files.writeString(ini, String.join("\n",
        "[databases]",
        "postgres = host=127.0.0.1 port=" + port + " dbname=postgres user=postgres",
        "[pgbouncer]",
        "listen_addr = 127.0.0.1",
        "listen_port = " + listen,
        "unix_socket_dir =",
        "auth_type = any",
        "pool_mode = transaction",
        "default_pool_size = " + serverConnections,
        "max_client_conn = 100",
        "server_round_robin = 0",
        // the pg client sends it at connect; pgbouncer refuses unknown startup parameters
        "ignore_startup_parameters = extra_float_digits",
        "logfile = " + dir.resolve("pgbouncer-" + listen + ".log"),
        "pidfile = " + dir.resolve("pgbouncer-" + listen + ".pid")) + "\n");
    ownByPostgres(dir);
    List<String> command = new ArrayList<>(List.of(PGBOUNCER.toString()));
    if (root()) {
      command.addAll(List.of("-u", "postgres"));
    }
    command.add(ini.toString());
    Process p = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("pgbouncer.out").toFile())).start();
    poolers.add(p);
    org.awaitility.Awaitility.await("pgbouncer listening on " + listen).atMost(java.time.Duration.ofSeconds(20))
        .pollInterval(java.time.Duration.ofMillis(20)).ignoreExceptionsInstanceOf(IOException.class).until(() -> {
          if (!p.isAlive()) {
            throw new AssertionError("pgbouncer exited: " + Files.readString(dir.resolve("pgbouncer.out")));
          }
          try (java.net.Socket s = new java.net.Socket("127.0.0.1", listen)) {
            return true;
          }
        });
    return listen;
  }

  @Override
  public void close() {
    for (Process p : poolers) {
      p.destroy();
      try {
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try {
      run(BIN.resolve("pg_ctl").toString(), "-D", data().toString(), "-m", "immediate", "-w", "-t", "30", "stop");
    } catch (IOException | AssertionError e) {
      // not running (a test stopped it); the folder goes either way
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Path data() {
    return dir.resolve("data");
  }

  private static boolean root() {
    return "root".equals(System.getProperty("user.name"));
  }

  /** Postgres refuses to run as root: the folder and what is in it become user postgres's. */
  static void ownByPostgres(Path dir) throws IOException {
    if (root()) {
      exec(List.of("chown", "-R", "postgres:postgres", dir.toString()));
    }
  }

  private static void run(String... command) throws IOException {
    List<String> full = new ArrayList<>();
    if (root()) {
      full.addAll(List.of(RUNUSER.toString(), "-u", "postgres", "--"));
    }
    full.addAll(List.of(command));
    exec(full);
  }

  private static void exec(List<String> command) throws IOException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    try {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(90, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new AssertionError(String.join(" ", command) + " failed: " + out);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }
}
