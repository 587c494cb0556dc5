package io.switchboard.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The command line: {@code <scenario> [--name value | --name=value]...}. Every scenario has a fixed
 * set of options with defaults; anything else is a {@link UsageError} whose message lists the valid
 * scenarios and that scenario's options.
 */
final class Options {
  /** Bad input: the message is the whole usage text. */
  static final class UsageError extends IllegalArgumentException {
    UsageError(String message) {
      super(message);
    }
  }

  record Spec(String name, String def, String help, Kind kind) {}

  enum Kind { INT, NUM, BOOL, TEXT, CHOICE }

  private static final Map<String, String> SCENARIO_HELP = new LinkedHashMap<>();
  private static final Map<String, List<Spec>> SPECS = new LinkedHashMap<>();
  private static final Map<String, List<String>> CHOICES = Map.of(
      "dialect", List.of("switchboard", "socketio"),
      "outage-mode", List.of("restart", "freeze"),
      "relay-compression", List.of("", "off", "deflate", "deflate-no-context"),
      "spread", List.of("rooms", "clients"));
  private static final String OFFER_HELP = "offer permessage-deflate as Chromium does"
      + " ('permessage-deflate; client_max_window_bits'); false = no offer (what a non-browser client may do)";
  private static final String RELAY_COMPRESSION_HELP = "the relay's compression setting (SWITCHBOARD_COMPRESSION):"
      + " off | deflate | deflate-no-context; empty = the relay's default";

  private static final List<Spec> COMMON = List.of(
      text("out-dir", "bench/results", "where <scenario>-<UTC timestamp>.json/.md/.png go"),
      text("out", "", "exact JSON path instead (the .md and .png go next to it)"),
      text("seed", "", "random seed (default: time-based)"),
      text("relay-jar", "", "relay jar (default relay/target/switchboard.jar)"),
      text("server-java-opts", "", "JVM flags for the relay the bench starts, space-separated"),
      text("competitors-dir", "", "bench/competitors (Node servers for --compare)"),
      integer("event-loops", "0", "driver event loops (0 = 2 x cores)"),
      bool("charts", "true", "write PNG charts"));

  static {
    scenario("chat", "N users in rooms of K, each sending R msg/s for D s (Korean/English chat lines)",
        integer("users", "100", "connections, one user each"),
        integer("room-size", "10", "users per room"),
        num("rate", "1", "messages per second per user"),
        integer("duration", "60", "measured seconds"),
        integer("warmup", "120", "seconds of traffic before measuring (the relay's JIT settles in ~2 min at 100 msg/s)"),
        integer("drain", "5", "seconds to wait for the last deliveries and acks"),
        bool("compression", "true", OFFER_HELP),
        choice("relay-compression", "", RELAY_COMPRESSION_HELP),
        bool("compare", "false", "run the same workload against a stock Socket.IO rooms server after ours"),
        integer("relay-rate", "0", "SWITCHBOARD_RATE_FRAMES_PER_SECOND (and burst 2x) for the relay; 0 = default 50"),
        choice("dialect", "switchboard", "switchboard | socketio: which protocol the clients speak (--url needed for socketio)"),
        text("url", "", "an already running server (ws://127.0.0.1:PORT/ws) instead of starting the relay"),
        text("admin", "", "its admin URL (http://127.0.0.1:PORT)"),
        integer("server-pid", "-1", "its PID (RSS, CPU)"),
        integer("pg-port", "-1", "its embedded Postgres port (pg_stat_activity, rows)"),
        text("pg-password", "", "the password of its embedded Postgres (<dataDir>/pg-password)"),
        integer("drop-every", "0", "harness self-test: discard every Nth received msg (counted as lost)"),
        integer("duplicate-every", "0", "harness self-test: account every Nth received msg twice (a duplicate)"));
    scenario("idle", "N connections in rooms, each sends one message and receives its room's, then heartbeats only: server RSS and retained heap per connection",
        integer("connections", "10000", "connections (each one a socket in the driver and one in the server)"),
        integer("steps", "10", "RSS/heap samples while connecting (the RSS-vs-connections chart)"),
        integer("settle", "5", "seconds after the last connection before the after-GC measurement"),
        integer("hold", "30", "seconds the connections stay idle (heartbeats only) before measuring again"),
        text("server-heap", "2g", "relay -Xmx (-Xms too) so the heap sizes alike in every run"),
        integer("heartbeat-ms", "0", "relay heartbeatMs (0 = the relay's default 15000)"),
        integer("room-size", "10", "users per room: every connection joins one and sends one message, so each has sent and received"),
        bool("compression", "true", OFFER_HELP),
        choice("relay-compression", "", RELAY_COMPRESSION_HELP),
        bool("compare", "false", "the same against a stock Socket.IO server (Node heap after global.gc())"));
    scenario("signaling", "pairs of peers in rooms of 2 exchanging offer/answer/candidate bursts",
        integer("pairs", "100", "peer pairs (each pair alone in its room)"),
        integer("rounds", "10", "measured negotiations per pair"),
        integer("warmup-rounds", "20", "negotiations per pair before measuring (JIT warm-up on both sides)"),
        integer("candidates", "8", "ICE candidates each side sends per round"),
        integer("sdp-bytes", "2500", "size of the offer and answer SDP"),
        integer("interval-ms", "1000", "time between a pair's rounds (the relay allows 20 signals/s, burst 60)"),
        bool("compare", "false", "the same against the PeerJS server (npm peer 1.0.2)"));
    scenario("history", "a room filled with M messages, then first-page loads, cold and warm, WS and HTTP",
        integer("rooms", "10", "rooms filled; each gives one cold load per transport"),
        integer("messages", "5000", "messages per room"),
        integer("loads", "200", "warm loads per transport"),
        integer("page", "50", "page size (limit)"));
    scenario("outage", "chat while the embedded Postgres is stopped and started again: what was lost",
        integer("users", "20", "connections"),
        integer("room-size", "5", "users per room"),
        num("rate", "5", "messages per second per user"),
        integer("duration", "20", "seconds of traffic"),
        integer("outage-at", "5", "seconds into the traffic when Postgres stops"),
        integer("outage-for", "5", "seconds Postgres stays down"),
        choice("outage-mode", "restart", "restart: SIGINT the postmaster (fast shutdown), start it again | freeze: SIGSTOP/SIGCONT all Postgres processes"),
        integer("drain", "30", "seconds to wait afterwards for the stored acks"));
    scenario("chaos", "load plus scripted faults (kill -9, Postgres frozen/killed, slow readers, churn, storms), invariants checked",
        integer("clients", "20", "chat clients (one WebSocket each, resuming like the SDK)"),
        integer("rooms", "5", "rooms (every client in one, every third also in the next)"),
        num("rate", "4", "messages per second per client"),
        integer("duration", "60", "seconds of traffic; every fault starts before it ends"),
        integer("drain", "15", "seconds to wait afterwards for every outbox to empty"),
        text("faults", "default", "AT:KIND[:ARG],... kinds kill-relay, pg-freeze:S, pg-kill, slow-readers:N, churn:N,"
            + " storm:N; 'default' = " + FaultScript.DEFAULT + "; 'none'"),
        integer("rss-limit-mb", "512", "the relay's RSS bound (VmRSS, sampled every second)"),
        integer("page-every", "5", "seconds between history page probes over HTTP"));
    scenario("cluster", "the chat workload on 1 relay, then on N relays clustered on 127.0.0.1 over one shared Postgres:"
        + " same-node vs cross-node latency, per-node CPU/RSS; --kill-owner: failover catch-up and invariants",
        integer("nodes", "3", "relays in the cluster (each its own JVM; Hazelcast and the event bus on 127.0.0.1)"),
        integer("clients", "60", "chat clients, one WebSocket each, resuming like the SDK"),
        integer("room-size", "6", "clients per room (each client in one room)"),
        num("rate", "2", "messages per second per client"),
        integer("duration", "30", "measured seconds"),
        integer("warmup", "15", "seconds of traffic before measuring"),
        integer("drain", "20", "seconds to wait afterwards for every outbox to empty"),
        choice("spread", "rooms", "rooms: every client of a room on its owner (POST /cluster/owners) | clients: client i"
            + " on node i mod N, so rooms span nodes (cross-node: needs forwarding between relays)"),
        bool("baseline", "true", "run the same workload on 1 node first, side by side in the result"),
        bool("kill-owner", "false", "kill -9 the node owning the most rooms mid-window: catch-up time of its clients"
            + " (p50/max) and the invariant checker"),
        integer("kill-at", "0", "seconds into the measured window for --kill-owner; 0 = half of --duration"),
        integer("lease-ms", "0", "SWITCHBOARD_STORE_LEASE_MS for the nodes (a dead owner's rooms wait for it); 0 = the"
            + " relay's default 15000"));
    scenario("compare", "chat and idle against Socket.IO, signaling against PeerJS, in one run",
        integer("users", "100", "chat users"),
        integer("room-size", "10", "chat room size"),
        num("rate", "1", "chat msg/s per user"),
        integer("duration", "30", "chat measured seconds"),
        integer("warmup", "120", "chat warm-up seconds, on each server (the relay's JIT settles in ~2 min)"),
        integer("connections", "2000", "idle connections"),
        integer("hold", "10", "idle seconds before measuring"),
        integer("pairs", "50", "signaling pairs"),
        integer("rounds", "10", "signaling rounds per pair"),
        integer("warmup-rounds", "30", "signaling rounds per pair before measuring, for each server"),
        bool("compression", "true", OFFER_HELP + " (chat and idle)"),
        choice("relay-compression", "", RELAY_COMPRESSION_HELP));
  }

  private static void scenario(String name, String help, Spec... specs) {
    SCENARIO_HELP.put(name, help);
    List<Spec> all = new ArrayList<>(List.of(specs));
    all.addAll(COMMON);
    SPECS.put(name, all);
  }

  private static Spec integer(String n, String d, String h) {
    return new Spec(n, d, h, Kind.INT);
  }

  private static Spec num(String n, String d, String h) {
    return new Spec(n, d, h, Kind.NUM);
  }

  private static Spec bool(String n, String d, String h) {
    return new Spec(n, d, h, Kind.BOOL);
  }

  private static Spec text(String n, String d, String h) {
    return new Spec(n, d, h, Kind.TEXT);
  }

  private static Spec choice(String n, String d, String h) {
    return new Spec(n, d, h, Kind.CHOICE);
  }

  static List<String> scenarios() {
    return List.copyOf(SPECS.keySet());
  }

  static String usage(String scenario) {
    StringBuilder sb = new StringBuilder("usage: bench/run.sh <scenario> [--option value]...\n\nscenarios:\n");
    SCENARIO_HELP.forEach((k, v) -> sb.append(String.format("  %-10s %s%n", k, v)));
    List<String> which = scenario != null && SPECS.containsKey(scenario) ? List.of(scenario) : scenarios();
    for (String s : which) {
      sb.append("\noptions of ").append(s).append(":\n");
      for (Spec o : SPECS.get(s)) {
        if (!COMMON.contains(o)) {
          sb.append(String.format("  --%-16s %-12s %s%n", o.name(), o.def().isEmpty() ? "" : "(" + o.def() + ")", o.help()));
        }
      }
    }
    sb.append("\noptions of every scenario:\n");
    for (Spec o : COMMON) {
      sb.append(String.format("  --%-16s %-12s %s%n", o.name(), o.def().isEmpty() ? "" : "(" + o.def() + ")", o.help()));
    }
    return sb.toString();
  }

  final String scenario;
  private final Map<String, String> values = new LinkedHashMap<>();

  private Options(String scenario) {
    this.scenario = scenario;
  }

  static Options parse(String... args) {
    if (args.length == 0 || args[0].startsWith("-")) {
      if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
        throw new UsageError(usage(null));
      }
      throw new UsageError("bench: missing scenario (one of " + String.join(", ", scenarios()) + ")\n\n" + usage(null));
    }
    String scenario = args[0];
    if (!SPECS.containsKey(scenario)) {
      throw new UsageError("bench: unknown scenario '" + scenario + "' (valid: " + String.join(", ", scenarios())
          + ")\n\n" + usage(null));
    }
    Options o = new Options(scenario);
    Map<String, Spec> specs = new LinkedHashMap<>();
    for (Spec s : SPECS.get(scenario)) {
      specs.put(s.name(), s);
      o.values.put(s.name(), s.def());
    }
    for (int i = 1; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--help") || a.equals("-h")) {
        throw new UsageError(usage(scenario));
      }
      if (!a.startsWith("--") || a.length() == 2) {
        throw new UsageError("bench: unexpected argument '" + a + "'\n\n" + usage(scenario));
      }
      String key = a.substring(2);
      String value;
      int eq = key.indexOf('=');
      if (eq >= 0) {
        value = key.substring(eq + 1);
        key = key.substring(0, eq);
      } else if (i + 1 < args.length) {
        value = args[++i];
      } else {
        throw new UsageError("bench: missing value for --" + key + "\n\n" + usage(scenario));
      }
      Spec spec = specs.get(key);
      if (spec == null) {
        throw new UsageError("bench: unknown option --" + key + " for " + scenario + "\n\n" + usage(scenario));
      }
      check(spec, value, scenario);
      o.values.put(key, value); // later occurrences win: wrapper scripts can put defaults first
    }
    return o;
  }

  private static void check(Spec spec, String value, String scenario) {
    String bad = null;
    switch (spec.kind()) {
      case INT -> {
        try {
          Integer.parseInt(value);
        } catch (NumberFormatException e) {
          bad = "an integer";
        }
      }
      case NUM -> {
        try {
          double d = Double.parseDouble(value);
          if (!Double.isFinite(d)) {
            bad = "a number";
          }
        } catch (NumberFormatException e) {
          bad = "a number";
        }
      }
      case BOOL -> {
        if (!value.equals("true") && !value.equals("false")) {
          bad = "true or false";
        }
      }
      case CHOICE -> {
        if (!CHOICES.get(spec.name()).contains(value)) {
          bad = "one of " + String.join(", ", CHOICES.get(spec.name()));
        }
      }
      case TEXT -> { }
    }
    if (bad != null) {
      throw new UsageError("bench: --" + spec.name() + " must be " + bad + ", got '" + value + "'\n\n" + usage(scenario));
    }
  }

  /** Range checks that need the scenario's meaning. */
  void require(boolean ok, String what) {
    if (!ok) {
      throw new UsageError("bench: " + what + "\n\n" + usage(scenario));
    }
  }

  int i(String name) {
    return Integer.parseInt(get(name));
  }

  double d(String name) {
    return Double.parseDouble(get(name));
  }

  boolean b(String name) {
    return Boolean.parseBoolean(get(name));
  }

  String s(String name) {
    return get(name);
  }

  boolean has(String name) {
    return values.containsKey(name) && !values.get(name).isEmpty();
  }

  private String get(String name) {
    String v = values.get(name);
    if (v == null) {
      throw new IllegalStateException("no option " + name + " in " + scenario);
    }
    return v;
  }

  /** A copy with some values replaced (e.g. the competitor's run). */
  Options with(String scenario, Map<String, String> overrides) {
    Options o = new Options(scenario);
    for (Spec s : SPECS.get(scenario)) {
      o.values.put(s.name(), values.getOrDefault(s.name(), s.def()));
    }
    o.values.putAll(overrides);
    return o;
  }

  Map<String, String> asMap() {
    return new LinkedHashMap<>(values);
  }
}
