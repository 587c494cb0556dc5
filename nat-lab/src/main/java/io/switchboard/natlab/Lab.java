package io.switchboard.natlab;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * The lab's network: an "internet" namespace (a bridge holding 203.0.113.1 and .2, the relay with its
 * STUN service on both, coturn on both) and, per pair, two sides: a router namespace (WAN on the
 * bridge, nftables NAT) with a client namespace behind it, or, for {@code none}, a client directly on
 * the bridge. Every namespace is named {@value #PREFIX}…; no interface of the lab is in the host's
 * namespace, so nothing in it has a route out. {@link #close()} stops every process it started (by
 * PID) and deletes every namespace; {@link #clean()} does the same for a crashed run's leftovers.
 */
public final class Lab implements AutoCloseable {
  public static final String PREFIX = "sbl-";
  public static final String INET = PREFIX + "inet";
  public static final String RELAY_IP = "203.0.113.1";
  public static final String ALT_IP = "203.0.113.2";
  public static final int RELAY_PORT = 8080;
  public static final int TURN_PORT = 3478;
  public static final String RELAY_URL = "ws://" + RELAY_IP + ":" + RELAY_PORT + "/ws";
  private static final Path LOCK = Path.of("/tmp/sbl-natlab.lock");

  /** One end of a pair: where its client lives and how it reaches the internet segment. */
  public record Side(String id, NatType type, String routerNs, String clientNs, String clientIp, String wanIp) {
  }

  public record Options(Path relayJar, Path logDir, String netem) {
  }

  private final Options options;
  private final Path work;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final List<Process> processes = new CopyOnWriteArrayList<>();
  private final List<Side> sides = new CopyOnWriteArrayList<>();
  private final Thread hook = new Thread(this::closeQuietly, "natlab-teardown");
  private volatile boolean closed;
  private final long upMs;

  private Lab(Options options) throws IOException {
    this.options = options;
    lockChannel = FileChannel.open(LOCK, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    lock = awaitLock(lockChannel);
    Runtime.getRuntime().addShutdownHook(hook);
    List<String> leftovers = leftovers();
    if (!leftovers.isEmpty()) {
      System.err.println("natlab: leftovers of a crashed run found " + leftovers + ": cleaning them first");
      cleanLocked();
    }
    work = Files.createTempDirectory(Path.of("/tmp"), PREFIX + "natlab-");
    Files.createDirectories(options.logDir());
    long start = System.nanoTime();
    try {
      internet();
      upMs = (System.nanoTime() - start) / 1_000_000;
    } catch (RuntimeException | IOException e) {
      close();
      throw e;
    }
  }

  /** Builds the internet namespace and starts coturn and the relay in it (seconds: the relay's JVM and Postgres). */
  public static Lab start(Options options) throws IOException {
    String missing = Prerequisites.missing(options.netem() != null);
    if (missing != null) {
      throw new IllegalStateException(missing);
    }
    if (!Files.isRegularFile(options.relayJar())) {
      throw new IllegalStateException("relay jar " + options.relayJar() + " not found: build it first (./mvnw -q -pl relay -am package -DskipTests)");
    }
    return new Lab(options);
  }

  public long upMs() {
    return upMs;
  }

  public Options options() {
    return options;
  }

  // ---------------------------------------------------------------- internet

  private void internet() throws IOException {
    ns(INET);
    ip(INET, "link", "add", "br0", "type", "bridge");
    ip(INET, "addr", "add", RELAY_IP + "/24", "dev", "br0");
    ip(INET, "addr", "add", ALT_IP + "/24", "dev", "br0");
    ip(INET, "link", "set", "br0", "up");
    if (options.netem() != null) {
      checkNetem();
    }

    String secret = HexFormat.of().formatHex(new SecureRandom().generateSeed(16));
    Path turnDir = Files.createDirectories(work.resolve("coturn"));
    Path conf = turnDir.resolve("turnserver.conf");
    Files.writeString(conf, "", StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(conf, PosixFilePermissions.fromString("rw-------"));
    // Not turn-config's template: its denied-peer-ip list (rightly) refuses the documentation ranges
    // the lab is built from. Two listening IPs give coturn RFC 5780 (turnutils_natdiscovery's server).
    Files.writeString(conf, String.join("\n",
        "listening-ip=" + RELAY_IP, "listening-ip=" + ALT_IP, "listening-port=" + TURN_PORT,
        "relay-ip=" + RELAY_IP, "min-port=49160", "max-port=49400",
        "use-auth-secret", "static-auth-secret=" + secret, "realm=natlab",
        "fingerprint", "no-tls", "no-dtls", "no-cli", "no-multicast-peers", "no-software-attribute",
        "userdb=" + turnDir.resolve("turndb"), "pidfile=" + turnDir.resolve("turnserver.pid"),
        "log-file=stdout", "simple-log", "verbose", ""), StandardCharsets.UTF_8);
    Process coturn = startIn(INET, List.of("turnserver", "-c", conf.toString()), Map.of(), "coturn",
        line -> line.contains("Total General servers"), 15_000);
    if (coturn == null) {
      throw new IllegalStateException("coturn did not start: see " + options.logDir().resolve("coturn.log"));
    }

    String turn = "turn:" + RELAY_IP + ":" + TURN_PORT;
    Map<String, String> env = Map.of(
        "SWITCHBOARD_HOST", RELAY_IP, "SWITCHBOARD_PORT", String.valueOf(RELAY_PORT),
        "SWITCHBOARD_ADMIN_HOST", "127.0.0.1",
        "SWITCHBOARD_DATA_DIR", work.resolve("relay").toString(),
        "SWITCHBOARD_P2P_STUN_ADDRESSES", RELAY_IP + "," + ALT_IP,
        "SWITCHBOARD_P2P_TURN_URLS", turn + "?transport=udp," + turn + "?transport=tcp",
        "SWITCHBOARD_P2P_TURN_SECRET", secret,
        // The lab checks the rule table: learning from earlier pairs' results is off.
        "SWITCHBOARD_P2P_MIN_SUCCESS_RATE", "0");
    Process relay = startIn(INET, List.of(javaBin(), "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx256m",
        "-jar", options.relayJar().toString()), env, "relay", line -> line.contains("ready: open "), 90_000);
    if (relay == null) {
      throw new IllegalStateException("the relay did not start: see " + options.logDir().resolve("relay.log"));
    }
  }

  static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  // ---------------------------------------------------------------- sides

  /** Builds side {@code id} ("a" or "b") with the given NAT type; fractions of a second. */
  public synchronized Side side(String id, NatType type) {
    if (closed) {
      throw new IllegalStateException("the lab is shut down");
    }
    int n = id.equals("a") ? 1 : 2;
    String client = PREFIX + id + "-peer";
    Side side;
    if (type == NatType.NONE) {
      side = new Side(id, type, null, client, "203.0.113.2" + n, null);
      sides.add(side);
      ns(client);
      ip(INET, "link", "add", "v" + id, "type", "veth", "peer", "name", "eth0", "netns", client);
      ip(INET, "link", "set", "v" + id, "master", "br0", "up");
      ip(client, "addr", "add", side.clientIp() + "/24", "dev", "eth0");
      ip(client, "link", "set", "eth0", "up");
      // A default route, as any host on the internet has (Chromium gathers no host candidate without
      // one, and the relay then cannot see "no NAT"). It ends at the internet namespace, which does not
      // forward and has no route of its own: still no way out of the lab.
      ip(client, "route", "add", "default", "via", RELAY_IP);
      netem(INET, "v" + id);
      netem(client, "eth0");
      return side;
    }
    String router = PREFIX + id + "-nat";
    String lan = n == 1 ? "198.51.100." : "192.0.2.";
    side = new Side(id, type, router, client, lan + "10", "203.0.113.1" + n);
    sides.add(side);
    ns(router);
    ns(client);
    sysctl(router, "net.ipv4.ip_forward=1");
    ip(INET, "link", "add", "v" + id, "type", "veth", "peer", "name", "wan", "netns", router);
    ip(INET, "link", "set", "v" + id, "master", "br0", "up");
    ip(router, "addr", "add", side.wanIp() + "/24", "dev", "wan");
    ip(router, "link", "set", "wan", "up");
    ip(router, "link", "add", "lan", "type", "veth", "peer", "name", "eth0", "netns", client);
    ip(router, "addr", "add", lan + "1/24", "dev", "lan");
    ip(router, "link", "set", "lan", "up");
    Sh.feed(type.nftRuleset(side.wanIp(), side.clientIp()), "ip", "netns", "exec", router, "nft", "-f", "-");
    ip(client, "addr", "add", side.clientIp() + "/24", "dev", "eth0");
    ip(client, "link", "set", "eth0", "up");
    // A default route inside the lab (Chromium gathers no host candidates without one); the router
    // itself only knows the internet segment.
    ip(client, "route", "add", "default", "via", lan + "1");
    netem(INET, "v" + id);
    netem(router, "wan");
    return side;
  }

  public synchronized void removeSide(Side side) {
    sides.remove(side);
    // Delete the bridge port now: a namespace dies asynchronously after `ip netns del`, and its veth
    // (with it the next pair's interface name) would linger. Forget the old MAC of the side's address.
    Sh.run("ip", "-n", INET, "link", "del", "v" + side.id());
    Sh.run("ip", "-n", INET, "neigh", "flush", "dev", "br0");
    deleteNs(side.clientNs());
    if (side.routerNs() != null) {
      deleteNs(side.routerNs());
    }
  }

  /** Fails early, and clearly, when the kernel has no netem qdisc or tc rejects the spec. */
  private void checkNetem() {
    List<String> cmd = Sh.list("ip", "netns", "exec", INET, "tc", "qdisc", "add", "dev", "lo", "root", "netem");
    cmd.addAll(List.of(options.netem().trim().split("\\s+")));
    Sh.Result r = Sh.run(10_000, null, cmd);
    if (!r.ok()) {
      throw new IllegalStateException(r.err().contains("unknown") ? "--netem: this kernel has no netem qdisc "
          + "(CONFIG_NET_SCH_NETEM, module sch_netem; `modprobe sch_netem` where modules exist)"
          : "--netem '" + options.netem() + "' rejected by tc: " + r.err().strip());
    }
    Sh.run("ip", "netns", "exec", INET, "tc", "qdisc", "del", "dev", "lo", "root");
  }

  private void netem(String ns, String dev) {
    if (options.netem() != null && !options.netem().isBlank()) {
      List<String> cmd = Sh.list("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", dev, "root", "netem");
      cmd.addAll(List.of(options.netem().trim().split("\\s+")));
      Sh.check(cmd.toArray(String[]::new));
    }
  }

  // ---------------------------------------------------------------- processes

  /**
   * Starts {@code command} inside {@code ns} ({@code ip netns exec} execs it, so the PID is the
   * command's own), logging its output to {@code <logDir>/<name>.log}. With {@code ready} set, waits
   * up to {@code timeoutMs} for a matching output line and returns null (process stopped) if none came.
   */
  public Process startIn(String ns, List<String> command, Map<String, String> env, String name,
                         Predicate<String> ready, long timeoutMs) throws IOException {
    List<String> full = Sh.list("ip", "netns", "exec", ns);
    full.addAll(command);
    ProcessBuilder pb = new ProcessBuilder(full).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    processes.add(p);
    CompletableFuture<Boolean> seen = new CompletableFuture<>();
    Path log = options.logDir().resolve(name + ".log");
    Sh.READERS.execute(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
           PrintWriter out = new PrintWriter(Files.newBufferedWriter(log, StandardCharsets.UTF_8))) {
        String line;
        while ((line = in.readLine()) != null) {
          out.println(line);
          out.flush();
          if (ready != null && ready.test(line)) {
            seen.complete(true);
          }
        }
      } catch (IOException e) {
        // the process went away
      }
      seen.complete(false);
    });
    if (ready == null) {
      return p;
    }
    boolean ok;
    try {
      ok = seen.get(timeoutMs, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      ok = false;
    }
    if (!ok) {
      stop(p);
      return null;
    }
    return p;
  }

  /**
   * Runs a peer-like command in {@code ns} and returns its stdout (stderr goes to {@code <name>.log});
   * stopped after {@code timeoutMs}.
   */
  public CompletableFuture<String> runIn(String ns, List<String> command, String name, long timeoutMs) throws IOException {
    List<String> full = Sh.list("ip", "netns", "exec", ns);
    full.addAll(command);
    Process p = new ProcessBuilder(full).redirectError(options.logDir().resolve(name + ".log").toFile()).start();
    processes.add(p);
    p.getOutputStream().close();
    CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
      try {
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        return "";
      }
    }, Sh.READERS);
    return out.thenApplyAsync(text -> {
      try {
        if (!p.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
          stop(p);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      processes.remove(p);
      return text;
    }, Sh.READERS).orTimeout(timeoutMs + 5000, TimeUnit.MILLISECONDS).whenComplete((t, e) -> {
      if (e != null) {
        stop(p);
      }
    });
  }

  private void stop(Process p) {
    processes.remove(p);
    if (!p.isAlive()) {
      return;
    }
    p.destroy();
    try {
      if (!p.waitFor(8, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor(3, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  // ---------------------------------------------------------------- teardown

  /** Also the shutdown hook (Ctrl-C): waits for a side being built, after which no new one starts. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (Side side : List.copyOf(sides)) {
      removeSide(side);
    }
    // The relay first (SIGTERM: it stops its Postgres), then coturn.
    List<Process> newestFirst = new ArrayList<>(processes);
    java.util.Collections.reverse(newestFirst);
    for (Process p : newestFirst) {
      stop(p);
    }
    deleteNs(INET);
    deleteTree(work);
    try {
      lock.release();
      lockChannel.close();
    } catch (IOException e) {
      // best effort
    }
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // already shutting down: this is the hook
    }
  }

  private void closeQuietly() {
    try {
      close();
    } catch (RuntimeException e) {
      System.err.println("natlab: teardown: " + e);
    }
  }

  /** Namespaces named {@value #PREFIX}… that exist now. */
  public static List<String> leftovers() {
    Sh.Result r = Sh.run("ip", "netns", "list");
    List<String> names = new ArrayList<>();
    for (String line : r.out().split("\n")) {
      String name = line.strip().split("\\s+")[0];
      if (name.startsWith(PREFIX)) {
        names.add(name);
      }
    }
    return names;
  }

  /**
   * One lab per machine (the namespace names are fixed): waits, bounded by {@code NATLAB_LOCK_WAIT_S}
   * (default 600 s), while another run (another engineer's, on a shared machine) holds the lock.
   */
  private static FileLock awaitLock(FileChannel channel) throws IOException {
    long waitS = Long.parseLong(System.getenv().getOrDefault("NATLAB_LOCK_WAIT_S", "600"));
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(waitS);
    boolean said = false;
    while (true) {
      FileLock l = channel.tryLock();
      if (l != null) {
        return l;
      }
      if (System.nanoTime() > until) {
        channel.close();
        throw new IllegalStateException("another natlab run has held " + LOCK + " for " + waitS + " s (one lab per machine at a time)");
      }
      if (!said) {
        System.err.println("natlab: another natlab run is active (" + LOCK + "): waiting for it");
        said = true;
      }
      sleep(500);
    }
  }

  /**
   * Stops every process inside a {@value #PREFIX}… namespace (by PID) and deletes the namespaces and
   * the temp folders of earlier runs. Safe when nothing is left. Takes the lab lock, so it never
   * tears down a live run's lab (it waits for that run instead).
   */
  public static List<String> clean() throws IOException {
    try (FileChannel channel = FileChannel.open(LOCK, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
         FileLock ignored = awaitLock(channel)) {
      return cleanLocked();
    }
  }

  private static List<String> cleanLocked() {
    List<String> names = leftovers();
    // Clients and routers before the internet, so its bridge loses its ports first.
    names.sort(Comparator.comparing((String n) -> n.equals(INET)));
    for (String name : names) {
      deleteNs(name);
    }
    try (Stream<Path> dirs = Files.list(Path.of("/tmp"))) {
      dirs.filter(d -> d.getFileName().toString().startsWith(PREFIX + "natlab-") && Files.isDirectory(d))
          .forEach(Lab::deleteTree);
    } catch (IOException e) {
      // nothing to clean
    }
    return names;
  }

  static void deleteNs(String ns) {
    for (int round = 0; round < 3; round++) {
      List<Long> pids = pids(ns);
      if (pids.isEmpty()) {
        break;
      }
      boolean gently = round == 0;
      for (long pid : pids) {
        ProcessHandle.of(pid).ifPresent(h -> {
          if (gently) {
            h.destroy();
          } else {
            h.destroyForcibly();
          }
        });
      }
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(round == 0 ? 8 : 3);
      while (!pids(ns).isEmpty() && System.nanoTime() < until) {
        sleep(50);
      }
    }
    Sh.run("ip", "netns", "del", ns);
  }

  private static List<Long> pids(String ns) {
    List<Long> pids = new ArrayList<>();
    for (String s : Sh.run("ip", "netns", "pids", ns).out().split("\\s+")) {
      if (!s.isBlank()) {
        pids.add(Long.parseLong(s.strip()));
      }
    }
    return pids;
  }

  private static void deleteTree(Path root) {
    if (root == null || !Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // best effort
    }
  }

  // ---------------------------------------------------------------- helpers

  private static void ns(String name) {
    Sh.check("ip", "netns", "add", name);
    ip(name, "link", "set", "lo", "up");
    // Each namespace starts from kernel defaults: no IPv6 (the lab is IPv4), no reverse-path filter.
    sysctl(name, "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1",
        "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0");
  }

  private static void sysctl(String ns, String... settings) {
    List<String> cmd = Sh.list("ip", "netns", "exec", ns, "sysctl", "-qw");
    cmd.addAll(List.of(settings));
    Sh.check(cmd.toArray(String[]::new));
  }

  private static void ip(String ns, String... args) {
    List<String> cmd = Sh.list("ip", "-n", ns);
    cmd.addAll(List.of(args));
    Sh.check(cmd.toArray(String[]::new));
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
