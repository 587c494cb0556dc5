package io.switchboard.bench;

import io.vertx.pgclient.PgConnectOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A relay the bench starts itself: a copy of {@code relay/target/switchboard.jar} in its own JVM,
 * a fresh temp data dir, free loopback ports, a fixed embedded Postgres port. {@link #close()}
 * stops it (SIGTERM, then SIGKILL after 20 s), stops an embedded Postgres the bench restarted
 * itself, and deletes the temp dir; a shutdown hook does the same on Ctrl-C.
 */
final class RelayProcess implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RelayProcess.class);

  private final Path jar;
  private final Path dir;
  private final Path dataDir;
  private final Path log;
  private final List<String> javaOpts;
  private final Map<String, String> env;
  final int port;
  final int adminPort;
  final int pgPort;
  private Process process;
  private Process restartedPostgres; // a postmaster the outage scenario started again
  private final Thread hook = new Thread(this::closeQuietly, "relay-stop");

  /**
   * @param env extra SWITCHBOARD_* settings (they win over the environment's)
   */
  RelayProcess(Path relayJar, List<String> javaOpts, Map<String, String> env) throws IOException {
    if (!Files.isRegularFile(relayJar)) {
      throw new IllegalStateException("missing " + relayJar + ": run ./mvnw -q -B package -DskipTests first");
    }
    this.dir = Files.createTempDirectory("switchboard-bench");
    // a copy: a rebuild during the run cannot swap the jar under the running server
    this.jar = dir.resolve("switchboard-bench-server.jar");
    Files.copy(relayJar, jar);
    this.dataDir = dir.resolve("data");
    this.log = dir.resolve("server.log");
    shareEmbeddedPostgresBinaries(dataDir);
    this.javaOpts = javaOpts;
    this.env = new LinkedHashMap<>(env);
    int[] ports = freePorts(3);
    this.port = ports[0];
    this.adminPort = ports[1];
    this.pgPort = ports[2];
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /**
   * The relay unpacks the embedded Postgres binaries (~80 MB, xz) into {@code <dataDir>/pg-bin} on
   * every fresh data dir: seconds of CPU per start on this machine. The bench points that folder at
   * one cache in the temp dir instead (the library skips what is already unpacked there, one
   * sub-folder per binary version). {@code SWITCHBOARD_BENCH_PG_BIN_CACHE=off} turns this off.
   */
  private static void shareEmbeddedPostgresBinaries(Path dataDir) throws IOException {
    String opt = System.getenv().getOrDefault("SWITCHBOARD_BENCH_PG_BIN_CACHE", "");
    if (opt.equals("off")) {
      return;
    }
    Path cache = opt.isEmpty() ? Path.of(System.getProperty("java.io.tmpdir"), "switchboard-bench-pg-bin") : Path.of(opt);
    Files.createDirectories(cache);
    Files.createDirectories(dataDir);
    Files.createSymbolicLink(dataDir.resolve("pg-bin"), cache);
  }

  /** The relay jar: the option, else relay/target/switchboard.jar from the repo root or bench/. */
  static Path findJar(String option) {
    if (option != null && !option.isBlank()) {
      return Path.of(option);
    }
    for (String c : List.of("relay/target/switchboard.jar", "../relay/target/switchboard.jar")) {
      Path p = Path.of(c);
      if (Files.isRegularFile(p)) {
        return p.toAbsolutePath().normalize();
      }
    }
    return Path.of("relay/target/switchboard.jar");
  }

  static int[] freePorts(int n) throws IOException {
    List<ServerSocket> held = new ArrayList<>();
    try {
      int[] ports = new int[n];
      for (int i = 0; i < n; i++) {
        ServerSocket s = new ServerSocket();
        s.bind(new InetSocketAddress("127.0.0.1", 0));
        held.add(s);
        ports[i] = s.getLocalPort();
      }
      return ports;
    } finally {
      for (ServerSocket s : held) {
        s.close();
      }
    }
  }

  void start() throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(javaOpts);
    cmd.add("-jar");
    cmd.add(jar.toString());
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    Map<String, String> e = pb.environment();
    e.put("SWITCHBOARD_HOST", "127.0.0.1");
    e.put("SWITCHBOARD_ADMIN_HOST", "127.0.0.1");
    e.put("SWITCHBOARD_PORT", Integer.toString(port));
    e.put("SWITCHBOARD_ADMIN_PORT", Integer.toString(adminPort));
    e.put("SWITCHBOARD_DATA_DIR", dataDir.toString());
    e.put("SWITCHBOARD_STORE_EMBEDDED_PORT", Integer.toString(pgPort));
    e.put("SWITCHBOARD_P2P_STUN_ADDRESSES", "127.0.0.1");
    e.put("SWITCHBOARD_P2P_STUN_PORT", "0");
    e.put("SWITCHBOARD_P2P_STUN_ALT_PORT", "0");
    e.remove("DATABASE_URL"); // always the embedded database: the bench samples it
    // Every bench client connects from 127.0.0.1: per-address limits would turn the load into 429s.
    // The global cap on concurrent history reads stays at its default; the history bench reads in turn.
    for (String limit : List.of("MAX_CONNECTIONS_PER_ADDRESS", "HANDSHAKES_PER_ADDRESS_PER_SECOND", "HANDSHAKE_BURST",
        "HTTP_REQUESTS_PER_ADDRESS_PER_SECOND", "HTTP_BURST", "ROOM_LOADS_PER_ADDRESS_PER_SECOND", "ROOM_LOAD_BURST",
        "TURN_CREDENTIALS_PER_ADDRESS_PER_MINUTE", "TURN_CREDENTIAL_BURST")) {
      e.put("SWITCHBOARD_LIMITS_" + limit, "1000000");
    }
    e.putAll(env);
    process = pb.start();
    LOG.info("relay pid {}: ws 127.0.0.1:{} admin 127.0.0.1:{} pg 127.0.0.1:{} dir {}", process.pid(), port,
        adminPort, pgPort, dir);
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    long until = System.nanoTime() + 90_000_000_000L; // the first start unpacks Postgres
    while (System.nanoTime() < until) {
      if (!process.isAlive()) {
        throw new IllegalStateException("relay exited during start:\n" + tail(40));
      }
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(adminUrl() + "/ready"))
            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException ignored) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("relay not ready after 90 s:\n" + tail(40));
  }

  /** SIGKILL, no drain: what a crash or the OOM killer does. The embedded postmaster lives on. */
  void kill() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
      process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  Path dataDir() {
    return dataDir;
  }

  /**
   * The embedded Postgres's generated password ({@code <dataDir>/pg-password}: the relay allows SCRAM
   * logins only), or "" for a relay that does not lock its database down.
   */
  String pgPassword() {
    Path file = dataDir.resolve("pg-password");
    try {
      return Files.exists(file) ? Files.readString(file).trim() : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** How the bench reads the relay's own database (for what was stored). */
  PgConnectOptions databaseOptions() {
    return databaseOptions(pgPort, pgPassword());
  }

  static PgConnectOptions databaseOptions(int pgPort, String password) {
    PgConnectOptions o = new PgConnectOptions().setHost("127.0.0.1").setPort(pgPort).setUser("postgres")
        .setDatabase("postgres");
    return password.isEmpty() ? o : o.setPassword(password);
  }

  /** Stops the relay and starts it again on the same ports and data dir (its rooms are then cold). */
  void restart() throws Exception {
    stopProcess();
    start();
  }

  long pid() {
    return process == null ? -1 : process.pid();
  }

  boolean alive() {
    return process != null && process.isAlive();
  }

  String wsUrl() {
    return "ws://127.0.0.1:" + port + "/ws";
  }

  String httpUrl() {
    return "http://127.0.0.1:" + port;
  }

  String adminUrl() {
    return "http://127.0.0.1:" + adminPort;
  }

  Path pgDataDir() {
    return dataDir.resolve("pg");
  }

  /** The embedded postmaster's PID from {@code <dataDir>/pg/postmaster.pid}, or -1. */
  long postmasterPid() {
    try {
      List<String> lines = Files.readAllLines(pgDataDir().resolve("postmaster.pid"));
      return lines.isEmpty() ? -1 : Long.parseLong(lines.get(0).trim());
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
  }

  /** The postmaster's command line as the relay started it ({@code postmaster.opts}). */
  List<String> postmasterCommand() throws IOException {
    String opts = Files.readString(pgDataDir().resolve("postmaster.opts")).trim();
    List<String> out = new ArrayList<>();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"([^\"]*)\"|(\\S+)").matcher(opts);
    while (m.find()) {
      out.add(m.group(1) != null ? m.group(1) : m.group(2));
    }
    return out;
  }

  /** Starts the embedded Postgres again after the outage scenario stopped it. */
  void startPostgresAgain() throws Exception {
    List<String> cmd = new ArrayList<>();
    if ("root".equals(System.getProperty("user.name")) && Files.isExecutable(Path.of("/usr/bin/unshare"))) {
      cmd.add("unshare"); // Postgres refuses to run as root; the relay's library does the same
      cmd.add("-U");
    }
    cmd.addAll(postmasterCommand());
    restartedPostgres = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("postgres-restart.log").toFile())).start();
    long until = System.nanoTime() + 30_000_000_000L;
    while (System.nanoTime() < until) {
      if (!restartedPostgres.isAlive()) {
        throw new IllegalStateException("Postgres did not start again: "
            + Files.readString(dir.resolve("postgres-restart.log")));
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", pgPort), 500);
        return;
      } catch (IOException e) {
        Thread.sleep(50);
      }
    }
    throw new IllegalStateException("Postgres not listening 30 s after restart");
  }

  String tail(int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException | UncheckedIOException e) {
      return "(no log: " + e + ")";
    }
  }

  /** WARN/ERROR lines of the server log (at most {@code max}). */
  List<String> warnings(int max) {
    try (Stream<String> s = Files.lines(log)) {
      return s.filter(l -> l.contains(" WARN ") || l.contains(" ERROR ")).limit(max).toList();
    } catch (IOException | UncheckedIOException e) {
      return List.of();
    }
  }

  /** Copies the server log (e.g. next to the results; *.log is git-ignored). */
  void copyLog(Path to) {
    try {
      Files.copy(log, to, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      LOG.debug("cannot copy the server log: {}", e.toString());
    }
  }

  private void stopProcess() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroy(); // SIGTERM: the relay drains, writes what it sequenced, stops Postgres
      if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
        LOG.warn("relay {} did not exit 20 s after SIGTERM; killing it", process.pid());
        process.destroyForcibly();
        process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
      }
    }
    // a postmaster the bench started belongs to the bench: stop it if the relay did not
    if (restartedPostgres != null && restartedPostgres.isAlive()) {
      long pm = postmasterPid();
      if (pm > 0) {
        ProcessHandle.of(pm).ifPresent(ProcessHandle::destroy);
      }
      restartedPostgres.destroy();
      if (!restartedPostgres.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
        restartedPostgres.destroyForcibly();
      }
    }
  }

  @Override
  public void close() {
    closeQuietly();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException ignored) {
      // already shutting down
    }
  }

  private synchronized void closeQuietly() {
    try {
      stopProcess();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      if (process != null) {
        process.destroyForcibly();
      }
    }
    try (Stream<Path> s = Files.exists(dir) ? Files.walk(dir) : Stream.empty()) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      LOG.debug("cannot delete {}: {}", dir, e.toString());
    }
  }
}
