package io.switchboard.natlab;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * The lab tests need root, ip, nft and coturn. Without them they are skipped with a loud message,
 * except on CI ({@code CI=true}), where a missing prerequisite fails the build.
 */
final class LabGate {
  private LabGate() {
  }

  static Path relayJar() {
    return Path.of(System.getProperty("natlab.relayJar", "../relay/target/switchboard.jar"));
  }

  static Path labJar() {
    return Path.of(System.getProperty("natlab.jar", "target/natlab.jar"));
  }

  static Path out() {
    return Path.of(System.getProperty("natlab.out", "target/natlab"));
  }

  static void require() {
    String missing = Prerequisites.missing(false);
    if (missing == null && !Files.isRegularFile(relayJar())) {
      missing = "relay jar " + relayJar() + " not built";
    }
    if (missing == null && !Files.isRegularFile(labJar())) {
      missing = "lab jar " + labJar() + " not built";
    }
    if (missing == null) {
      return;
    }
    if ("true".equals(System.getenv("CI"))) {
      fail("CI=true and the NAT lab cannot run: " + missing);
    }
    String banner = "\n" + "!".repeat(100) + "\n!!! NAT LAB TESTS SKIPPED: " + missing.replace("\n", "\n!!! ")
        + "\n!!! (on CI, with CI=true, this fails the build)\n" + "!".repeat(100) + "\n";
    System.err.println(banner);
    Assumptions.abort(missing);
  }
}
