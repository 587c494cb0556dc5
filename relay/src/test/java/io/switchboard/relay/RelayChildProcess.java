package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A relay in a child JVM, for tests that kill or signal it: loopback ports, settings in the
 * environment, its output appended to {@code <dataDir>/server.log}, started once {@code /ready} says so.
 */
final class RelayChildProcess {
  private RelayChildProcess() {
  }

  /**
   * @param jvmArgs what follows {@code java} (heap flags, then {@code -jar JAR} or {@code -cp CP MAIN})
   */
  static Process start(List<String> jvmArgs, Path dataDir, int port, int adminPort, Map<String, String> env,
      HttpClient http, Duration readyWithin) throws IOException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(jvmArgs);
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().put("SWITCHBOARD_HOST", "127.0.0.1");
    pb.environment().put("SWITCHBOARD_PORT", Integer.toString(port));
    pb.environment().put("SWITCHBOARD_ADMIN_HOST", "127.0.0.1");
    pb.environment().put("SWITCHBOARD_ADMIN_PORT", Integer.toString(adminPort));
    pb.environment().put("SWITCHBOARD_DATA_DIR", dataDir.toString());
    pb.environment().putAll(env);
    pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dataDir.resolve("server.log").toFile()));
    Process p = pb.start();
    try {
      await("relay ready on :" + adminPort).atMost(readyWithin).pollInterval(Duration.ofMillis(100))
          .ignoreExceptionsInstanceOf(IOException.class)
          .until(() -> {
            assertThat(p.isAlive()).as("relay exited; its log:\n" + log(dataDir)).isTrue();
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/ready")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
          });
      return p;
    } catch (RuntimeException | AssertionError e) {
      // never leave a half-started relay (and the Postgres it spawns) behind a failed test
      try {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
      throw e;
    }
  }

  static String log(Path dataDir) throws IOException {
    Path log = dataDir.resolve("server.log");
    return Files.exists(log) ? Files.readString(log) : "";
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
