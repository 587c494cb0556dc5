package io.switchboard.peer;

import static org.awaitility.Awaitility.await;

import java.io.File;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Debian's coturn ({@code turnserver}) on 127.0.0.1 only, with the TURN REST shared secret, its own
 * temp dir for the user db, pid and log (never /var/lib/turn), stopped by {@link #close()} and, should
 * the JVM die first, by a shutdown hook.
 */
final class Coturn implements AutoCloseable {
  static final String BINARY = "/usr/bin/turnserver";
  static final String REALM = "switchboard.test";

  final int port;
  final int minRelayPort;
  final int maxRelayPort;
  private final String secret;
  private final Path dir;
  private final Process process;
  private final Thread reaper;

  private Coturn(int port, int minRelayPort, String secret, Path dir, Process process, Thread reaper) {
    this.port = port;
    this.minRelayPort = minRelayPort;
    this.maxRelayPort = minRelayPort + 99;
    this.secret = secret;
    this.dir = dir;
    this.process = process;
    this.reaper = reaper;
  }

  static boolean isInstalled() {
    return new File(BINARY).canExecute();
  }

  /**
   * Skips the calling test, loudly, when the binary is missing; with {@code CI=true} a missing
   * binary fails the test instead.
   */
  static void assumeInstalled() {
    if (isInstalled()) {
      return;
    }
    String message = BINARY + " not found: install Debian's coturn package (apt-get install coturn) to run the TURN tests";
    if ("true".equals(System.getenv("CI"))) {
      Assertions.fail(message + " (CI=true: not skipping)");
    }
    System.err.println("SKIPPING TURN TEST: " + message);
    Assumptions.abort(message);
  }

  /** Starts coturn and waits until it answers a STUN Binding request. */
  static Coturn start() throws IOException {
    assumeInstalled();
    int port = Loopback.unusedUdpPort();
    int minRelayPort = 20_000 + 100 * ThreadLocalRandom.current().nextInt(90); // 20000-28999, 100 wide
    byte[] raw = new byte[16];
    new SecureRandom().nextBytes(raw);
    String secret = Base64.getEncoder().withoutPadding().encodeToString(raw).replace('+', 'x').replace('/', 'y');
    Path dir = Files.createTempDirectory("coturn-");
    List<String> command = new ArrayList<>(List.of(
        BINARY, "-n", "-v",
        "--listening-ip=127.0.0.1", "--listening-port=" + port,
        "--relay-ip=127.0.0.1",
        "--min-port=" + minRelayPort, "--max-port=" + (minRelayPort + 99),
        "--use-auth-secret", "--static-auth-secret=" + secret, "--realm=" + REALM,
        "--allow-loopback-peers",
        "--no-tls", "--no-dtls", "--no-tcp", "--no-cli",
        "--userdb=" + dir.resolve("turndb"),
        "--pidfile=" + dir.resolve("turnserver.pid"),
        "--log-file=stdout", "--simple-log"));
    Process process = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("turnserver.log").toFile())
        .start();
    Thread reaper = new Thread(process::destroyForcibly, "coturn-reaper");
    Runtime.getRuntime().addShutdownHook(reaper);
    Coturn coturn = new Coturn(port, minRelayPort, secret, dir, process, reaper);
    try {
      await("coturn answering STUN on 127.0.0.1:" + port)
          .atMost(Duration.ofSeconds(10))
          .pollInterval(Duration.ofMillis(50))
          .until(() -> {
            if (!process.isAlive()) {
              throw new IllegalStateException("turnserver exited " + process.exitValue() + ":\n" + coturn.log());
            }
            return coturn.answersBinding();
          });
    } catch (RuntimeException | Error e) {
      coturn.close();
      throw e;
    }
    return coturn;
  }

  String url() {
    return "turn:127.0.0.1:" + port + "?transport=udp";
  }

  /** TURN REST credentials: username {@code expiry:user}, password base64(HMAC-SHA1(secret, username)). */
  IceServer server(String user) {
    return serverWithSecret(user, secret);
  }

  IceServer serverWithSecret(String user, String secret) {
    String username = Instant.now().plus(Duration.ofHours(1)).getEpochSecond() + ":" + user;
    try {
      Mac mac = Mac.getInstance("HmacSHA1");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
      String password = Base64.getEncoder().encodeToString(mac.doFinal(username.getBytes(StandardCharsets.UTF_8)));
      return IceServer.turn(url(), username, password);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  String log() {
    try {
      return Files.readString(dir.resolve("turnserver.log"));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /** A real probe: one STUN Binding request (RFC 5389), answered by a Binding success response. */
  private boolean answersBinding() throws IOException {
    ByteBuffer request = ByteBuffer.allocate(20).putShort((short) 0x0001).putShort((short) 0).putInt(0x2112A442);
    byte[] transactionId = new byte[12];
    ThreadLocalRandom.current().nextBytes(transactionId);
    request.put(transactionId);
    try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      socket.setSoTimeout(200);
      socket.send(new DatagramPacket(request.array(), 20, new InetSocketAddress(InetAddress.getLoopbackAddress(), port)));
      DatagramPacket response = new DatagramPacket(new byte[1500], 1500);
      socket.receive(response);
      ByteBuffer r = ByteBuffer.wrap(response.getData(), 0, response.getLength());
      return response.getLength() >= 20 && r.getShort(0) == 0x0101;
    } catch (SocketTimeoutException e) {
      return false;
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    try {
      Runtime.getRuntime().removeShutdownHook(reaper);
    } catch (IllegalStateException e) {
      // shutting down already: the hook runs anyway
    }
    try (var files = Files.list(dir)) {
      for (Path p : files.toList()) {
        Files.deleteIfExists(p);
      }
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      // temp files; not worth failing a test over
    }
  }
}
