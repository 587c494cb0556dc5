package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shaded jar as operators run it: unclustered it never loads a Hazelcast class; clustered it
 * needs no JVM flags (its manifest opens what Hazelcast asks for).
 */
class ClusterJarIT {
  private static final Path JAR = Path.of("target", "switchboard.jar");
  private static RelayCluster cluster;

  @BeforeAll
  static void start() throws Exception {
    cluster = new RelayCluster();
  }

  @AfterAll
  static void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static Process jar(Path data, int adminPort, Map<String, String> env, String... jvmFlags) throws Exception {
    List<String> args = new java.util.ArrayList<>(List.of("-Xms32m", "-Xmx1g"));
    args.addAll(List.of(jvmFlags));
    args.addAll(List.of("-jar", JAR.toString()));
    return RelayChildProcess.start(args, data, RelayChildProcess.freePort(), adminPort, env, cluster.http,
        java.time.Duration.ofSeconds(60));
  }

  @Test
  void theReadmeRunCommandNotClusteredLoadsNoHazelcastClass() throws Exception {
    Path data = Files.createDirectories(cluster.dir().resolve("single"));
    Path classes = data.resolve("classes.log");
    int adminPort = RelayChildProcess.freePort();
    long launched = System.nanoTime();
    Process p = jar(data, adminPort, Map.of("SWITCHBOARD_P2P_ENABLED", "false"),
        "-Xlog:class+load=info:file=" + classes);
    try {
      System.out.printf("cluster: unclustered jar ready in %d ms%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - launched));
      JsonObject view = new JsonObject(cluster.get(adminPort, "/cluster").body());
      assertThat(view.getBoolean("clustered")).isFalse();
      assertThat(view.getInteger("size")).isEqualTo(1);
      String loaded = Files.readString(classes);
      // the log does list what was loaded, the relay's own cluster view among it
      assertThat(loaded).contains("io.switchboard.relay.cluster.ClusterView ");
      assertThat(loaded).doesNotContain("com.hazelcast").doesNotContain("io.vertx.spi.cluster.hazelcast");
    } finally {
      p.destroy();
      p.waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void aClusteredJarNeedsNoJvmFlags() throws Exception {
    Path data = Files.createDirectories(cluster.dir().resolve("clustered"));
    int adminPort = RelayChildProcess.freePort();
    String member = "127.0.0.1:" + RelayChildProcess.freePort();
    long launched = System.nanoTime();
    Process p = jar(data, adminPort, Map.of("SWITCHBOARD_P2P_ENABLED", "false", "DATABASE_URL", cluster.databaseUrl(),
        "SWITCHBOARD_CLUSTER_MEMBERS", member, "SWITCHBOARD_CLUSTER_PORT", member.substring(member.indexOf(':') + 1)));
    try {
      System.out.printf("cluster: clustered jar (1 member) ready in %d ms%n",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - launched));
      JsonObject view = new JsonObject(cluster.get(adminPort, "/cluster").body());
      assertThat(view.getBoolean("clustered")).isTrue();
      assertThat(view.getJsonArray("members").getJsonObject(0).getInteger("adminPort")).isEqualTo(adminPort);
      // Hazelcast warns when it lacks the --add-opens it wants
      assertThat(RelayChildProcess.log(data)).doesNotContain("add-opens").doesNotContain("--add-exports");
    } finally {
      p.destroy();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(p.exitValue()).as(RelayChildProcess.log(data)).isEqualTo(ClusterTest.CLEAN_SIGTERM_EXIT);
  }
}
