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
 * rest. A browser peer (headless Chromium running the web SDK, driven by a small Node/Playwright
 * script) implements the same contract.
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
      case "browser" -> throw new IllegalArgumentException("--peers browser is not available yet: the browser peer "
          + "needs the web SDK (headless Chromium running it inside the client namespace), which is still being "
          + "built; it will implement io.switchboard.natlab.PeerKind (docs/natlab.md, \"Adding a peer kind\"). "
          + "Use --peers java.");
      default -> throw new IllegalArgumentException("unknown peer kind '" + name + "'; valid: java, browser");
    };
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
