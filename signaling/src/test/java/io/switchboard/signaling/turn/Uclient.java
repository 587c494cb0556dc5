package io.switchboard.signaling.turn;

import org.awaitility.core.ConditionTimeoutException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.awaitility.Awaitility.await;

/**
 * coturn's test client {@code turnutils_uclient} in client-to-client mode ({@code -y}): two
 * clients each allocate a relay on the server and send each other messages through the two
 * relays ({@code -c}: no RTCP pair). Everything on 127.0.0.1.
 *
 * <p>uclient waits a random 1–6 s before sending its first message, so {@link #allocate} stops it
 * as soon as it has printed a relayed address — which it only does for an Allocate success
 * response whose MESSAGE-INTEGRITY it verified with our password.
 */
final class Uclient {

  /** Printed ({@code -v}) for an authenticated Allocate success response. */
  static final String ALLOCATED = "Received relay addr";
  private static final Pattern TOTALS = Pattern.compile("tot_send_msgs=(\\d+), tot_recv_msgs=(\\d+)\\s*$", Pattern.MULTILINE);

  /**
   * @param exitCode uclient's exit code, or {@code -1} when we stopped it after the allocation
   */
  record Outcome(boolean allocated, int exitCode, String output) {

    /** uclient gave up without an allocation: it exits 255 when the server refuses (401 or 400). */
    boolean refused() {
      return !allocated && exitCode == 255;
    }

    /** Messages sent and received by both clients, from uclient's final totals line. */
    long[] totals() {
      Matcher matcher = TOTALS.matcher(output);
      long[] last = null;
      while (matcher.find()) {
        last = new long[] {Long.parseLong(matcher.group(1)), Long.parseLong(matcher.group(2))};
      }
      return last;
    }
  }

  private Uclient() {
  }

  /** Allocates (over TCP when {@code tcp}) and stops there; or returns how uclient failed. */
  static Outcome allocate(Coturn coturn, String username, String password, boolean tcp) throws Exception {
    return run(coturn, username, password, tcp, 0, true, Duration.ofSeconds(10));
  }

  /** Allocates and relays one message each way, to uclient's own exit. */
  static Outcome relay(Coturn coturn, String username, String password) throws Exception {
    return run(coturn, username, password, false, 1, false, Duration.ofSeconds(20));
  }

  private static Outcome run(Coturn coturn, String username, String password, boolean tcp, int messages,
                             boolean stopOnceAllocated, Duration bound) throws Exception {
    List<String> command = new ArrayList<>(List.of("turnutils_uclient", "-v", "-y", "-c",
      "-n", Integer.toString(messages), "-m", "1", "-u", username, "-w", password,
      "-p", Integer.toString(coturn.port())));
    if (tcp) {
      command.add("-t");
    }
    command.add("127.0.0.1");
    Path output = Files.createTempFile("uclient-", ".out");
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
      boolean stoppedByUs = false;
      try {
        await("uclient " + String.join(" ", command))
          .atMost(bound)
          .pollDelay(Duration.ZERO)
          .pollInterval(Duration.ofMillis(20))
          .until(() -> !process.isAlive() || (stopOnceAllocated && read(output).contains(ALLOCATED)));
      } catch (ConditionTimeoutException hung) {
        throw new AssertionError(hung.getMessage() + "\n--- uclient output ---\n" + read(output), hung);
      } finally {
        if (process.isAlive()) {
          stoppedByUs = true;
          TurnTestSupport.stop(process);
        }
      }
      String text = read(output);
      return new Outcome(text.contains(ALLOCATED), stoppedByUs ? -1 : process.exitValue(), text);
    } finally {
      Files.deleteIfExists(output);
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
