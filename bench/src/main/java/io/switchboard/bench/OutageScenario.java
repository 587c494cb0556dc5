package io.switchboard.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code outage}: the chat workload while the relay's embedded Postgres goes away and comes back.
 * {@code restart}: SIGINT to the postmaster (Postgres' fast shutdown), wait for it to exit, start
 * it again later with the command line it recorded ({@code postmaster.opts}). {@code freeze}:
 * SIGSTOP the postmaster and all its children, SIGCONT later (a hung database rather than a
 * refused one). Afterwards the stored rows are read back: every cid acked {@code stored:true} must
 * be in {@code messages} (acked-but-not-stored must be 0); lost and duplicated deliveries are
 * counted as in {@code chat}; {@code storage_unavailable} refusals (the client keeps those) apart.
 */
final class OutageScenario {
  private static final Logger LOG = LoggerFactory.getLogger(OutageScenario.class);

  private OutageScenario() {}

  static JsonObject run(Options o) throws Exception {
    String mode = o.s("outage-mode");
    int at = o.i("outage-at");
    int len = o.i("outage-for");
    JsonArray events = new JsonArray();
    long[] t0 = {0};
    try (RelayProcess relay = Bench.startRelay(o, List.of(), Map.of())) {
      Map<String, String> m = o.asMap();
      m.put("url", relay.wsUrl());
      m.put("admin", relay.adminUrl());
      m.put("server-pid", Long.toString(relay.pid()));
      m.put("pg-port", Integer.toString(relay.pgPort));
      m.put("pg-password", relay.pgPassword());
      m.put("warmup", "0");
      m.put("track-stored", "true");
      LoadDriver d = new LoadDriver(m);
      Thread outage = new Thread(() -> {
        try {
          Thread.sleep(at * 1000L);
          long pm = relay.postmasterPid();
          List<Long> pids = pids(pm);
          event(events, t0, "stop " + mode + " postmaster " + pm + " (" + pids.size() + " processes)");
          if (mode.equals("freeze")) {
            signal("STOP", pids);
          } else {
            signal("INT", List.of(pm));
            long until = System.nanoTime() + 20_000_000_000L;
            while (ProcessHandle.of(pm).map(ProcessHandle::isAlive).orElse(false) && System.nanoTime() < until) {
              Thread.sleep(20);
            }
            event(events, t0, "postmaster exited");
          }
          Thread.sleep(len * 1000L);
          if (mode.equals("freeze")) {
            signal("CONT", pids);
          } else {
            relay.startPostgresAgain();
          }
          event(events, t0, "Postgres back (" + mode + ")");
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } catch (Exception e) {
          LOG.error("outage thread failed", e);
          event(events, t0, "outage thread failed: " + e);
        }
      }, "outage");
      outage.setDaemon(true);
      d.onSendingStarted(() -> {
        t0[0] = System.nanoTime();
        outage.start();
      });
      JsonObject r;
      try {
        r = d.run();
        outage.join(60_000);
        if (outage.isAlive()) {
          outage.interrupt();
        }
        // a frozen Postgres must never stay frozen, whatever happened above
        if (mode.equals("freeze")) {
          signal("CONT", pids(relay.postmasterPid()));
        }
        Set<String> inDb = storedCids(d, relay);
        Set<String> acked = new HashSet<>(d.ackedStoredCids);
        long ackedNotStored = acked.stream().filter(c -> !inDb.contains(c)).count();
        JsonObject s = new JsonObject()
            .put("mode", mode)
            .put("outageAtS", at)
            .put("outageForS", len)
            .put("events", events)
            .put("ackedStored", acked.size())
            .put("rowsInDb", inDb.size())
            .put("ackedNotStored", ackedNotStored)
            .put("storedNeverAckedStored", inDb.stream().filter(c -> !acked.contains(c)).count())
            .put("sentNotAckedStoredAtEnd", Math.max(0, r.getLong("sentIncludingWarmup") - r.getLong("rejectedStorageUnavailable") - acked.size()))
            .put("storageUnavailable", r.getJsonObject("errorFrames").getLong("storage_unavailable", 0L));
        r.put("scenario", "outage");
        r.put("outage", s);
        r.put("targets", new JsonObject()
            .put("acked_not_stored_zero", ackedNotStored == 0)
            .put("nothing_lost", r.getLong("lost") == 0)
            .put("nothing_duplicated", r.getLong("duplicated") == 0)
            .put("every_accepted_message_stored", s.getLong("sentNotAckedStoredAtEnd") == 0));
      } finally {
        d.close();
      }
      return Bench.relayChecked(relay, r);
    }
  }

  private static void event(JsonArray events, long[] t0, String what) {
    synchronized (events) {
      events.add(new JsonObject().put("t", Math.round((System.nanoTime() - t0[0]) / 1e7) / 100.0).put("event", what));
    }
    LOG.info("outage: {}", what);
  }

  /** The postmaster and its children (backends, checkpointer, walwriter...). */
  static List<Long> pids(long postmaster) {
    List<Long> l = new ArrayList<>();
    if (postmaster > 0) {
      l.add(postmaster);
      ProcessHandle.of(postmaster).ifPresent(h -> h.children().forEach(c -> l.add(c.pid())));
    }
    return l;
  }

  static void signal(String sig, List<Long> pids) throws Exception {
    if (pids.isEmpty()) {
      return;
    }
    List<String> cmd = new ArrayList<>(List.of("kill", "-" + sig));
    pids.forEach(p -> cmd.add(Long.toString(p)));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    p.waitFor(10, TimeUnit.SECONDS);
  }

  private static Set<String> storedCids(LoadDriver d, RelayProcess relay) throws Exception {
    PgConnection c = PgConnection.connect(d.vertx(), relay.databaseOptions())
        .toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    try {
      Set<String> s = new HashSet<>();
      for (Row row : c.query("SELECT cid FROM messages").execute()
          .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS)) {
        s.add(row.getString(0));
      }
      return s;
    } finally {
      c.close();
    }
  }

  static String summary(JsonObject r) {
    JsonObject s = r.getJsonObject("outage");
    return String.format("outage (%s at %d s for %d s): acked stored %d, rows in DB %d, acked-but-not-stored %d,"
            + " accepted but never stored %d, storage_unavailable refusals %d, acks stored:false %d%n  events %s",
        s.getString("mode"), s.getInteger("outageAtS"), s.getInteger("outageForS"), s.getLong("ackedStored"),
        s.getLong("rowsInDb"), s.getLong("ackedNotStored"), s.getLong("sentNotAckedStoredAtEnd"),
        s.getLong("storageUnavailable"), r.getLong("ackedStoredFalse"), s.getJsonArray("events").encode());
  }
}
