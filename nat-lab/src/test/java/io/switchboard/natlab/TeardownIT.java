package io.switchboard.natlab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Ctrl-C tears the lab down; `clean` removes what a crashed (SIGKILLed) run left behind. */
@Tag("natlab")
class TeardownIT {

  @BeforeAll
  static void gate() {
    LabGate.require();
  }

  private static Process natlab(String... args) throws Exception {
    List<String> cmd = Sh.list(Lab.javaBin(), "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-Dnatlab.relayJar=" + LabGate.relayJar(), "-Dnatlab.out=" + LabGate.out().resolve("teardown"),
        "-jar", LabGate.labJar().toString());
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(LabGate.out().resolve("teardown.log").toFile()).start();
  }

  /** Waits (bounded) until a pair's client namespaces exist: the lab is mid-run. */
  private static void awaitPairRunning() {
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
        .until(() -> Lab.leftovers().contains(Lab.PREFIX + "b-peer"));
    assertThat(Lab.leftovers()).contains(Lab.PREFIX + "b-peer", Lab.INET);
  }

  @Test
  void ctrlCStopsEveryProcessAndDeletesEveryNamespace() throws Exception {
    Files.createDirectories(LabGate.out());
    Process p = natlab("run", "symmetric", "symmetric");
    awaitPairRunning();
    Sh.check("kill", "-INT", String.valueOf(p.pid()));
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("natlab exits after SIGINT").isTrue();
    assertThat(Lab.leftovers()).isEmpty();
    assertThat(Sh.run("pgrep", "-f", "natlab.peer.JavaPeerMain").out()).isBlank();
  }

  @Test
  void cleanRemovesWhatACrashedRunLeftAndTheNextRunDetectsLeftovers() throws Exception {
    Files.createDirectories(LabGate.out());
    Process p = natlab("run", "full-cone", "port-restricted");
    awaitPairRunning();
    p.destroyForcibly(); // SIGKILL: no shutdown hook, namespaces and the relay (with its Postgres) stay behind
    p.waitFor(10, TimeUnit.SECONDS);
    assertThat(Lab.leftovers()).contains(Lab.INET);
    assertThat(Sh.run("ip", "netns", "pids", Lab.INET).out()).as("the relay and coturn still run").isNotBlank();

    List<String> removed = Lab.clean();
    assertThat(removed).contains(Lab.INET, Lab.PREFIX + "a-nat", Lab.PREFIX + "b-peer");
    assertThat(Lab.leftovers()).isEmpty();
    assertThat(Lab.clean()).as("cleaning twice is harmless").isEmpty();
    String log = Files.readString(LabGate.out().resolve("teardown.log"), StandardCharsets.UTF_8);
    assertThat(log).doesNotContain("Exception in thread \"main\"");
  }
}
