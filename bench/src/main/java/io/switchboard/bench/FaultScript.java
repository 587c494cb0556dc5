package io.switchboard.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The chaos scenario's faults: {@code AT:KIND[:ARG],...}, AT in seconds after the clients started
 * sending; {@code kill-relay} and {@code pg-kill} start when the one before them has ended if that
 * is later; {@code pg-freeze} and the load faults run alongside (a kill during a freeze is the surest
 * way to lose messages already fanned out). Kinds (ARG and its default):
 * <ul>
 *   <li>{@code kill-relay}: SIGKILL the relay's JVM, start it again on the same data folder;
 *   <li>{@code pg-freeze:S} (3): SIGSTOP the embedded postmaster and its children, SIGCONT after S s;
 *   <li>{@code pg-kill}: SIGKILL the postmaster; the relay must restart it or fail {@code /health}
 *       (then the harness, as an orchestrator would, restarts the relay);
 *   <li>{@code slow-readers:N} (10): N connections join a busy room and stop reading;
 *   <li>{@code churn:N} (200): joins and leaves of N fresh room names;
 *   <li>{@code storm:N} (200): N connections opened at once, each says hello and closes.
 * </ul>
 */
record FaultScript(List<Fault> faults) {
  enum Kind {
    KILL_RELAY("kill-relay", 0), PG_FREEZE("pg-freeze", 3), PG_KILL("pg-kill", 0), SLOW_READERS("slow-readers", 10),
    CHURN("churn", 200), STORM("storm", 200);

    final String label;
    final int defaultArg;

    Kind(String label, int defaultArg) {
      this.label = label;
      this.defaultArg = defaultArg;
    }
  }

  record Fault(double atSeconds, Kind kind, int arg) {
    @Override
    public String toString() {
      return atSeconds + ":" + kind.label + (kind.defaultArg > 0 ? ":" + arg : "");
    }
  }

  /**
   * Every kind once, the relay killed twice: first while Postgres is frozen (so messages already
   * fanned out are surely not stored yet), then again once the rooms have recovered. Spaced for a
   * busy 2-core machine where a restart takes 10-20 s.
   */
  static final String DEFAULT = "5:pg-freeze:4,7:kill-relay,24:slow-readers:10,26:churn:200,28:storm:200,"
      + "32:pg-kill,48:kill-relay";

  /** Bounds that keep a typo from becoming a fork bomb or a day-long freeze. */
  static final int MAX_ARG = 5000;

  static FaultScript parse(String text) {
    List<Fault> out = new ArrayList<>();
    if (text == null || text.isBlank() || text.equals("none")) {
      return new FaultScript(List.of());
    }
    for (String item : text.split(",")) {
      String[] p = item.trim().split(":");
      if (p.length < 2 || p.length > 3) {
        throw new IllegalArgumentException("fault '" + item + "': want AT:KIND[:ARG]");
      }
      double at;
      try {
        at = Double.parseDouble(p[0]);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("fault '" + item + "': AT is not a number of seconds");
      }
      Kind kind = null;
      for (Kind k : Kind.values()) {
        if (k.label.equals(p[1])) {
          kind = k;
        }
      }
      if (kind == null) {
        throw new IllegalArgumentException("fault '" + item + "': unknown kind " + p[1] + " (kill-relay, pg-freeze,"
            + " pg-kill, slow-readers, churn, storm)");
      }
      int arg = kind.defaultArg;
      if (p.length == 3) {
        if (kind.defaultArg == 0) {
          throw new IllegalArgumentException("fault '" + item + "': " + kind.label + " takes no argument");
        }
        try {
          arg = Integer.parseInt(p[2]);
        } catch (NumberFormatException e) {
          arg = -1;
        }
      }
      if (at < 0 || (kind.defaultArg > 0 && (arg < 1 || arg > MAX_ARG))) {
        throw new IllegalArgumentException("fault '" + item + "': need AT >= 0 and 1 <= ARG <= " + MAX_ARG);
      }
      out.add(new Fault(at, kind, arg));
    }
    out.sort(Comparator.comparingDouble(Fault::atSeconds));
    return new FaultScript(List.copyOf(out));
  }

  double lastAt() {
    return faults.isEmpty() ? 0 : faults.get(faults.size() - 1).atSeconds();
  }
}
