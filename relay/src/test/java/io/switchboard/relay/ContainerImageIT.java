package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The image the build made (relay/pom.xml, profile {@code image}: deploy/image/base.sh, then Jib),
 * run as an operator runs it: podman with a real OCI runtime (runc), {@code --network=host} on
 * 127.0.0.1, a host folder as the {@code /data} volume. Needs root, podman and runc (CI installs
 * them, .ci/run); skips loudly without them, never under {@code CI=true}.
 */
class ContainerImageIT {
  private static final Path IMAGE = Path.of("target", "switchboard-image.tar");
  private static final int NOBODY = 65534;
  /** The project's clean-drain status (docs/operations.md): the JVM's for SIGTERM; 3 = messages unwritten. */
  private static final int CLEAN_SIGTERM_EXIT = 143;
  /** What the test gives the container: the heap must follow it (MaxRAMPercentage=50). */
  private static final long MEMORY_LIMIT = 768L << 20;

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final String name = "switchboard-it-" + UUID.randomUUID().toString().substring(0, 8);
  private Vertx vertx;
  private Path dir;
  private Path data;
  private Process container;

  @BeforeEach
  void setUp() throws IOException {
    requirePrerequisites();
    vertx = Vertx.vertx();
    dir = Files.createTempDirectory("switchboard-image");
    data = Files.createDirectory(dir.resolve("data"));
    // the image's user must own the volume, as with `chown 65534 DIR` in docs/operations.md
    UserPrincipalLookupService users = data.getFileSystem().getUserPrincipalLookupService();
    Files.setOwner(data, users.lookupPrincipalByName(Integer.toString(NOBODY)));
    Files.writeString(dir.resolve("containers.conf"), String.join("\n",
        // the NOTES.md settings: runc (crun fails on this kernel's hybrid cgroups), no systemd, and
        // rlimits a nested runtime may set
        "[containers]", "default_ulimits = [\"nofile=4096:4096\", \"nproc=4096:4096\"]",
        "[engine]", "runtime = \"runc\"", "cgroup_manager = \"cgroupfs\"", "events_logger = \"file\"", ""));
  }

  @AfterEach
  void tearDown() throws Exception {
    if (dir == null) {
      return;
    }
    podman("rm", "--force", "--time", "0", name);
    if (container != null) {
      container.waitFor(30, TimeUnit.SECONDS);
    }
    TestClient.sync(vertx.close(), 10);
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Test
  void theImageServesChatsDrainsOnSigtermAndKeepsWhatItAckedOnItsVolume() throws Exception {
    int port = RelayChildProcess.freePort();
    int adminPort = RelayChildProcess.freePort();
    long launched = System.nanoTime();
    container = run(port, adminPort);
    System.out.printf("container: image ready in %d ms (first start: initdb on the volume)%n",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - launched));

    // the JVM is PID 1 (so the signal reaches it) and nothing runs as root
    String top = podman("top", name, "pid", "user", "args");
    assertThat(top.lines().filter(l -> l.trim().startsWith("1 ")).findFirst().orElse(""))
        .contains("nobody").contains("/opt/java/bin/java").contains("-jar /app/switchboard.jar");
    assertThat(top.lines().skip(1).filter(l -> !l.isBlank())).allSatisfy(l -> assertThat(l).contains("nobody"));
    // Everything written went to the volume, as the image's user; the heap follows the memory limit
    try (Stream<Path> written = Files.list(data)) {
      assertThat(written.map(p -> p.getFileName().toString())).contains("pg", "secret", "pg-password");
    }
    assertThat(Files.getOwner(data.resolve("pg")).getName()).isIn("nobody", Integer.toString(NOBODY));
    double maxHeap = heapMax(adminPort);
    assertThat(maxHeap).as("MaxRAMPercentage=50 of a %d MB limit", MEMORY_LIMIT >> 20)
        .isBetween(0.4 * MEMORY_LIMIT, 0.55 * MEMORY_LIMIT);

    // a chat round trip through the container's port
    TestClient alice = TestClient.connect(vertx, port);
    TestClient bob = TestClient.connect(vertx, port);
    alice.hello();
    bob.hello();
    alice.join("image");
    bob.join("image");
    JsonObject ack = alice.sendMessage("image", "c0", "컨테이너 안녕");
    assertThat(ack.getBoolean("stored")).isTrue();
    JsonObject msg = bob.await("msg");
    assertThat(msg.getString("body")).isEqualTo("컨테이너 안녕");
    assertThat(msg.getLong("seq")).isEqualTo(ack.getLong("seq"));

    // a burst in flight, then SIGTERM to the container: every one acked stored:true, then 1001
    int burst = 40;
    for (int i = 1; i <= burst; i++) {
      alice.send(new JsonObject().put("t", "send").put("room", "image").put("cid", "c" + i).put("body", "b" + i));
    }
    long signalled = System.nanoTime();
    podman("kill", "--signal", "TERM", name);
    Set<String> stored = new HashSet<>(Set.of("c0"));
    while (stored.size() < burst + 1) {
      JsonObject f = alice.poll(Duration.ofSeconds(20));
      assertThat(f).as("acks before the close; stored " + stored.size() + "; skipped " + alice.skipped() + "\n" + log())
          .isNotNull();
      if ("ack".equals(f.getString("t"))) {
        assertThat(f.getBoolean("stored")).as("ack of " + f.getString("cid")).isTrue();
        stored.add(f.getString("cid"));
      }
    }
    assertThat(alice.awaitClose()).isTrue();
    assertThat(alice.closeCode()).isEqualTo((short) 1001);
    // shutdownGraceMs (10 s) + 5 s is what the docs tell orchestrators to allow
    assertThat(container.waitFor(15, TimeUnit.SECONDS)).as("the container exits after draining\n" + log()).isTrue();
    System.out.printf("container: drained and exited %d ms after SIGTERM%n",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - signalled));
    assertThat(container.exitValue()).as("clean drain, not 3 (unwritten)\n" + log()).isEqualTo(CLEAN_SIGTERM_EXIT);
    assertThat(log()).contains("relay stopped").doesNotContain("unclean shutdown");

    // the same volume in a new container: every acked message is there
    container = run(port, adminPort);
    HttpResponse<String> page = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + port + "/api/rooms/image/messages?limit=100")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(page.statusCode()).isEqualTo(200);
    JsonArray messages = new JsonObject(page.body()).getJsonArray("messages");
    Set<String> bodies = new HashSet<>();
    messages.forEach(m -> bodies.add(((JsonObject) m).getString("body")));
    assertThat(bodies).hasSize(burst + 1).contains("컨테이너 안녕", "b1", "b" + burst);
    podman("kill", "--signal", "TERM", name);
    assertThat(container.waitFor(15, TimeUnit.SECONDS)).isTrue();
    assertThat(container.exitValue()).isEqualTo(CLEAN_SIGTERM_EXIT);
  }

  /** {@code podman run} in the foreground: its exit status is the container's. */
  private Process run(int port, int adminPort) throws Exception {
    List<String> command = new ArrayList<>(podmanCommand());
    command.addAll(List.of("run", "--rm", "--name", name, "--network=host", "--memory", Long.toString(MEMORY_LIMIT),
        "--volume", data + ":/data",
        // host networking: loopback only, free ports, STUN on ephemeral ports
        "--env", "SWITCHBOARD_HOST=127.0.0.1", "--env", "SWITCHBOARD_PORT=" + port,
        "--env", "SWITCHBOARD_ADMIN_PORT=" + adminPort,
        "--env", "SWITCHBOARD_P2P_STUN_ADDRESSES=127.0.0.1", "--env", "SWITCHBOARD_P2P_STUN_PORT=0",
        "--env", "SWITCHBOARD_P2P_STUN_ALT_PORT=0",
        "oci-archive:" + IMAGE.toAbsolutePath()));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("container.log").toFile()));
    pb.environment().put("CONTAINERS_CONF", dir.resolve("containers.conf").toString());
    Process p = pb.start();
    try {
      await("container ready on :" + adminPort).atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
          .ignoreExceptionsInstanceOf(IOException.class)
          .until(() -> {
            assertThat(p.isAlive()).as("container exited; its log:\n" + log()).isTrue();
            return get(adminPort, "/ready").statusCode() == 200;
          });
      return p;
    } catch (RuntimeException | AssertionError e) {
      podman("rm", "--force", "--time", "0", name);
      throw e;
    }
  }

  private double heapMax(int adminPort) throws Exception {
    double sum = 0;
    for (String line : get(adminPort, "/metrics").body().split("\n")) {
      if (line.startsWith("jvm_memory_max_bytes{") && line.contains("area=\"heap\"")) {
        double v = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        sum += Math.max(v, 0); // pools without their own limit say -1
      }
    }
    return sum;
  }

  private HttpResponse<String> get(int adminPort, String path) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Its own storage under the test's folder: nothing left in the machine's podman state. */
  private List<String> podmanCommand() {
    return List.of("podman", "--root", dir.resolve("storage").toString(), "--runroot", dir.resolve("run").toString(),
        "--storage-driver", "overlay");
  }

  private String podman(String... args) throws Exception {
    List<String> command = new ArrayList<>(podmanCommand());
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("CONTAINERS_CONF", dir.resolve("containers.conf").toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("podman " + String.join(" ", args)).isTrue();
    return out;
  }

  private String log() throws IOException {
    Path log = dir.resolve("container.log");
    return Files.exists(log) ? Files.readString(log) : "";
  }

  private static void requirePrerequisites() {
    boolean root = "root".equals(System.getProperty("user.name"));
    boolean podman = Files.isExecutable(Path.of("/usr/bin/podman"));
    boolean runc = Files.isExecutable(Path.of("/usr/sbin/runc")) || Files.isExecutable(Path.of("/usr/bin/runc"));
    boolean image = Files.isRegularFile(IMAGE);
    if (root && podman && runc && image) {
      return;
    }
    String why = "ContainerImageIT needs root, podman, runc and " + IMAGE + " (built by `./mvnw package` where umoci "
        + "is installed: profile image) (root=" + root + ", podman=" + podman + ", runc=" + runc + ", image=" + image + ")";
    if ("true".equals(System.getenv("CI"))) {
      fail(why + "; CI must run it");
    }
    System.err.println("SKIPPED: " + why);
    org.junit.jupiter.api.Assumptions.abort(why);
  }
}
