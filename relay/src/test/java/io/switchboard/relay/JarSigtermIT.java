package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The README's run command, for real: the shaded jar on its embedded default, stopped by SIGTERM. */
class JarSigtermIT {
  private static final Path JAR = Path.of("target", "switchboard.jar");
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private Vertx vertx;
  private Path dataDir;
  private Process server;

  @BeforeEach
  void setUp() throws IOException {
    vertx = Vertx.vertx();
    dataDir = Files.createTempDirectory("switchboard-jar");
  }

  @AfterEach
  void tearDown() throws Exception {
    if (server != null && server.isAlive()) {
      server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    // Never leave a Postgres of this test's folder behind, whatever happened above.
    String folder = dataDir.toString();
    ProcessHandle.allProcesses()
        .filter(p -> p.info().commandLine().map(c -> c.contains(folder)).orElse(false))
        .forEach(p -> {
          p.destroy();
          p.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(e -> p).join();
        });
    TestClient.sync(vertx.close(), 10);
    try (Stream<Path> files = Files.walk(dataDir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Test
  void sigtermAcksEverythingPendingClosesWith1001AndTheDataSurvives() throws Exception {
    int port = freePort();
    int adminPort = freePort();
    server = start(port, adminPort);
    TestClient alice = TestClient.connect(vertx, port);
    alice.hello();
    alice.join("jar");
    for (int i = 0; i < 30; i++) {
      alice.send(new JsonObject().put("t", "send").put("room", "jar").put("cid", "j" + i).put("body", "편지 " + i));
    }
    // the relay answers frames in order: once the ping is answered, all 30 sends were taken (a send
    // still in the socket when the drain closes it was never the relay's to ack)
    alice.send(new JsonObject().put("t", "ping").put("id", 99));
    Set<String> stored = new HashSet<>();
    for (JsonObject f = alice.next(); !"pong".equals(f.getString("t")); f = alice.next()) {
      if ("ack".equals(f.getString("t")) && f.getBoolean("stored")) {
        stored.add(f.getString("cid"));
      }
    }
    server.destroy(); // SIGTERM

    while (stored.size() < 30) {
      JsonObject f = alice.poll(Duration.ofSeconds(20));
      assertThat(f).as("acks before the close; got " + stored.size() + "; skipped " + alice.skipped() + "\n" + log()).isNotNull();
      if ("ack".equals(f.getString("t")) && f.getBoolean("stored")) {
        stored.add(f.getString("cid"));
      }
    }
    assertThat(alice.awaitClose()).isTrue();
    assertThat(alice.closeCode()).isEqualTo((short) 1001);
    assertThat(server.waitFor(30, TimeUnit.SECONDS)).as("the JVM exits after draining").isTrue();

    server = start(port, adminPort);
    HttpResponse<String> page = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + port + "/api/rooms/jar/messages?limit=100")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(page.body()).getJsonArray("messages")).hasSize(30);
    server.destroy();
    assertThat(server.waitFor(30, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void aRelayKilledWithSigkillRestartsOnItsDataFolder() throws Exception {
    int port = freePort();
    int adminPort = freePort();
    server = start(port, adminPort);
    TestClient alice = TestClient.connect(vertx, port);
    alice.hello();
    alice.join("killed");
    assertThat(alice.sendMessage("killed", "k1", "before the kill").getBoolean("stored")).isTrue();
    server.destroyForcibly(); // SIGKILL: no hook runs, the embedded Postgres is orphaned
    assertThat(server.waitFor(10, TimeUnit.SECONDS)).isTrue();

    server = start(port, adminPort); // must take over the folder from the orphaned Postgres
    assertThat(log()).contains("from an earlier run still holds");
    HttpResponse<String> page = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + port + "/api/rooms/killed/messages")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(new JsonObject(page.body()).getJsonArray("messages")).hasSize(1);
    server.destroy();
    assertThat(server.waitFor(30, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void sigtermWithTheDatabaseFrozenSaysHowManyAreUnwrittenAndExitsNonZero() throws Exception {
    int port = freePort();
    server = start(port, freePort(), Map.of("SWITCHBOARD_SHUTDOWN_GRACE_MS", "1500"));
    TestClient alice = TestClient.connect(vertx, port);
    alice.hello();
    alice.join("frozen");
    assertThat(alice.sendMessage("frozen", "f0", "stored").getBoolean("stored")).isTrue();
    long pid = Long.parseLong(Files.readAllLines(dataDir.resolve("pg/postmaster.pid")).get(0).trim());
    ProcessHandle postmaster = ProcessHandle.of(pid).orElseThrow();
    // the whole server frozen (its backends serve the pool's connections): alive but not answering,
    // so nothing to restart, and the writes just wait
    List<ProcessHandle> frozen = Stream.concat(Stream.of(postmaster), postmaster.descendants()).toList();
    signal("STOP", frozen);
    try {
      for (int i = 1; i <= 5; i++) {
        alice.send(new JsonObject().put("t", "send").put("room", "frozen").put("cid", "f" + i).put("body", "b"));
      }
      alice.request(new JsonObject().put("t", "ping")); // frames are handled in order: all five are sequenced
      server.destroy(); // SIGTERM
      await().atMost(Duration.ofSeconds(20)).failFast(() -> !server.isAlive()).until(() -> log().contains("messages unwritten"));
    } catch (RuntimeException e) {
      System.err.println("SERVER LOG\n" + log());
      throw e;
    } finally {
      signal("CONT", frozen);
    }
    assertThat(server.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(log()).contains("unclean shutdown: 5 messages unwritten after 1500 ms");
    assertThat(server.exitValue()).as("not the clean drain's 143").isEqualTo(Main.EXIT_UNCLEAN_SHUTDOWN);
  }

  private static void signal(String signal, List<ProcessHandle> processes) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of("kill", "-" + signal));
    processes.forEach(p -> command.add(Long.toString(p.pid())));
    new ProcessBuilder(command).start().waitFor();
  }

  private Process start(int port, int adminPort) throws Exception {
    return start(port, adminPort, Map.of());
  }

  private Process start(int port, int adminPort, Map<String, String> env) throws Exception {
    assertThat(JAR).as("run `./mvnw package` first").exists();
    Map<String, String> all = new java.util.HashMap<>(Map.of("SWITCHBOARD_P2P_STUN_ADDRESSES", "127.0.0.1",
        "SWITCHBOARD_P2P_STUN_PORT", "0", "SWITCHBOARD_P2P_STUN_ALT_PORT", "0"));
    all.putAll(env);
    // the heap flags of the README's run command too: the jar must start and drain within them
    return RelayChildProcess.start(List.of("-Xms32m", "-Xmx1g", "-jar", JAR.toString()), dataDir, port, adminPort, all,
        http, Duration.ofSeconds(90));
  }

  private String log() throws IOException {
    return RelayChildProcess.log(dataDir);
  }

  private static int freePort() throws IOException {
    return RelayChildProcess.freePort();
  }
}
