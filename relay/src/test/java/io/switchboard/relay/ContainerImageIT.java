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
import java.util.Map;
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

    // tini is PID 1 with the JVM its child (the drain below shows the signal reaches it), and
    // nothing runs as root
    String top = podmanOk("top", name, "pid", "ppid", "user", "args");
    assertThat(top.lines().filter(l -> l.trim().startsWith("1 ")).findFirst().orElse(""))
        .contains("nobody").contains("/bin/tini -- /opt/java/bin/java");
    assertThat(top.lines().filter(l -> l.contains("/opt/java/bin/java") && !l.contains("tini")).toList())
        .singleElement().satisfies(l -> assertThat(l.trim().split("\\s+")[1]).as("the JVM's parent").isEqualTo("1"));
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

    // pg_ctl leaves the postmaster to PID 1: killed, it must be reaped (a JVM as PID 1 never did,
    // and its zombie's pid in postmaster.pid kept every restart from starting) and replaced
    long postmaster = postmasterPid();
    assertThat(postmaster).as(podmanOk("top", name, "hpid", "args")).isPositive();
    assertThat(ProcessHandle.of(postmaster).orElseThrow().destroyForcibly()).isTrue();
    await("a new postmaster").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
        .until(() -> {
          long now = postmasterPid();
          return now > 0 && now != postmaster;
        });
    alice.send(new JsonObject().put("t", "send").put("room", "image").put("cid", "k").put("body", "after the kill"));
    assertThat(alice.await(f -> "ack".equals(f.getString("t")) && "k".equals(f.getString("cid")) && f.getBoolean("stored")))
        .isNotNull();

    // a burst in flight, then SIGTERM to the container: every one acked stored:true, then 1001
    int burst = 40;
    for (int i = 1; i <= burst; i++) {
      alice.send(new JsonObject().put("t", "send").put("room", "image").put("cid", "c" + i).put("body", "b" + i));
    }
    long signalled = System.nanoTime();
    podmanOk("kill", "--signal", "TERM", name);
    Set<String> stored = new HashSet<>(Set.of("c0", "k"));
    while (stored.size() < burst + 2) {
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
    assertThat(bodies).hasSize(burst + 2).contains("컨테이너 안녕", "after the kill", "b1", "b" + burst);
    podmanOk("kill", "--signal", "TERM", name);
    assertThat(container.waitFor(15, TimeUnit.SECONDS)).isTrue();
    assertThat(container.exitValue()).isEqualTo(CLEAN_SIGTERM_EXIT);
  }

  /**
   * deploy/Dockerfile's final stage, verbatim, built by podman (buildah) from what its build stage
   * makes: rootfs.sh's file system (the Jib base's one layer) and the shaded jar. Its build stage
   * needs a registry (node:20-bookworm) and is not run here.
   */
  @Test
  void theDockerfileBuildsTheSameImageAsJib() throws Exception {
    Path ctx = Files.createDirectories(dir.resolve("dockerfile/ctx"));
    Path rootfs = Files.createDirectories(ctx.resolve("rootfs"));
    Path jib = Files.createDirectories(dir.resolve("jib"));
    exec("tar", "-xf", IMAGE.toAbsolutePath().toString(), "-C", jib.toString());
    Path base = Files.createDirectories(dir.resolve("base"));
    exec("tar", "-xf", Path.of("target", "image", "base.tar").toAbsolutePath().toString(), "-C", base.toString());
    JsonArray baseLayers = new JsonArray(Files.readString(base.resolve("manifest.json"))).getJsonObject(0).getJsonArray("Layers");
    assertThat(baseLayers).as("the base is rootfs.sh's file system in one layer").hasSize(1);
    exec("tar", "-xpf", base.resolve(baseLayers.getString(0)).toString(), "-C", rootfs.toString());
    Files.createDirectories(ctx.resolve("src/relay/target"));
    Files.copy(Path.of("target", "switchboard.jar"), ctx.resolve("src/relay/target/switchboard.jar"));

    String dockerfile = Files.readString(Path.of("..", "deploy", "Dockerfile"));
    String finalStage = dockerfile.substring(dockerfile.lastIndexOf("\nFROM scratch") + 1);
    assertThat(finalStage).contains("COPY --from=build /rootfs/ /").contains("/src/relay/target/switchboard.jar");
    Path containerfile = Files.writeString(dir.resolve("dockerfile/Containerfile"), finalStage);
    // no stage named build in it: the named context stands in for the build stage's file system
    podmanOk("build", "-q", "-f", containerfile.toString(), "--build-context", "build=" + ctx, "-t", name,
        dir.resolve("dockerfile").toString());
    JsonObject built = new JsonArray(podmanOk("image", "inspect", name)).getJsonObject(0).getJsonObject("Config");

    JsonObject index = new JsonObject(Files.readString(jib.resolve("index.json")));
    JsonObject manifest = new JsonObject(Files.readString(blob(jib, index.getJsonArray("manifests").getJsonObject(0))));
    JsonObject config = new JsonObject(Files.readString(blob(jib, manifest.getJsonObject("config")))).getJsonObject("config");
    for (String key : List.of("Entrypoint", "User", "Env", "Volumes", "ExposedPorts", "WorkingDir")) {
      assertThat(built.getValue(key)).as(key).isEqualTo(config.getValue(key));
    }
    assertThat(config.getJsonArray("Entrypoint").getList()).startsWith("/bin/tini", "--", "/opt/java/bin/java");
    assertThat(config.getValue("Cmd")).as("nothing appended to the entrypoint").isNull();
    assertThat(built.getJsonObject("Labels").getMap()).containsAllEntriesOf(config.getJsonObject("Labels").getMap());
  }

  private static Path blob(Path layout, JsonObject descriptor) {
    return layout.resolve("blobs/sha256/" + descriptor.getString("digest").substring("sha256:".length()));
  }

  private static void exec(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", command) + ": " + out).isZero();
  }

  /**
   * The jlinked runtime has what a clustered relay loads (Hazelcast: JMX, scripting, …), with the
   * settings deploy/compose.yaml and the Kubernetes manifests give, on a shared external Postgres.
   */
  @Test
  void aClusteredRelayStartsInTheImage() throws Exception {
    try (SharedPostgres db = new SharedPostgres(Files.createDirectory(dir.resolve("shared")))) {
      int port = RelayChildProcess.freePort();
      int adminPort = RelayChildProcess.freePort();
      int clusterPort = RelayChildProcess.freePort();
      container = run(port, adminPort, Map.of("DATABASE_URL", db.url(),
          "SWITCHBOARD_CLUSTER_MEMBERS", "127.0.0.1:" + clusterPort, "SWITCHBOARD_CLUSTER_HOST", "127.0.0.1",
          "SWITCHBOARD_CLUSTER_PORT", Integer.toString(clusterPort),
          "SWITCHBOARD_CLUSTER_BUS_PORT", Integer.toString(RelayChildProcess.freePort())));
      JsonObject view = new JsonObject(get(adminPort, "/cluster").body());
      assertThat(view.getBoolean("clustered")).as(log()).isTrue();
      assertThat(view.getJsonArray("members").getJsonObject(0).getInteger("port")).isEqualTo(port);
      TestClient alice = TestClient.connect(vertx, port);
      alice.hello();
      alice.join("clustered");
      assertThat(alice.sendMessage("clustered", "x", "through the shared database").getBoolean("stored")).isTrue();
      try (Stream<Path> written = Files.list(data)) {
        assertThat(written.map(p -> p.getFileName().toString())).as("no embedded Postgres").doesNotContain("pg");
      }
      podmanOk("kill", "--signal", "TERM", name);
      assertThat(container.waitFor(20, TimeUnit.SECONDS)).isTrue();
      assertThat(container.exitValue()).as(log()).isEqualTo(CLEAN_SIGTERM_EXIT);
      assertThat(log()).doesNotContain("NoClassDefFoundError").doesNotContain("ClassNotFoundException")
          .doesNotContain("add-opens");
    }
  }

  private Process run(int port, int adminPort) throws Exception {
    return run(port, adminPort, Map.of());
  }

  /** {@code podman run} in the foreground: its exit status is the container's. */
  private Process run(int port, int adminPort, Map<String, String> env) throws Exception {
    List<String> command = new ArrayList<>(podmanCommand());
    command.addAll(List.of("run", "--rm", "--name", name, "--network=host", "--memory", Long.toString(MEMORY_LIMIT),
        "--volume", data + ":/data",
        // as deploy/kubernetes runs it: nothing written outside /data and /tmp, no capabilities
        "--read-only", "--cap-drop=ALL", "--security-opt", "no-new-privileges",
        // host networking: loopback only, free ports, STUN on ephemeral ports
        "--env", "SWITCHBOARD_HOST=127.0.0.1", "--env", "SWITCHBOARD_PORT=" + port,
        "--env", "SWITCHBOARD_ADMIN_PORT=" + adminPort,
        "--env", "SWITCHBOARD_P2P_STUN_ADDRESSES=127.0.0.1", "--env", "SWITCHBOARD_P2P_STUN_PORT=0",
        "--env", "SWITCHBOARD_P2P_STUN_ALT_PORT=0"));
    env.forEach((k, v) -> command.addAll(List.of("--env", k + "=" + v)));
    command.add("oci-archive:" + IMAGE.toAbsolutePath());
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

  /** The live postmaster's pid on the host (podman top's hpid), or -1. */
  private long postmasterPid() throws Exception {
    return podmanOk("top", name, "hpid", "args").lines()
        // a zombie has no command line left (podman shows "[postgres]"): only a live one matches
        .filter(l -> l.contains("/bin/postgres -D /data/pg"))
        .mapToLong(l -> Long.parseLong(l.trim().split("\\s+")[0]))
        .findFirst().orElse(-1);
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

  /**
   * Its own storage under the test's folder: nothing left in the machine's podman state. Overlay
   * (fast) unless that folder is itself on overlayfs (a CI runner's container), where only vfs works.
   */
  private List<String> podmanCommand() throws IOException {
    String driver = "overlay".equals(Files.getFileStore(dir).type()) ? "vfs" : "overlay";
    return List.of("podman", "--root", dir.resolve("storage").toString(), "--runroot", dir.resolve("run").toString(),
        "--storage-driver", driver);
  }

  private String podmanOk(String... args) throws Exception {
    return podman(true, args);
  }

  private String podman(String... args) throws Exception {
    return podman(false, args);
  }

  private String podman(boolean mustSucceed, String... args) throws Exception {
    List<String> command = new ArrayList<>(podmanCommand());
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("CONTAINERS_CONF", dir.resolve("containers.conf").toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("podman " + String.join(" ", args)).isTrue();
    if (mustSucceed) {
      assertThat(p.exitValue()).as("podman " + String.join(" ", args) + ": " + out).isZero();
    }
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
