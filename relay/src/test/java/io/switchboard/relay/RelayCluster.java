package io.switchboard.relay;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Relays in child JVMs (this module's test classpath) clustered on loopback against ONE Postgres
 * that this JVM runs (started the way a relay starts its embedded one), each given its
 * {@code DATABASE_URL}. Nodes can be killed with SIGKILL or stopped with SIGTERM.
 */
final class RelayCluster implements AutoCloseable {
  /** What Hazelcast asks for (the shaded jar carries them in its manifest). */
  static final List<String> HAZELCAST_JVM_FLAGS = List.of(
      "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
      "--add-opens", "java.base/java.lang=ALL-UNNAMED",
      "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-opens", "java.management/sun.management=ALL-UNNAMED",
      "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED");

  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();
  private final Path dir;
  private final SharedPostgres postgres;
  private final List<Node> nodes = new ArrayList<>();
  /** The {@code SWITCHBOARD_ADMIN_TOKEN} the tests started the relays with (null: none): sent with every request. */
  String adminToken;

  /** One relay process. */
  final class Node {
    final int index;
    final int port;
    final int adminPort;
    final int clusterPort;
    final Path dataDir;
    Process process;

    Node(int index, int port, int adminPort, int clusterPort, Path dataDir) {
      this.index = index;
      this.port = port;
      this.adminPort = adminPort;
      this.clusterPort = clusterPort;
      this.dataDir = dataDir;
    }

    JsonObject cluster() {
      return new JsonObject(get(adminPort, "/cluster").body());
    }

    /** The owner of each room by this node's view. */
    JsonObject owners(List<String> rooms) {
      HttpResponse<String> r = send(HttpRequest.newBuilder(uri(adminPort, "/cluster/owners"))
          .POST(HttpRequest.BodyPublishers.ofString(new JsonArray(new ArrayList<>(rooms)).encode())));
      if (r.statusCode() != 200) {
        throw new AssertionError("owners: " + r.statusCode() + " " + r.body());
      }
      return new JsonObject(r.body());
    }

    /** SIGSTOP: alive, sockets open, answering nothing, like a frozen VM or a long pause. */
    void freeze() throws IOException, InterruptedException {
      new ProcessBuilder("kill", "-STOP", Long.toString(process.pid())).inheritIO().start().waitFor();
    }

    void kill9() throws InterruptedException {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGTERM; the exit status once it is gone. */
    int sigterm() throws InterruptedException {
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw new AssertionError("relay " + index + " did not stop on SIGTERM; its log:\n" + log());
      }
      return process.exitValue();
    }

    String log() {
      try {
        return RelayChildProcess.log(dataDir);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  RelayCluster() throws IOException {
    dir = Files.createTempDirectory("switchboard-cluster");
    postgres = new SharedPostgres(dir);
  }

  /** The incarnation that holds {@code room}'s claim in the shared database, or null. */
  String claimOwner(String room) {
    var rows = TestClient.sync(postgres.database().pool().preparedQuery("SELECT owner FROM rooms WHERE name = $1")
        .execute(io.vertx.sqlclient.Tuple.of(room)), 10);
    return rows.size() == 0 ? null : rows.iterator().next().getString(0);
  }

  /** A pool on the shared database, for the tests' own queries. */
  io.vertx.sqlclient.Pool pool() {
    return postgres.database().pool();
  }

  String databaseUrl() {
    return postgres.url();
  }

  List<Node> nodes() {
    return nodes;
  }

  /**
   * Starts {@code count} more clustered relays at once, each listing every node so far and itself
   * as members, and returns when every one is ready.
   */
  List<Node> start(int count, Map<String, String> env) throws IOException {
    List<Node> started = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int index = nodes.size();
      Path data = dir.resolve("node" + index);
      Files.createDirectories(data);
      Node node = new Node(index, RelayChildProcess.freePort(), RelayChildProcess.freePort(),
          RelayChildProcess.freePort(), data);
      nodes.add(node);
      started.add(node);
    }
    String members = String.join(",", nodes.stream().map(n -> "127.0.0.1:" + n.clusterPort).toList());
    List<CompletableFuture<Void>> ready = new ArrayList<>();
    for (Node node : started) {
      Map<String, String> all = new HashMap<>(env);
      all.put("DATABASE_URL", postgres.url());
      all.put("SWITCHBOARD_CLUSTER_MEMBERS", members);
      all.put("SWITCHBOARD_CLUSTER_HOST", "127.0.0.1");
      all.put("SWITCHBOARD_CLUSTER_PORT", Integer.toString(node.clusterPort));
      ready.add(CompletableFuture.runAsync(() -> {
        try {
          node.process = startProcess(node.dataDir, node.port, node.adminPort, all, List.of());
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }));
    }
    CompletableFuture.allOf(ready.toArray(CompletableFuture[]::new)).join();
    return started;
  }

  /** A relay child JVM as the tests start them: P2P off, loopback, this module's classpath. */
  Process startProcess(Path dataDir, int port, int adminPort, Map<String, String> env, List<String> extraJvmFlags)
      throws IOException {
    String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Map<String, String> all = new HashMap<>(env);
    all.putIfAbsent("SWITCHBOARD_P2P_ENABLED", "false");
    List<String> jvm = new ArrayList<>(List.of("-Xmx192m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"));
    jvm.addAll(HAZELCAST_JVM_FLAGS);
    jvm.addAll(extraJvmFlags);
    jvm.addAll(List.of("-cp", classpath, Main.class.getName()));
    return RelayChildProcess.start(jvm, dataDir, port, adminPort, all, http, Duration.ofSeconds(60));
  }

  Path dir() {
    return dir;
  }

  HttpResponse<String> get(int port, String path) {
    return send(HttpRequest.newBuilder(uri(port, path)));
  }

  /** A request with a JSON body (null: none), e.g. to {@code /api/admin/} on a relay's public port. */
  HttpResponse<String> request(String method, int port, String path, String json) {
    return send(HttpRequest.newBuilder(uri(port, path)).method(method, json == null
        ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json)));
  }

  private static URI uri(int port, String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  /** With the relays' {@code adminToken} when they were started with one. */
  private HttpResponse<String> send(HttpRequest.Builder request) {
    if (adminToken != null) {
      request.header("Authorization", "Bearer " + adminToken);
    }
    try {
      return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() throws IOException {
    for (Node node : nodes) {
      if (node.process != null && node.process.isAlive()) {
        try {
          node.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
    postgres.close();
  }
}
