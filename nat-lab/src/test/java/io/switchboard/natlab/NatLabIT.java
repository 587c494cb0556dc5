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
 * The Java-peer matrix (all 21 unordered pairs of the six NAT types) and the ground truth, on one
 * lab: the internet namespace with the relay (its jar, as operators run it) and coturn is built once,
 * every pair gets fresh router and client namespaces. Reports land in target/natlab/.
 */
@Tag("natlab")
class NatLabIT {
  private static Lab lab;
  private static PairRunner runner;

  @BeforeAll
  static void start() throws Exception {
    LabGate.require();
    lab = Lab.start(new Lab.Options(LabGate.relayJar(), LabGate.out().resolve("logs"), null));
    runner = new PairRunner(lab, new PeerKind.JavaPeers(LabGate.labJar()), Expected.load());
  }

  @AfterAll
  static void stop() {
    if (lab != null) {
      lab.close();
      assertThat(Lab.leftovers()).as("namespaces left after the lab closed").isEmpty();
    }
  }

  @Test
  void everyPairEndsOnTheExpectedPathAsSteeredWithEveryMessageDeliveredOnce() throws Exception {
    long start = System.nanoTime();
    List<Row> rows = new ArrayList<>();
    for (NatType[] p : Main.allPairs()) {
      Row row = runner.run(p[0], p[1]);
      System.err.printf("natlab: %s/%s -> %s (steer %s) %s in %d ms%n", p[0].wire(), p[1].wire(), row.path(),
          row.predicted(), row.ok() ? "ok" : row.problems(), row.pairMs());
      rows.add(row);
    }
    long seconds = (System.nanoTime() - start) / 1_000_000_000;
    Files.createDirectories(LabGate.out());
    Report.json(rows, LabGate.out().resolve("matrix.json"));
    Report.markdown(rows, LabGate.out().resolve("matrix.md"));
    Report.png(rows, LabGate.out().resolve("matrix.png"));
    System.err.println(Report.markdown(rows) + "\n21 pairs in " + seconds + " s");

    List<String> failures = new ArrayList<>();
    for (Row r : rows) {
      if (!r.ok()) {
        failures.add(r.natA().wire() + "/" + r.natB().wire() + ": " + r.problems());
      }
      // Steering's prediction held wherever the expected matrix says so (i.e. everywhere: no pair waits
      // for a direct attempt that cannot work).
      if (!r.matched()) {
        failures.add(r.natA().wire() + "/" + r.natB().wire() + ": ended " + r.path() + ", steered " + r.predicted());
      }
    }
    assertThat(failures).as("pairs that failed (logs in target/natlab/logs)").isEmpty();
    assertThat(rows).hasSize(21);
    // A pair whose direct attempt cannot work is steered past it: none of them pays for an ICE timeout.
    assertThat(rows).filteredOn(r -> !r.path().equals("direct")).allSatisfy(r ->
        assertThat(r.setupMs()).as("setup of %s/%s", r.natA(), r.natB()).isLessThan(5_000L));
    assertThat(seconds).as("the whole Java matrix").isLessThan(300);
  }

  @Test
  void theLabHasNoRouteOutAndASideIsBuiltAndRemovedInUnderASecond() {
    long start = System.nanoTime();
    Lab.Side a = lab.side("a", NatType.SYMMETRIC);
    Lab.Side b = lab.side("b", NatType.NONE);
    long upMs = (System.nanoTime() - start) / 1_000_000;
    try {
      // Nothing in the lab knows a way to any address outside it: routers and the internet namespace have
      // no default route, and a NATed client's default route ends at its router.
      for (String ns : List.of(Lab.INET, a.routerNs(), b.clientNs())) {
        Sh.Result r = Sh.run("ip", "-n", ns, "route", "get", "198.18.0.1");
        assertThat(r.ok()).as("%s routes 198.18.0.1: %s", ns, r.out()).isFalse();
        assertThat(r.err()).contains("unreachable");
      }
      assertThat(Sh.run("ip", "-n", a.clientNs(), "route", "get", "198.18.0.1").out()).contains("via 198.51.100.1 dev eth0");
      // Every lab interface's peer is in a lab namespace: nothing is linked to the host's.
      for (String ns : Lab.leftovers()) {
        String links = Sh.run("ip", "-n", ns, "-o", "link", "show", "type", "veth").out();
        for (String line : links.split("\n")) {
          if (!line.isBlank()) {
            assertThat(line).as("%s: %s", ns, line).contains("link-netns " + Lab.PREFIX);
          }
        }
      }
    } finally {
      long downStart = System.nanoTime();
      lab.removeSide(a);
      lab.removeSide(b);
      long downMs = (System.nanoTime() - downStart) / 1_000_000;
      System.err.printf("natlab: two sides up in %d ms, down in %d ms%n", upMs, downMs);
      assertThat(upMs + downMs).isLessThan(3_000);
    }
  }

  @Test
  void natdiscoveryAndTheRelaysClassificationSeeWhatTheLabConfigured() throws Exception {
    List<Verify.Truth> truths = Verify.run(lab, runner, List.of(NatType.values()));
    System.err.println(Verify.markdown(truths));
    Files.createDirectories(LabGate.out());
    Files.writeString(LabGate.out().resolve("verify.md"), Verify.markdown(truths));
    assertThat(truths).hasSize(NatType.values().length);
    assertThat(truths).allSatisfy(t -> {
      assertThat(t.discoveredMapping()).as("%s: natdiscovery mapping", t.type()).isEqualTo(t.type().mapping());
      assertThat(t.discoveredFiltering()).as("%s: natdiscovery filtering", t.type()).isEqualTo(t.type().filtering());
      assertThat(t.relayClass()).as("%s: the relay's class", t.type()).isEqualTo(t.type().expectedClass());
    });
  }
}
