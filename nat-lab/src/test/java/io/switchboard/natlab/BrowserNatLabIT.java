package io.switchboard.natlab;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The browser peer (headless Debian Chromium running the web SDK, one browser per peer, inside the
 * client namespaces) on a subset of the matrix, against expected-matrix-browser.json: both peers
 * classified as a browser can be, the steer and the path the pair really ended on, every message once.
 * The full 21 pairs: {@code nat-lab/natlab matrix --peers browser}. Reports land in target/natlab/.
 */
@Tag("natlab")
class BrowserNatLabIT {
  /** No NAT, EIM+EIF both, the pair steering cannot see (APDF vs APDM), APDM both, UDP blocked (TURN/TCP). */
  static final String PAIRS = "none:none,full-cone:full-cone,port-restricted:symmetric,symmetric:symmetric,udp-blocked:full-cone";

  private static Lab lab;
  private static PairRunner runner;

  @BeforeAll
  static void start() throws Exception {
    PeerKind.BrowserPeers kind = LabGate.requireBrowser();
    lab = Lab.start(new Lab.Options(LabGate.relayJar(), LabGate.out().resolve("logs"), null));
    runner = new PairRunner(lab, kind, Expected.load("browser"));
  }

  @AfterAll
  static void stop() {
    if (lab != null) {
      lab.close();
      assertThat(Lab.leftovers()).as("namespaces left after the lab closed").isEmpty();
    }
  }

  @Test
  void browserPairsEndOnTheExpectedPathWithEveryMessageDeliveredOnceAndUdpBlockedTakesTurnOverTcp() throws Exception {
    long start = System.nanoTime();
    List<Row> rows = new ArrayList<>();
    for (String p : PAIRS.split(",")) {
      String[] ab = p.split(":");
      Row row = runner.run(NatType.parse(ab[0]), NatType.parse(ab[1]));
      System.err.printf("natlab browser: %s/%s -> %s (steer %s) %s in %d ms%n", ab[0], ab[1], row.path(),
          row.predicted(), row.ok() ? "ok" : row.problems(), row.pairMs());
      rows.add(row);
    }
    long seconds = (System.nanoTime() - start) / 1_000_000_000;
    Files.createDirectories(LabGate.out());
    Report.json(rows, LabGate.out().resolve("browser-matrix.json"));
    Report.markdown(rows, LabGate.out().resolve("browser-matrix.md"));
    System.err.println(Report.markdown(rows) + "\n" + rows.size() + " browser pairs in " + seconds + " s");

    assertThat(rows).filteredOn(r -> !r.ok()).as("browser pairs that failed (logs in target/natlab/logs)")
        .extracting(r -> r.natA().wire() + "/" + r.natB().wire() + ": " + r.problems()).isEmpty();
    // Nothing waits for an ICE timeout, not even the pair steered direct that ends on TURN.
    assertThat(rows).allSatisfy(r -> assertThat(r.setupMs()).as("setup of %s/%s", r.natA(), r.natB()).isLessThan(5_000L));
    // UDP blocked: the browser reaches coturn over TCP (a Java peer cannot, and is steered to the relay).
    Row blocked = rows.get(4);
    assertThat(blocked.natA()).isEqualTo(NatType.UDP_BLOCKED);
    assertThat(blocked.path()).isEqualTo("turn");
    assertThat(blocked.peerA().getString("localRelayProtocol")).as("the UDP-blocked side's TURN transport").isEqualTo("tcp");
    // The one pair where steering (rule 6, the port-restricted browser looks like an unknown cone) predicted
    // direct and ICE ended on the TURN candidates the p2p steer also lists.
    Row hidden = rows.get(2);
    assertThat(hidden.predicted()).isEqualTo("direct");
    assertThat(hidden.path()).isEqualTo("turn");
    assertThat(seconds).as("the browser subset").isLessThan(120);
  }
}
