package io.switchboard.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A competitor server in Node, from {@code bench/competitors/} (its own package.json and lock file,
 * installed with {@code npm ci} when {@code node_modules} is missing or older than the lock file).
 * Listens on 127.0.0.1 only. Failing to start throws {@link CompetitorUnavailable} with the reason,
 * so the run can report it and go on.
 */
final class NodeServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(NodeServer.class);

  /** A competitor could not be installed or started; the message says why. */
  static final class CompetitorUnavailable extends Exception {
    CompetitorUnavailable(String message) {
      super(message);
    }
  }

  enum Kind {
    SOCKETIO("socket.io 4.8 rooms server"),
    PEERJS("PeerJS server (npm peer 1.0.2)");

    final String label;

    Kind(String label) {
      this.label = label;
    }
  }

  final Kind kind;
  final int port;
  private final Process process;
  private final Path log;

  private NodeServer(Kind kind, int port, Process process, Path log) {
    this.kind = kind;
    this.port = port;
    this.process = process;
    this.log = log;
  }

  /** bench/competitors from the repo root or from bench/ (tests). */
  static Path competitorsDir(String option) {
    if (option != null && !option.isBlank()) {
      return Path.of(option);
    }
    for (String c : List.of("bench/competitors", "competitors")) {
      Path p = Path.of(c);
      if (Files.isRegularFile(p.resolve("package.json"))) {
        return p.toAbsolutePath().normalize();
      }
    }
    return Path.of("bench/competitors");
  }

  static boolean nodeAvailable() {
    try {
      Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** {@code npm ci} in the competitors folder unless node_modules is at least as new as the lock. */
  static void install(Path dir) throws CompetitorUnavailable {
    Path lock = dir.resolve("package-lock.json");
    Path marker = dir.resolve("node_modules/.package-lock.json");
    try {
      if (Files.exists(marker) && Files.getLastModifiedTime(marker).compareTo(Files.getLastModifiedTime(lock)) >= 0) {
        return;
      }
      LOG.info("npm ci in {}", dir);
      Process p = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund").directory(dir.toFile())
          .redirectErrorStream(true).redirectOutput(dir.resolve("npm-ci.log").toFile()).start();
      if (!p.waitFor(300, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new CompetitorUnavailable("npm ci in " + dir + " took over 300 s");
      }
      if (p.exitValue() != 0) {
        throw new CompetitorUnavailable("npm ci in " + dir + " failed (exit " + p.exitValue() + "): "
            + lastLines(dir.resolve("npm-ci.log"), 10));
      }
    } catch (IOException e) {
      throw new CompetitorUnavailable("cannot run npm ci in " + dir + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CompetitorUnavailable("interrupted during npm ci");
    }
  }

  static NodeServer start(Kind kind, Path dir) throws CompetitorUnavailable {
    if (!nodeAvailable()) {
      throw new CompetitorUnavailable(kind.label + ": node is not installed");
    }
    install(dir);
    int port;
    try {
      port = RelayProcess.freePorts(1)[0];
    } catch (IOException e) {
      throw new CompetitorUnavailable(kind.label + ": no free port: " + e.getMessage());
    }
    List<String> cmd = new ArrayList<>();
    cmd.add("node");
    switch (kind) {
      case SOCKETIO -> {
        cmd.add("--expose-gc"); // /mem collects before it reads the heap, like jcmd GC.run for the relay
        cmd.add("socketio-rooms.mjs");
        cmd.add(Integer.toString(port));
      }
      case PEERJS -> {
        // the package's own CLI (what `npx peerjs` runs), stock options
        cmd.add("node_modules/peer/dist/bin/peerjs.js");
        cmd.add("--port");
        cmd.add(Integer.toString(port));
        cmd.add("--host");
        cmd.add("127.0.0.1");
      }
    }
    Path log;
    Process p;
    try {
      log = Files.createTempFile("switchboard-bench-" + kind.name().toLowerCase(), ".log");
      p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
          .redirectOutput(log.toFile()).start();
    } catch (IOException e) {
      throw new CompetitorUnavailable(kind.label + ": cannot start node: " + e.getMessage());
    }
    NodeServer s = new NodeServer(kind, port, p, log);
    long until = System.nanoTime() + 30_000_000_000L;
    try {
      while (System.nanoTime() < until) {
        if (!p.isAlive()) {
          String why = lastLines(log, 15);
          s.close();
          throw new CompetitorUnavailable(kind.label + " exited during start (exit " + p.exitValue() + "): " + why);
        }
        try (Socket sock = new Socket()) {
          sock.connect(new InetSocketAddress("127.0.0.1", port), 300);
          LOG.info("{} pid {} on 127.0.0.1:{}", kind.label, p.pid(), port);
          return s;
        } catch (IOException e) {
          Thread.sleep(50);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    s.close();
    throw new CompetitorUnavailable(kind.label + " not listening on 127.0.0.1:" + port + " within 30 s: "
        + lastLines(log, 15));
  }

  long pid() {
    return process.pid();
  }

  boolean alive() {
    return process.isAlive();
  }

  static String lastLines(Path file, int n) {
    try {
      List<String> all = Files.readAllLines(file);
      return String.join(" | ", all.subList(Math.max(0, all.size() - n), all.size()));
    } catch (IOException e) {
      return "(no log)";
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          process.waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
      }
    }
    try {
      Files.deleteIfExists(log);
    } catch (IOException ignored) {
      // temp file
    }
  }
}
