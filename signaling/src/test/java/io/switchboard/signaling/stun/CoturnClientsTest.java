package io.switchboard.signaling.stun;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * coturn's own STUN clients (Debian package {@code coturn}) against our server: an independent
 * implementation reading our bytes. Loopback has no NAT, so every behaviour must come out
 * endpoint-independent - anything else would be a wrong answer from us.
 */
class CoturnClientsTest extends StunTestBase {

  private static final Pattern REFLEXIVE = Pattern.compile("UDP reflexive addr: (\\S+):(\\d+)");
  private static final Pattern LOCAL = Pattern.compile("Local addr: : (\\S+):(\\d+)");
  private static final Pattern ORIGIN = Pattern.compile("Response origin: : (\\S+):(\\d+)");
  private static final Pattern OTHER = Pattern.compile("Other addr: : (\\S+):(\\d+)");

  @BeforeAll
  static void coturnInstalled() {
    for (String tool : List.of("turnutils_stunclient", "turnutils_natdiscovery")) {
      assertThat(Path.of("/usr/bin", tool))
        .as("%s missing: CI must `apt-get install -y coturn`", tool)
        .isExecutable();
    }
  }

  @Test
  void stunclientGetsItsReflexiveAddress() throws Exception {
    start(oneAddress());

    String out = run("turnutils_stunclient", "-p", String.valueOf(endpoint(0).getPort()), "127.0.0.1");

    // stunclient prints no local address; natdiscovery below does and is checked against it
    InetSocketAddress reflexive = first(REFLEXIVE, out);
    assertThat(reflexive.getHostString()).isEqualTo("127.0.0.1");
    assertThat(reflexive.getPort()).isBetween(ephemeralPorts()[0], ephemeralPorts()[1])
      .isNotIn(endpoint(0).getPort(), endpoint(1).getPort());
    // no OTHER-ADDRESS from a single-address server, so stunclient stops after one request
    assertThat(out).doesNotContain("RFC 5780", "error");
    assertThat(count("answered")).isEqualTo(1);
    assertThat(counted()).isEqualTo(1);
  }

  @Test
  void natdiscoveryFindsEndpointIndependentMappingAndFiltering() throws Exception {
    start(twoAddresses());
    InetSocketAddress a1p1 = endpoint(0);
    InetSocketAddress a1p2 = endpoint(1);
    InetSocketAddress a2p1 = endpoint(2);
    InetSocketAddress a2p2 = endpoint(3);

    String out = run("turnutils_natdiscovery", "-m", "-f", "-L", "127.0.0.1",
      "-p", String.valueOf(a1p1.getPort()), "127.0.0.1");

    assertThat(out)
      .contains("NAT with Endpoint Independent Mapping!", "NAT with Endpoint Independent Filtering!")
      .contains("No ALG: Mapped == XOR-Mapped")
      .doesNotContain("ALG detected", "error", "timeout", "Dependent");
    List<String> responses = responses(out);
    assertThat(responses).as("natdiscovery's responses in:%n%s", out).hasSize(4);
    // mapping test I: to A1:P1
    assertResponse(responses.get(0), a1p1, a2p2);
    // mapping test II: to A2:P1 (OTHER-ADDRESS's IP, primary port); Ca:Cp is then A1:P2
    assertResponse(responses.get(1), a2p1, a1p2);
    // filtering test I, then test II: CHANGE-REQUEST ip+port sent to A1:P1, answered from A2:P2
    assertResponse(responses.get(2), a1p1, a2p2);
    assertResponse(responses.get(3), a2p2, a2p2);
    assertThat(count("answered")).isEqualTo(4);
    assertThat(counted()).isEqualTo(4);
  }

  /** One RFC 5780 response as natdiscovery prints it: where it came from, OTHER-ADDRESS, mapping. */
  private static void assertResponse(String response, InetSocketAddress origin, InetSocketAddress other) {
    assertThat(first(ORIGIN, response)).as("RESPONSE-ORIGIN in%n%s", response).isEqualTo(origin);
    assertThat(first(OTHER, response)).as("OTHER-ADDRESS in%n%s", response).isEqualTo(other);
    assertThat(first(REFLEXIVE, response)).as("XOR-MAPPED-ADDRESS vs the client's socket in%n%s", response)
      .isEqualTo(first(LOCAL, response));
  }

  private static List<String> responses(String out) {
    String[] parts = out.split("RFC 5780 response \\d+");
    return List.of(parts).subList(1, parts.length);
  }

  private static InetSocketAddress first(Pattern pattern, String text) {
    Matcher m = pattern.matcher(text);
    assertThat(m.find()).as("%s in:%n%s", pattern, text).isTrue();
    return new InetSocketAddress(m.group(1), Integer.parseInt(m.group(2)));
  }

  private static int[] ephemeralPorts() throws IOException {
    // (Files.readString returns 1 byte of this /proc file on JDK 17)
    String[] range = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim().split("\\s+");
    return new int[] {Integer.parseInt(range[0]), Integer.parseInt(range[1])};
  }

  /**
   * Runs a coturn tool, killed after 15 s: turnutils_stunclient waits for an answer without a
   * timeout.
   */
  static String run(String... command) throws IOException, InterruptedException {
    Path output = Files.createTempFile("coturn-", ".out");
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
      boolean exited = process.waitFor(15, TimeUnit.SECONDS);
      if (!exited) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
      String text = Files.readString(output, StandardCharsets.UTF_8);
      assertThat(exited).as("%s finished within 15 s; output:%n%s", List.of(command), text).isTrue();
      assertThat(process.exitValue()).as("%s exit code; output:%n%s", List.of(command), text).isZero();
      return text;
    } finally {
      Files.deleteIfExists(output);
    }
  }
}
