package io.switchboard.signaling.turn;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import static io.switchboard.signaling.turn.TurnTestSupport.LOOPBACK;
import static org.awaitility.Awaitility.await;

/**
 * A real coturn started through {@code turn-config/run-coturn.sh}, listening and relaying on
 * 127.0.0.1 only, with a free port and a relay range of {@value #RELAY_PORTS} ports.
 *
 * <p>Why so many relay ports: a {@code turnutils_uclient -y} run takes about five (three
 * allocations, some with a reserved port pair), and one that {@link Uclient#allocate} stops early
 * never releases them — they stay taken until their lifetime runs out, long after the test.
 * Twenty ports ran out after four such runs ({@code 508 Cannot create socket}).
 */
public final class Coturn implements AutoCloseable {

  static final int RELAY_PORTS = 100;

  private final Process process;
  private final Path log;
  private final Path runDir;
  private final int port;

  private Coturn(Process process, Path log, Path runDir, int port) {
    this.process = process;
    this.log = log;
    this.runDir = runDir;
    this.port = port;
  }

  /**
   * Starts coturn with the secret in {@code <dataDir>/turn-secret} and returns once it answers a
   * STUN Binding request over UDP and accepts TCP connections. Shared with the relay's tests through
   * this module's test jar.
   *
   * @param extraTurnserverArgs passed after {@code --} to the script, which hands them to turnserver
   */
  public static Coturn start(Path dataDir, boolean localTesting, String... extraTurnserverArgs) throws Exception {
    int port = TurnTestSupport.freeUdpAndTcpPort();
    int minPort = TurnTestSupport.freeUdpPortRange(RELAY_PORTS);
    Map<String, String> env = TurnTestSupport.cleanEnv();
    env.put("SWITCHBOARD_DATA_DIR", dataDir.toString());
    env.put("SWITCHBOARD_TURN_LOCAL_TESTING", localTesting ? "1" : "0");
    env.put("SWITCHBOARD_TURN_LISTEN_IP", "127.0.0.1");
    env.put("SWITCHBOARD_TURN_RELAY_IP", "127.0.0.1");
    env.put("SWITCHBOARD_TURN_PORT", Integer.toString(port));
    env.put("SWITCHBOARD_TURN_MIN_PORT", Integer.toString(minPort));
    env.put("SWITCHBOARD_TURN_MAX_PORT", Integer.toString(minPort + RELAY_PORTS - 1));

    List<String> command = new ArrayList<>(List.of("bash", TurnTestSupport.script().toString()));
    if (extraTurnserverArgs.length > 0) {
      command.add("--");
      command.addAll(Arrays.asList(extraTurnserverArgs));
    }
    Path log = Files.createTempFile(Files.createDirectories(dataDir.getParent()), "coturn-", ".log");
    ProcessBuilder builder = new ProcessBuilder(command).directory(dataDir.getParent().toFile())
      .redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().clear();
    builder.environment().putAll(env);
    Coturn coturn = new Coturn(builder.start(), log, dataDir.resolve("coturn"), port);
    try {
      await("coturn answering on 127.0.0.1:" + port)
        .atMost(Duration.ofSeconds(10))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(20))
        .failFast("coturn exited before it was ready", () -> !coturn.process.isAlive())
        .until(() -> answersStunBinding(port) && acceptsTcp(port));
    } catch (Throwable notReady) {
      String output = coturn.log();
      coturn.close();
      throw new AssertionError(notReady.getMessage() + "\n--- coturn output ---\n" + output, notReady);
    }
    return coturn;
  }

  public int port() {
    return port;
  }

  Path runDir() {
    return runDir;
  }

  long pid() {
    return process.pid();
  }

  String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Stops coturn (SIGTERM, then SIGKILL after 5 s) and waits until it is gone. */
  @Override
  public void close() {
    try {
      TurnTestSupport.stop(process);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      throw new IllegalStateException("interrupted while stopping coturn", e);
    }
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** An RFC 5389 Binding request; true when a Binding success response with our transaction id comes back. */
  private static boolean answersStunBinding(int port) {
    byte[] transactionId = new byte[12];
    ThreadLocalRandom.current().nextBytes(transactionId);
    ByteBuffer request = ByteBuffer.allocate(20).putShort((short) 0x0001).putShort((short) 0).putInt(0x2112A442)
      .put(transactionId);
    try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0))) {
      socket.setSoTimeout(200);
      socket.send(new DatagramPacket(request.array(), 20, LOOPBACK, port));
      DatagramPacket response = new DatagramPacket(new byte[1500], 1500);
      socket.receive(response);
      if (response.getLength() < 20) {
        return false;
      }
      ByteBuffer in = ByteBuffer.wrap(response.getData(), 0, response.getLength());
      byte[] echoed = Arrays.copyOfRange(response.getData(), 8, 20);
      return in.getShort(0) == 0x0101 && in.getInt(4) == 0x2112A442 && Arrays.equals(echoed, transactionId);
    } catch (IOException notYet) {
      return false;
    }
  }

  private static boolean acceptsTcp(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(LOOPBACK, port), 200);
      return true;
    } catch (IOException notYet) {
      return false;
    }
  }
}
