package io.switchboard.natlab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Bad input, the expected matrix's shape and natdiscovery parsing (no root needed). */
class CliTest {

  private static String stderrOf(String... argv) {
    PrintStream old = System.err;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      assertThat(Main.run(argv)).as("exit code of natlab %s", String.join(" ", argv)).isEqualTo(2);
    } finally {
      System.setErr(old);
    }
    return buf.toString(StandardCharsets.UTF_8);
  }

  @Test
  void unknownNatTypesAndCommandsAreRefusedWithTheValidNames() {
    assertThat(stderrOf("run", "full-cone", "carrier-grade"))
        .contains("unknown NAT type 'carrier-grade'; valid names: none, full-cone, restricted-cone, port-restricted, symmetric, udp-blocked");
    assertThat(stderrOf("run", "full-cone")).contains("run takes two NAT types");
    assertThat(stderrOf("matrix", "--pairs", "full-cone:dual-stack")).contains("unknown NAT type 'dual-stack'");
    assertThat(stderrOf("teleport")).contains("unknown command 'teleport'").contains("usage: natlab list");
    assertThat(stderrOf("matrix", "--json")).contains("--json needs a value");
  }

  @Test
  void browserPeersRunTheNodeScriptWithTheSameContractAndUnknownKindsAreRefused() {
    assertThat(Main.parse(new String[] {"matrix", "--peers", "browser"}).peers()).isEqualTo("browser");
    PeerKind kind = PeerKind.parse("browser", java.nio.file.Path.of("/x/nat-lab/target/natlab.jar"));
    assertThat(kind.name()).isEqualTo("browser");
    assertThat(kind.command(new PeerKind.Launch("ws://203.0.113.1:8080/ws", "r1", "a", "198.51.100.10", 20, 45_000, false)))
        .contains("/x/nat-lab/browser-peer/peer.mjs", "--relay", "ws://203.0.113.1:8080/ws", "--room", "r1", "--name", "a",
            "--host", "198.51.100.10", "--messages", "20", "--deadline-ms", "45000")
        .doesNotContain("--probe-only");
    assertThat(stderrOf("matrix", "--peers", "carrier-pigeon")).contains("unknown peer kind 'carrier-pigeon'; valid: java, browser");
  }

  @Test
  void theBrowserMatrixCoversEveryPairAndDiffersFromJavaOnlyWhereBrowsersDo() {
    Expected java = Expected.load();
    Expected browser = Expected.load("browser");
    assertThat(browser.size()).isEqualTo(21);
    for (NatType[] p : Main.allPairs()) {
      Expected.Pair b = browser.get(p[0], p[1]);
      Expected.Pair j = java.get(p[0], p[1]);
      assertThat(b).as("%s|%s", p[0], p[1]).isNotNull();
      boolean blocked = p[0] == NatType.UDP_BLOCKED || p[1] == NatType.UDP_BLOCKED;
      // TURN over TCP instead of the server relay; everything else ends where the Java peers end.
      assertThat(b.path()).as("%s|%s", p[0], p[1]).isEqualTo(blocked ? "turn" : j.path());
    }
    // The browser cannot measure filtering: port-restricted ↔ symmetric is steered direct and ends on TURN.
    assertThat(browser.get(NatType.PORT_RESTRICTED, NatType.SYMMETRIC).predicted()).isEqualTo("direct");
    assertThat(browser.expectedClass(NatType.SYMMETRIC)).isEqualTo("symmetric");
    assertThat(browser.expectedClass(NatType.FULL_CONE)).isEqualTo("cone");
    assertThat(java.expectedClass(NatType.FULL_CONE)).isEqualTo("full-cone");
  }

  @Test
  void theExpectedMatrixCoversEveryUnorderedPairOnce() {
    Expected expected = Expected.load();
    assertThat(expected.size()).isEqualTo(21);
    Set<String> paths = new HashSet<>();
    for (NatType[] p : Main.allPairs()) {
      Expected.Pair e = expected.get(p[0], p[1]);
      assertThat(e).as("%s|%s", p[0], p[1]).isNotNull();
      assertThat(expected.get(p[1], p[0])).isSameAs(e);
      paths.add(e.path());
      // Nothing is predicted direct that is expected to end elsewhere: a doomed direct attempt is steered past.
      assertThat(e.predicted()).isEqualTo(e.path());
    }
    assertThat(paths).containsExactlyInAnyOrder("direct", "turn", "relay");
    assertThat(expected.get(NatType.SYMMETRIC, NatType.SYMMETRIC).path()).isEqualTo("turn");
    assertThat(expected.get(NatType.SYMMETRIC, NatType.RESTRICTED_CONE).path()).isEqualTo("direct");
  }

  @Test
  void natdiscoveryOutputIsReadInRfc4787Terms() {
    String restricted = """
        -= Mapping Behavior Discovery =-
        NAT with Endpoint Independent Mapping!
        -= Filtering Behavior Discovery =-
        STUN receive timeout..
        NAT with Address Dependent Filtering!
        """;
    assertThat(Verify.mapping(restricted)).isEqualTo("endpoint-independent");
    assertThat(Verify.filtering(restricted)).isEqualTo("address-dependent");
    String symmetric = """
        -= Mapping Behavior Discovery =-
        NAT with Address and Port Dependent Mapping!
        -= Filtering Behavior Discovery =-
        NAT with Address and Port Dependent Filtering!
        """;
    assertThat(Verify.mapping(symmetric)).isEqualTo("address-and-port-dependent");
    assertThat(Verify.filtering(symmetric)).isEqualTo("address-and-port-dependent");
    String blocked = """
        -= Mapping Behavior Discovery =-
        STUN receive timeout..
        -= Filtering Behavior Discovery =-
        STUN receive timeout..
        """;
    assertThat(Verify.mapping(blocked)).isEqualTo(NatType.NO_UDP);
    assertThat(Verify.filtering(blocked)).isEqualTo(NatType.NO_UDP);
    assertThat(Verify.mapping("")).isEqualTo("-");
  }

  @Test
  void aPeerWithoutAResultLineIsAFailedRowNotACrash() {
    assertThat(PairRunner.parse("garbage\n", "pair-a").getString("error")).contains("no NATLAB-RESULT line from pair-a");
    assertThat(PairRunner.parse("NATLAB-RESULT {\"path\":\"direct\"}\n", "x").getString("path")).isEqualTo("direct");
  }
}
