package io.switchboard.natlab;

import io.switchboard.natlab.peer.JavaPeerMain;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A kind of peer the lab can put in a client namespace. The contract is a process: the lab runs
 * {@link #command} under {@code ip netns exec <client-ns>} and reads exactly one line
 * {@code NATLAB-RESULT {json}} from its stdout (stderr is the peer's log). The JSON carries at least
 * {@code class} (the relay's profile answer), {@code steer{mode,reason,polite}}, {@code path}
 * ({@code direct|turn|relay}), {@code setupMs}, {@code rttMs}, {@code sent}, {@code delivered},
 * {@code duplicates}, and {@code error} when something failed; {@link JavaPeerMain} documents the
 * rest. {@link BrowserPeers} (headless Chromium running the web SDK, driven by a small
 * Node/Playwright script) implements the same contract.
 */
public interface PeerKind {

  /** What the lab tells a peer. {@code host} is the client namespace's only address. */
  record Launch(String relayUrl, String room, String name, String host, int messages, long deadlineMs, boolean probeOnly) {
  }

  String name();

  List<String> command(Launch launch);

  static PeerKind parse(String name, Path labJar) {
    return switch (name) {
      case "java" -> new JavaPeers(labJar);
      case "browser" -> BrowserPeers.next(labJar);
      default -> throw new IllegalArgumentException("unknown peer kind '" + name + "'; valid: java, browser");
    };
  }

  /**
   * The browser peer: {@code node nat-lab/browser-peer/peer.mjs}, which launches Debian's Chromium
   * (playwright-core from web-client/node_modules) and runs the web SDK the relay serves. One
   * browser per peer. {@code script} defaults to {@code browser-peer/peer.mjs} next to the lab
   * jar's {@code target/} folder ({@code -Dnatlab.browserPeer} moves it).
   */
  record BrowserPeers(Path node, Path script) implements PeerKind {
    static final String CHROMIUM = System.getProperty("natlab.chromium", "/usr/bin/chromium");

    static BrowserPeers next(Path labJar) {
      String p = System.getProperty("natlab.browserPeer");
      Path script = p != null ? Path.of(p)
          : labJar.toAbsolutePath().getParent().resolveSibling("browser-peer").resolve("peer.mjs");
      Path node = Prerequisites.find("node");
      return new BrowserPeers(node == null ? Path.of("node") : node, script);
    }

    /** Null when the browser peer can run here; otherwise what is missing. */
    public String missing() {
      List<String> problems = new ArrayList<>();
      if (Prerequisites.find("node") == null) {
        problems.add("`node` not found (Node.js 20, Debian package nodejs)");
      }
      if (!java.nio.file.Files.isExecutable(Path.of(CHROMIUM))) {
        problems.add(CHROMIUM + " not found (apt-get install -y --no-install-recommends chromium)");
      }
      if (!java.nio.file.Files.isRegularFile(script)) {
        problems.add("browser peer script " + script + " not found");
      } else if (!java.nio.file.Files.isDirectory(script.toAbsolutePath().getParent().getParent().getParent()
          .resolve("web-client/node_modules/playwright-core"))) {
        problems.add("web-client/node_modules/playwright-core not found (cd web-client && npm ci)");
      }
      return problems.isEmpty() ? null : String.join("; ", problems);
    }

    @Override
    public String name() {
      return "browser";
    }

    @Override
    public List<String> command(Launch l) {
      List<String> cmd = new ArrayList<>(List.of(node.toString(), script.toString(),
          "--relay", l.relayUrl(), "--room", l.room(), "--name", l.name(), "--host", l.host(),
          "--messages", String.valueOf(l.messages()), "--deadline-ms", String.valueOf(l.deadlineMs())));
      if (l.probeOnly()) {
        cmd.add("--probe-only");
      }
      return cmd;
    }
  }

  /** The Java peer: {@link JavaPeerMain} from the lab's own jar, one JVM per peer. */
  record JavaPeers(Path labJar) implements PeerKind {
    @Override
    public String name() {
      return "java";
    }

    @Override
    public List<String> command(Launch l) {
      List<String> cmd = new ArrayList<>(List.of(Lab.javaBin(),
          // Small, short-lived JVMs on a shared 2-core machine: C1 only, serial GC.
          "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k", "-Xmx128m", "-Djava.net.preferIPv4Stack=true",
          "-cp", labJar.toString(), JavaPeerMain.class.getName(),
          "--relay", l.relayUrl(), "--room", l.room(), "--name", l.name(), "--host", l.host(),
          "--messages", String.valueOf(l.messages()), "--deadline-ms", String.valueOf(l.deadlineMs())));
      if (l.probeOnly()) {
        cmd.add("--probe-only");
      }
      return cmd;
    }
  }
}
