package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Finding 1 of issue 12, for real: a relay process (this module's classpath, embedded Postgres)
 * fans messages out that it has not stored yet, is killed with SIGKILL, and restarts on the same
 * data folder. The seqs it had shown but not stored go to new messages; every client that applies
 * what the protocol tells it ({@code divergedAfter}) ends up holding, for each seq, the message
 * storage holds, and no cached history page is revalidated to stale content.
 */
class CrashRestartTest {
  private static final String ROOM = "crash";
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();
  private Vertx vertx;
  private Path dataDir;
  private Process server;
  private final List<TestClient> clients = new ArrayList<>();

  @BeforeEach
  void setUp() throws IOException {
    vertx = Vertx.vertx();
    dataDir = Files.createTempDirectory("switchboard-crash");
  }

  @AfterEach
  void tearDown() throws Exception {
    for (TestClient c : clients) {
      try {
        c.close();
      } catch (RuntimeException | AssertionError ignored) {
        // the server may have closed it
      }
    }
    if (server != null && server.isAlive()) {
      server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    // never leave a Postgres of this test's folder behind
    String folder = dataDir.toString();
    ProcessHandle.allProcesses()
        .filter(p -> p.info().commandLine().map(c -> c.contains(folder)).orElse(false))
        .forEach(p -> {
          p.destroy();
          p.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(e -> p).join();
        });
    TestClient.sync(vertx.close(), 10);
    try (Stream<Path> files = Files.walk(dataDir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Test
  void seqsShownButNotStoredBeforeAKill9AreNeverTwoMessagesToAClientThatAppliesDivergedAfter() throws Exception {
    int port = freePort();
    int adminPort = freePort();
    // a batch flushes at 5 messages and otherwise only after 10 minutes: the 11th and 12th stay unstored
    server = start(port, adminPort, Map.of("SWITCHBOARD_STORE_BATCH_MAX_MESSAGES", "5",
        "SWITCHBOARD_STORE_BATCH_MAX_DELAY_MS", "600000"));
    View alice = new View(connect(port, null, null));
    View bob = new View(connect(port, null, null));
    View carol = new View(connect(port, null, null));
    for (View v : List.of(alice, bob, carol)) {
      v.absorb(v.c.join(ROOM));
    }
    for (int i = 1; i <= 6; i++) {
      alice.c.send(send("a" + i, "from alice " + i, false));
      bob.c.send(send("b" + i, "from bob " + i, false));
    }
    // carol sees all 12, the senders each other's and their own stored ones (by ack); 10 are stored
    awaitHeld(carol, 12);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (alice.storedCids.size() + bob.storedCids.size() < 10 && System.nanoTime() < deadline) {
      settle(alice);
      settle(bob);
    }
    assertThat(alice.storedCids.size() + bob.storedCids.size()).isEqualTo(10);
    String epochBefore = carol.epoch;
    long storedBefore = 10;
    HttpResponse<String> cachedPage = get(port, "/api/rooms/" + ROOM + "/messages?before=12&limit=50");
    String cachedTag = cachedPage.headers().firstValue("etag").orElseThrow();
    assertThat(cachedPage.headers().firstValue("cache-control")).as("seq 11 is not stored yet: the page may change")
        .hasValue("no-cache");

    server.destroyForcibly(); // SIGKILL: no hook runs; the embedded Postgres is left orphaned
    assertThat(server.waitFor(10, TimeUnit.SECONDS)).isTrue();
    server = start(port, adminPort, Map.of()); // takes the folder over from the orphaned Postgres

    View dave = new View(connect(port, null, null));
    dave.absorb(dave.c.join(ROOM));
    for (int i = 1; i <= 3; i++) {
      assertThat(dave.absorb(dave.c.sendMessage(ROOM, "d" + i, "from dave " + i)).getBoolean("stored")).isTrue();
    }

    // carol (who saw all 12) resumes the legacy way, a bare number; alice with the epoch she was told
    carol.c = connect(port, carol.c.token(), new JsonObject().put(ROOM, carol.last()));
    resumed(carol, storedBefore);
    alice.c = connect(port, alice.c.token(),
        new JsonObject().put(ROOM, new JsonObject().put("seq", alice.last()).put("epoch", epochBefore)));
    resumed(alice, storedBefore);
    // bob resumes too; both senders resend from their outboxes what was never acked stored
    bob.c = connect(port, bob.c.token(), new JsonObject().put(ROOM, bob.last()));
    resumed(bob, storedBefore);
    for (View sender : List.of(alice, bob)) {
      String prefix = sender == alice ? "a" : "b";
      for (int i = 1; i <= 6; i++) {
        if (!sender.storedCids.contains(prefix + i)) {
          sender.c.send(send(prefix + i, "resent " + prefix + i, true));
        }
      }
    }
    await("every outbox empty").atMost(Duration.ofSeconds(10)).until(() -> {
      settle(alice);
      settle(bob);
      return alice.storedCids.size() == 6 && bob.storedCids.size() == 6;
    });

    JsonArray stored = new JsonObject(get(port, "/api/rooms/" + ROOM + "/messages?limit=100").body())
        .getJsonArray("messages");
    Map<Long, String> truth = new TreeMap<>();
    Map<String, Long> seqOf = new HashMap<>();
    for (int i = 0; i < stored.size(); i++) {
      JsonObject m = stored.getJsonObject(i);
      assertThat(truth.put(m.getLong("seq"), key(m.getString("from"), m.getString("cid")))).isNull();
      assertThat(seqOf.put(key(m.getString("from"), m.getString("cid")), m.getLong("seq")))
          .as("each message stored once").isNull();
    }
    long head = truth.isEmpty() ? 0 : ((TreeMap<Long, String>) truth).lastKey();
    for (View v : List.of(alice, carol, bob, dave)) {
      awaitHeld(v, head);
      for (Map.Entry<Long, String> held : v.held.entrySet()) {
        assertThat(held.getValue()).as("seq " + held.getKey() + " as a client holds it, against storage "
            + truth + "; the client holds " + v.held).isEqualTo(truth.get(held.getKey()));
      }
    }
    for (int i = 1; i <= 6; i++) {
      assertThat(seqOf).containsKeys(key(alice.c.user(), "a" + i), key(bob.c.user(), "b" + i));
    }

    HttpResponse<String> revalidated = get(port, "/api/rooms/" + ROOM + "/messages?before=12&limit=50",
        "If-None-Match", cachedTag);
    if (revalidated.statusCode() == 304) {
      JsonArray now = new JsonObject(get(port, "/api/rooms/" + ROOM + "/messages?before=12&limit=50").body())
          .getJsonArray("messages");
      assertThat(now).as("a 304 for " + cachedTag + " says the content did not change")
          .isEqualTo(new JsonObject(cachedPage.body()).getJsonArray("messages"));
    }
  }

  /** What one client holds of the room, applying every frame as the protocol says. */
  private static final class View {
    TestClient c;
    final Map<Long, String> held = new TreeMap<>();
    final java.util.Set<String> storedCids = new java.util.HashSet<>();
    String epoch;

    View(TestClient c) {
      this.c = c;
    }

    JsonObject absorb(JsonObject f) {
      switch (f.getString("t")) {
        case "joined" -> {
          epoch = f.getString("epoch");
          Long diverged = f.getLong("divergedAfter");
          if (diverged != null) {
            held.keySet().removeIf(seq -> seq > diverged);
          }
        }
        case "msg" -> held.put(f.getLong("seq"), key(f.getString("from"), f.getString("cid")));
        case "ack" -> {
          held.put(f.getLong("seq"), key(c.user(), f.getString("cid")));
          if (f.getBoolean("stored")) {
            storedCids.add(f.getString("cid"));
          }
        }
        default -> { }
      }
      return f;
    }

    long last() {
      return held.isEmpty() ? 0 : ((TreeMap<Long, String>) held).lastKey();
    }
  }

  private static void awaitHeld(View v, long seq) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!v.held.containsKey(seq)) {
      JsonObject f = v.c.poll(Duration.ofMillis(Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
      assertThat(f).as(v.c.user() + " never got seq " + seq + "; holds " + v.held).isNotNull();
      v.absorb(f);
    }
  }

  /** Reads a resumed room's joined and replay; a client holding seqs past what was stored must be told. */
  private static void resumed(View v, long storedBefore) {
    long held = v.last();
    String epochBefore = v.epoch;
    JsonObject joined = v.absorb(v.c.await("joined"));
    if (held > storedBefore) {
      assertThat(joined.getLong("divergedAfter")).as(v.c.user() + " holds seqs up to " + held + ", past the "
          + storedBefore + " stored: " + joined).isNotNull().isLessThanOrEqualTo(storedBefore);
      assertThat(joined.getBoolean("recovered")).isFalse();
    }
    assertThat(joined.getString("epoch")).isNotEqualTo(epochBefore);
    awaitHeld(v, joined.getLong("head"));
  }

  /** Absorbs whatever arrives until the client has been quiet for a moment. */
  private static void settle(View v) {
    JsonObject f;
    while ((f = v.c.poll(Duration.ofMillis(200))) != null) {
      v.absorb(f);
    }
  }

  private static String key(String from, String cid) {
    return from + "/" + cid;
  }

  private static JsonObject send(String cid, String body, boolean resend) {
    JsonObject f = new JsonObject().put("t", "send").put("room", ROOM).put("cid", cid).put("body", body);
    return resend ? f.put("resend", true) : f;
  }

  private TestClient connect(int port, String token, JsonObject resume) {
    TestClient c = TestClient.connect(vertx, port);
    clients.add(c);
    c.hello(token, resume);
    return c;
  }

  private HttpResponse<String> get(int port, String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The relay's Main in a child JVM on this test's classpath, with its settings in the environment. */
  private Process start(int port, int adminPort, Map<String, String> env) throws Exception {
    String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Map<String, String> all = new java.util.HashMap<>(env);
    all.putIfAbsent("SWITCHBOARD_P2P_ENABLED", "false");
    return RelayChildProcess.start(List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", classpath, Main.class.getName()),
        dataDir, port, adminPort, all, http, Duration.ofSeconds(60));
  }

  private String log() throws IOException {
    return RelayChildProcess.log(dataDir);
  }

  private static int freePort() throws IOException {
    return RelayChildProcess.freePort();
  }
}
