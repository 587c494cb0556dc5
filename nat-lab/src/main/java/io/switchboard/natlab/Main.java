package io.switchboard.natlab;

import io.switchboard.natlab.peer.JavaPeerMain;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code natlab list | run <natA> <natB> | matrix [...] | verify | clean} (nat-lab/natlab wraps it).
 * Exit codes: 0 all checks passed, 1 a check failed, 2 bad usage or input, 3 the machine lacks something.
 */
public final class Main {
  private Main() {
  }

  static final String USAGE = """
      usage: natlab list
             natlab run <natA> <natB> [--peers java] [--netem "delay 20ms loss 1%"] [--json F] [--md F] [--png F]
             natlab matrix [--peers java|browser] [--netem SPEC] [--json F] [--md F] [--png F] [--pairs a:b,c:d]
             natlab verify
             natlab clean
      NAT types:\s""" + NatType.names();

  public static void main(String[] argv) {
    System.exit(run(argv));
  }

  static int run(String[] argv) {
    if (argv.length == 0) {
      System.err.println(USAGE);
      return 2;
    }
    try {
      return switch (argv[0]) {
        case "list" -> list();
        case "clean" -> clean();
        case "run", "matrix", "verify" -> lab(argv);
        case "-h", "--help", "help" -> {
          System.out.println(USAGE);
          yield 0;
        }
        default -> throw new IllegalArgumentException("unknown command '" + argv[0] + "'");
      };
    } catch (IllegalArgumentException e) {
      System.err.println("natlab: " + e.getMessage());
      System.err.println(USAGE);
      return 2;
    } catch (IllegalStateException e) {
      System.err.println("natlab: " + e.getMessage());
      return 3;
    } catch (Exception e) {
      System.err.println("natlab: " + e);
      return 1;
    }
  }

  private static int list() {
    for (NatType t : NatType.values()) {
      System.out.printf(Locale.ROOT, "%-16s %s%n", t.wire(), t.summary());
    }
    List<String> left = Lab.leftovers();
    if (!left.isEmpty()) {
      System.out.println("leftover namespaces of a crashed run (natlab clean removes them): " + left);
    }
    return 0;
  }

  private static int clean() throws java.io.IOException {
    if (!Prerequisites.isRoot()) {
      throw new IllegalStateException("natlab clean needs root (it deletes network namespaces)");
    }
    List<String> removed = Lab.clean();
    System.out.println(removed.isEmpty() ? "nothing to clean" : "removed " + removed);
    return 0;
  }

  /** Parsed options of run/matrix/verify. */
  record Args(String command, List<NatType> pair, String peers, String netem, Path json, Path md, Path png,
              List<NatType[]> pairs) {
  }

  static Args parse(String[] argv) {
    String peers = "java";
    String netem = null;
    Path json = null;
    Path md = null;
    Path png = null;
    List<NatType> positional = new ArrayList<>();
    List<NatType[]> pairs = null;
    for (int i = 1; i < argv.length; i++) {
      String a = argv[i];
      if (a.startsWith("--")) {
        if (i + 1 >= argv.length) {
          throw new IllegalArgumentException(a + " needs a value");
        }
        String v = argv[++i];
        switch (a) {
          case "--peers" -> peers = v;
          case "--netem" -> netem = v;
          case "--json" -> json = Path.of(v);
          case "--md" -> md = Path.of(v);
          case "--png" -> png = Path.of(v);
          case "--pairs" -> {
            pairs = new ArrayList<>();
            for (String p : v.split(",")) {
              String[] ab = p.split(":");
              if (ab.length != 2) {
                throw new IllegalArgumentException("--pairs takes natA:natB,natC:natD");
              }
              pairs.add(new NatType[] {NatType.parse(ab[0]), NatType.parse(ab[1])});
            }
          }
          default -> throw new IllegalArgumentException("unknown option " + a);
        }
      } else {
        positional.add(NatType.parse(a));
      }
    }
    if (argv[0].equals("run") && positional.size() != 2) {
      throw new IllegalArgumentException("run takes two NAT types");
    }
    if (!argv[0].equals("run") && !positional.isEmpty()) {
      throw new IllegalArgumentException(argv[0] + " takes no NAT types");
    }
    if (!peers.equals("java")) {
      PeerKind.parse(peers, Path.of("."));  // throws the right message for browser and unknown kinds
    }
    return new Args(argv[0], positional, peers, netem, json, md, png, pairs);
  }

  /** Every unordered pair of the six types: 21. */
  public static List<NatType[]> allPairs() {
    List<NatType[]> pairs = new ArrayList<>();
    NatType[] t = NatType.values();
    for (int i = 0; i < t.length; i++) {
      for (int j = i; j < t.length; j++) {
        pairs.add(new NatType[] {t[i], t[j]});
      }
    }
    return pairs;
  }

  static Path labJar() {
    String p = System.getProperty("natlab.jar");
    if (p != null) {
      return Path.of(p);
    }
    try {
      return Path.of(JavaPeerMain.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (Exception e) {
      throw new IllegalStateException("cannot find the lab's own jar; set -Dnatlab.jar", e);
    }
  }

  static Path relayJar() {
    String p = System.getProperty("natlab.relayJar", System.getenv("NATLAB_RELAY_JAR"));
    return Path.of(p != null ? p : "relay/target/switchboard.jar");
  }

  static Path logDir() {
    String p = System.getProperty("natlab.out", System.getenv("NATLAB_OUT"));
    return Path.of(p != null ? p : "nat-lab/target/natlab").resolve("logs");
  }

  private static int lab(String[] argv) throws Exception {
    Args args = parse(argv);
    PeerKind kind = PeerKind.parse(args.peers(), labJar());
    long start = System.nanoTime();
    try (Lab lab = Lab.start(new Lab.Options(relayJar(), logDir(), args.netem()))) {
      System.err.printf(Locale.ROOT, "natlab: internet namespace, coturn and relay up in %.1f s%n", lab.upMs() / 1000.0);
      PairRunner runner = new PairRunner(lab, kind, Expected.load());
      if (args.command().equals("verify")) {
        List<Verify.Truth> truths = Verify.run(lab, runner, List.of(NatType.values()));
        System.out.print(Verify.markdown(truths));
        return truths.stream().allMatch(Verify.Truth::ok) ? 0 : 1;
      }
      List<NatType[]> pairs = args.command().equals("run") ? List.<NatType[]>of(args.pair().toArray(NatType[]::new))
          : args.pairs() != null ? args.pairs() : allPairs();
      List<Row> rows = new ArrayList<>();
      for (NatType[] p : pairs) {
        Row row = runner.run(p[0], p[1]);
        rows.add(row);
        System.err.printf(Locale.ROOT, "natlab: %-16s %-16s -> %-6s (steer %s, %s) %s in %.1f s%n", p[0].wire(), p[1].wire(),
            row.path(), row.predicted(), row.matched() ? "matched" : "NOT matched",
            row.ok() ? "ok" : "FAILED: " + String.join("; ", row.problems()), row.pairMs() / 1000.0);
      }
      System.out.print(Report.markdown(rows));
      System.out.printf(Locale.ROOT, "%n%d pair(s) in %.1f s (lab up %.1f s), %d ok%n", rows.size(),
          (System.nanoTime() - start) / 1e9, lab.upMs() / 1000.0, rows.stream().filter(Row::ok).count());
      if (args.json() != null) {
        Report.json(rows, args.json());
      }
      if (args.md() != null) {
        Report.markdown(rows, args.md());
      }
      if (args.png() != null) {
        Report.png(rows, args.png());
      }
      return rows.stream().allMatch(Row::ok) ? 0 : 1;
    }
  }
}
