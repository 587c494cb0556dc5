package io.switchboard.signaling.turn;

import java.io.File;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Running {@code turn-config/run-coturn.sh} and coturn's tools from tests; everything on loopback. */
public final class TurnTestSupport {

  static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  static final String COTURN_MISSING = "coturn is not installed (turnserver and turnutils_uclient must be on PATH): "
    + "install Debian's coturn package (apt-get install coturn) to run the TURN tests";

  private TurnTestSupport() {
  }

  /** The repository's {@code turn-config/run-coturn.sh}, found from the module folder surefire runs in. */
  static Path script() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path script = dir.resolve("turn-config/run-coturn.sh");
      if (Files.isRegularFile(script)) {
        return script;
      }
    }
    throw new IllegalStateException("turn-config/run-coturn.sh not found above " + Path.of("").toAbsolutePath());
  }

  static boolean onPath(String command) {
    String path = System.getenv().getOrDefault("PATH", "");
    for (String dir : path.split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
        return true;
      }
    }
    return false;
  }

  static boolean coturnInstalled() {
    return onPath("turnserver") && onPath("turnutils_uclient");
  }

  /**
   * Skips the calling test (loudly, on stderr) when coturn is missing, but fails it when
   * {@code CI=true}: CI installs coturn, so its absence there is a broken pipeline, not a skip.
   */
  public static void requireCoturn() {
    if (coturnInstalled()) {
      return;
    }
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      fail(COTURN_MISSING + " (CI=true, so this is a failure, not a skip)");
    }
    System.err.println("!!! SKIPPING TURN TESTS: " + COTURN_MISSING);
    assumeTrue(false, COTURN_MISSING);
  }

  /** The environment without any inherited SWITCHBOARD_* setting, so the machine's can't leak in. */
  static Map<String, String> cleanEnv() {
    Map<String, String> env = new HashMap<>(System.getenv());
    env.keySet().removeIf(name -> name.startsWith("SWITCHBOARD_"));
    return env;
  }

  /** A loopback port free for both UDP and TCP right now. */
  static int freeUdpAndTcpPort() throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      try (ServerSocket tcp = new ServerSocket(0, 1, LOOPBACK);
           DatagramSocket udp = new DatagramSocket(new InetSocketAddress(LOOPBACK, tcp.getLocalPort()))) {
        return udp.getLocalPort();
      } catch (IOException udpTaken) {
        // try another
      }
    }
    throw new IOException("no free UDP+TCP port on loopback");
  }

  /**
   * The first of {@code count} consecutive loopback UDP ports that are free now, below Linux's
   * ephemeral range (32768+) so that clients' own sockets rarely collide with them.
   */
  static int freeUdpPortRange(int count) throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      int first = ThreadLocalRandom.current().nextInt(20_000, 32_000 - count);
      if (allUdpFree(first, count)) {
        return first;
      }
    }
    throw new IOException("no " + count + " consecutive free UDP ports on loopback");
  }

  private static boolean allUdpFree(int first, int count) {
    for (int port = first; port < first + count; port++) {
      try {
        new DatagramSocket(new InetSocketAddress(LOOPBACK, port)).close();
      } catch (IOException taken) {
        return false;
      }
    }
    return true;
  }

  record Result(int exitCode, String stdout, String stderr) {
  }

  /** Runs a command to completion, bounded; output goes through files so no pipe can fill up. */
  static Result run(Map<String, String> env, Path workDir, Duration timeout, List<String> command)
    throws IOException, InterruptedException {
    Path out = Files.createTempFile("turn-test-", ".out");
    Path err = Files.createTempFile("turn-test-", ".err");
    try {
      ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile())
        .redirectOutput(out.toFile()).redirectError(err.toFile());
      builder.environment().clear();
      builder.environment().putAll(env);
      Process process = builder.start();
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        stop(process);
        fail(command + " did not finish within " + timeout + "; output:\n" + Files.readString(out) + Files.readString(err));
      }
      return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  /** Stops a process and everything it started, and waits until they are gone. */
  static void stop(Process process) throws InterruptedException {
    List<ProcessHandle> descendants = process.descendants().toList();
    descendants.forEach(ProcessHandle::destroy);
    process.destroy();
    if (!process.waitFor(5, TimeUnit.SECONDS)) {
      descendants.forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      process.waitFor(5, TimeUnit.SECONDS);
    }
    for (ProcessHandle handle : descendants) {
      if (handle.isAlive()) {
        handle.destroyForcibly();
        try {
          handle.onExit().get(5, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
          fail("process " + handle.pid() + " outlived SIGKILL", e);
        }
      }
    }
  }
}
