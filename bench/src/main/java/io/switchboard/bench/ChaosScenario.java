package io.switchboard.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code chaos}: chat load plus scripted faults ({@link FaultScript}) against the relay jar with the
 * README's defaults (embedded Postgres in a temp data folder), judged by an {@link InvariantChecker}
 * over what every {@link ChaosClient} saw, the history pages served over HTTP (fetched with their
 * ETags before and after faults, and revalidated), the database itself (read with the relay's own
 * connection settings: user postgres on the embedded port, the password from
 * {@code <dataDir>/pg-password} when there is one) and the relay's RSS. The result names every
 * violation with examples; {@code bench/run.sh chaos} exits 1 when there is any.
 */
final class ChaosScenario {
  private static final Logger LOG = LoggerFactory.getLogger(ChaosScenario.class);
  static final String ROOM_PREFIX = "chaos-";
  /** /ready must come back within this after a pg-kill, or /health must say the relay is broken. */
  private static final long PG_RECOVERY_MS = 20_000;

  private final Options o;
  private final FaultScript script;
  private final InvariantChecker checker = new InvariantChecker();
  private final ChaosClient.Totals totals = new ChaosClient.Totals();
  private final JsonArray events = new JsonArray();
  private final AtomicLong t0 = new AtomicLong();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final List<String> pageUrls = new ArrayList<>();
  /** url -> the ETag it last answered 200 with, revalidated at each probe. */
  private final Map<String, String> etags = new LinkedHashMap<>();
  private final AtomicLong pageErrors = new AtomicLong();
  private final JsonObject faultResults = new JsonObject();
  private volatile RelayProcess relay;
  private volatile int unackedAtEnd = -1;

  private ChaosScenario(Options o) {
    this.o = o;
    this.script = FaultScript.parse(o.s("faults").equals("default") ? FaultScript.DEFAULT : o.s("faults"));
  }

  static void validate(Options o) {
    o.require(o.i("clients") >= 2 && o.i("rooms") >= 1 && o.i("rooms") <= o.i("clients"),
        "need --clients >= 2 and 1 <= --rooms <= --clients");
    o.require(o.d("rate") > 0 && o.d("rate") <= 20, "need 0 < --rate <= 20 (the relay allows 50 frames/s per connection)");
    o.require(o.i("duration") >= 5 && o.i("duration") <= 3600 && o.i("drain") >= 1 && o.i("drain") <= 600,
        "need 5 <= --duration <= 3600 and 1 <= --drain <= 600");
    o.require(o.i("rss-limit-mb") >= 64 && o.i("page-every") >= 1, "need --rss-limit-mb >= 64, --page-every >= 1");
    FaultScript s;
    try {
      s = FaultScript.parse(o.s("faults").equals("default") ? FaultScript.DEFAULT : o.s("faults"));
    } catch (IllegalArgumentException e) {
      throw new Options.UsageError(e.getMessage() + "\n\n" + Options.usage("chaos"));
    }
    o.require(s.lastAt() < o.i("duration"), "every fault must start before --duration ends (last at "
        + s.lastAt() + " s)");
  }

  static JsonObject run(Options o) throws Exception {
    return new ChaosScenario(o).execute();
  }

  private JsonObject execute() throws Exception {
    int clients = o.i("clients");
    int rooms = o.i("rooms");
    List<String> roomNames = new ArrayList<>();
    for (int r = 0; r < rooms; r++) {
      roomNames.add(ROOM_PREFIX + r);
    }
    long seed = o.has("seed") ? Long.parseLong(o.s("seed")) : System.nanoTime();
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(LoadDriver.eventLoops(o.asMap())));
    WebSocketClient ws = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(10_000)
        .setConnectTimeout(5000).setMaxFrameSize(1 << 20).setMaxMessageSize(4 << 20));
    JsonObject result = new JsonObject().put("scenario", "chaos");
    try (RelayProcess r = Bench.startRelay(o, List.of(), Map.of())) {
      relay = r;
      ChatText text = new ChatText(seed, 500);
      List<ChaosClient> all = new ArrayList<>();
      long periodMs = Math.max(1, Math.round(1000 / o.d("rate")));
      for (int i = 0; i < clients; i++) {
        // every client in one room, every third also in the next: resume maps of more than one room
        List<String> mine = new ArrayList<>(List.of(roomNames.get(i % rooms)));
        if (i % 3 == 0 && rooms > 1) {
          mine.add(roomNames.get((i + 1) % rooms));
        }
        ChaosClient c = new ChaosClient(i, vertx, ws, r.port, mine, checker, totals, text);
        all.add(c);
        c.start(periodMs, Bench.clientRandom(seed, i).nextInt((int) periodMs));
      }
      long joinBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while (progress(all)[1] > 0 && System.nanoTime() < joinBy) { // everyone welcomed and in all its rooms
        Thread.sleep(50);
      }
      t0.set(System.nanoTime());
      all.forEach(c -> c.sending(true));
      event("sending");
      Thread rss = daemon("chaos-rss", this::sampleRss);
      Thread pages = daemon("chaos-pages", () -> probePages(roomNames));
      rss.start();
      pages.start();
      runFaults(vertx, ws);
      sleepUntil(o.i("duration") * 1000L);
      all.forEach(c -> c.sending(false));
      event("sending stopped");
      drain(all);
      probePagesOnce(roomNames); // after the last fault, with everything stored
      pages.interrupt();
      readDatabase(vertx, roomNames);
      CountDownLatch done = new CountDownLatch(all.size());
      all.forEach(c -> c.finish(done::countDown));
      done.await(10, TimeUnit.SECONDS);
      rss.interrupt();
      JsonObject verdict = checker.verdict(o.i("rss-limit-mb"));
      result.put("violations", verdict.getLong("violations"))
          .put("invariants", verdict)
          .put("clients", clients).put("rooms", rooms).put("rate", o.d("rate"))
          .put("faults", faultResults)
          .put("events", events)
          .put("messages", totals.json().put("unackedAtEnd", unackedAtEnd))
          .put("pageErrors", pageErrors.get())
          .put("relayAlive", r.alive());
      Bench.relayChecked(r, result);
      r.copyLog(Path.of(o.s("out-dir")).resolve("chaos-relay-" + Bench.TS.format(java.time.Instant.now()) + ".log"));
    } finally {
      vertx.close();
    }
    return result;
  }

  // ---- faults -------------------------------------------------------------------------------

  /**
   * Kills (of the relay or the postmaster) one after the other, each at its time or when the one
   * before is over; freezes and load faults (slow readers, churn, storms) on their own threads, so
   * they overlap with whatever else is going on (a kill during a freeze loses unstored messages).
   */
  private void runFaults(Vertx vertx, WebSocketClient ws) throws InterruptedException {
    List<Thread> load = new ArrayList<>();
    for (FaultScript.Fault f : script.faults()) {
      sleepUntil(Math.round(f.atSeconds() * 1000));
      switch (f.kind()) {
        case PG_FREEZE, SLOW_READERS, CHURN, STORM -> {
          Thread t = daemon("chaos-" + f.kind().label, () -> {
            try {
              runFault(vertx, ws, f);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          });
          t.start();
          load.add(t);
        }
        default -> runFault(vertx, ws, f);
      }
    }
    for (Thread t : load) {
      t.join(60_000);
    }
  }

  private void runFault(Vertx vertx, WebSocketClient ws, FaultScript.Fault f) throws InterruptedException {
    String label = f.toString();
    event("fault " + label);
    long start = System.nanoTime();
    try {
      JsonObject outcome = switch (f.kind()) {
        case KILL_RELAY -> killRelay();
        case PG_FREEZE -> pgFreeze(f.arg());
        case PG_KILL -> pgKill();
        case SLOW_READERS -> slowReaders(vertx, ws, f.arg());
        case CHURN -> churn(vertx, ws, f.arg());
        case STORM -> storm(vertx, ws, f.arg());
      };
      outcome.put("tookMs", (System.nanoTime() - start) / 1_000_000);
      synchronized (faultResults) {
        faultResults.put(label, outcome);
      }
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception e) {
      LOG.error("fault {} failed", label, e);
      synchronized (faultResults) {
        faultResults.put(label, new JsonObject().put("failed", e.toString()));
      }
    }
    event("fault " + label + " done");
  }

  private JsonObject killRelay() throws Exception {
    long pid = relay.pid();
    relay.kill();
    event("relay " + pid + " killed (SIGKILL)");
    relay.start();
    event("relay restarted as " + relay.pid());
    return new JsonObject().put("killedPid", pid).put("newPid", relay.pid());
  }

  private JsonObject pgFreeze(int seconds) throws Exception {
    List<Long> pids = OutageScenario.pids(relay.postmasterPid());
    OutageScenario.signal("STOP", pids);
    try {
      Thread.sleep(seconds * 1000L);
    } finally {
      OutageScenario.signal("CONT", pids);
    }
    return new JsonObject().put("processes", pids.size()).put("seconds", seconds);
  }

  /**
   * SIGKILL the postmaster. The relay must notice within {@link #PG_RECOVERY_MS}: restart it
   * ({@code /ready} 200 again) or fail {@code /health} (then restart the relay, as an orchestrator
   * would). A relay that stays "healthy" and not ready has not noticed: a violation.
   */
  private JsonObject pgKill() throws Exception {
    long pm = relay.postmasterPid();
    OutageScenario.signal("KILL", List.of(pm));
    long until = System.nanoTime() + PG_RECOVERY_MS * 1_000_000;
    Thread.sleep(1000);
    int ready = -1;
    int health = -1;
    while (System.nanoTime() < until) {
      ready = status("/ready");
      health = status("/health");
      if (ready == 200 || (health != 200 && health != -2)) {
        break;
      }
      Thread.sleep(250);
    }
    JsonObject out = new JsonObject().put("postmaster", pm).put("ready", ready).put("health", health);
    if (ready == 200) {
      event("Postgres back, the relay is ready");
      return out.put("outcome", "relay recovered");
    }
    if (health == 200) {
      checker.livenessViolation("postmaster_death_unnoticed", "postmaster " + pm + " killed: /ready " + ready
          + " and /health still 200 after " + PG_RECOVERY_MS / 1000 + " s");
    }
    event("relay not ready (health " + health + "): restarting it as an orchestrator would");
    relay.restart();
    event("relay restarted as " + relay.pid());
    return out.put("outcome", "relay restarted by the harness");
  }

  /** Connections that join the first room and never read, closed by the harness after 8 s. */
  private JsonObject slowReaders(Vertx vertx, WebSocketClient ws, int n) throws Exception {
    List<WebSocket> open = new ArrayList<>();
    AtomicInteger closedByServer = new AtomicInteger();
    List<Future<WebSocket>> fs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      fs.add(ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(relay.port).setURI("/ws"))
          .onSuccess(s -> {
            s.closeHandler(v -> closedByServer.incrementAndGet());
            s.exceptionHandler(e -> { });
            s.writeTextMessage("{\"t\":\"hello\"}");
            s.writeTextMessage("{\"t\":\"join\",\"room\":\"" + ROOM_PREFIX + "0\"}");
            // ask for the biggest pages there are, then stop reading
            for (int p = 0; p < 3; p++) {
              s.writeTextMessage("{\"t\":\"history\",\"room\":\"" + ROOM_PREFIX + "0\",\"limit\":100}");
            }
            vertx.setTimer(300, t -> s.pause());
          }));
    }
    Future.join(fs).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    fs.forEach(f -> {
      if (f.succeeded()) {
        open.add(f.result());
      }
    });
    Thread.sleep(8000);
    int closed = closedByServer.get();
    open.forEach(s -> s.close());
    return new JsonObject().put("opened", open.size()).put("closedByRelayWithin8s", closed);
  }

  /** {@code n} join+leave pairs of fresh room names, 50 per connection, 10 pairs/s per connection (under the rate limit). */
  private JsonObject churn(Vertx vertx, WebSocketClient ws, int n) throws Exception {
    int conns = (n + 49) / 50;
    AtomicLong joined = new AtomicLong();
    AtomicLong refused = new AtomicLong();
    CountDownLatch done = new CountDownLatch(conns);
    long run = System.nanoTime() % 100_000;
    for (int c = 0; c < conns; c++) {
      int first = c * 50;
      int count = Math.min(50, n - first);
      ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(relay.port).setURI("/ws"))
          .onFailure(e -> done.countDown())
          .onSuccess(s -> {
            s.exceptionHandler(e -> { });
            s.closeHandler(v -> done.countDown());
            s.textMessageHandler(t -> {
              if (t.contains("\"t\":\"joined\"")) {
                joined.incrementAndGet();
              } else if (t.contains("\"t\":\"error\"")) {
                refused.incrementAndGet();
              }
            });
            s.writeTextMessage("{\"t\":\"hello\"}");
            AtomicInteger k = new AtomicInteger();
            vertx.setPeriodic(100, id -> {
              int i = k.getAndIncrement();
              if (i >= count) {
                vertx.cancelTimer(id);
                vertx.setTimer(500, t -> s.close());
                return;
              }
              String room = "churn-" + run + "-" + (first + i);
              s.writeTextMessage("{\"t\":\"join\",\"room\":\"" + room + "\"}");
              s.writeTextMessage("{\"t\":\"leave\",\"room\":\"" + room + "\"}");
            });
          });
    }
    done.await(30, TimeUnit.SECONDS);
    return new JsonObject().put("rooms", n).put("joined", joined.get()).put("refused", refused.get());
  }

  /** {@code n} connections at once, each: hello, wait for welcome (or 10 s), close. */
  private JsonObject storm(Vertx vertx, WebSocketClient ws, int n) throws Exception {
    AtomicLong welcomed = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    CountDownLatch done = new CountDownLatch(n);
    for (int i = 0; i < n; i++) {
      ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(relay.port).setURI("/ws"))
          .onFailure(e -> {
            failed.incrementAndGet();
            done.countDown();
          })
          .onSuccess(s -> {
            s.exceptionHandler(e -> { });
            AtomicInteger once = new AtomicInteger();
            Runnable finish = () -> {
              if (once.getAndIncrement() == 0) {
                done.countDown();
                s.close();
              }
            };
            s.textMessageHandler(t -> {
              if (t.contains("\"t\":\"welcome\"")) {
                welcomed.incrementAndGet();
              }
              finish.run();
            });
            s.closeHandler(v -> finish.run());
            vertx.setTimer(10_000, t -> finish.run());
            s.writeTextMessage("{\"t\":\"hello\"}");
          });
    }
    done.await(20, TimeUnit.SECONDS);
    return new JsonObject().put("connections", n).put("welcomed", welcomed.get()).put("connectFailed", failed.get());
  }

  // ---- observers ----------------------------------------------------------------------------

  private void sampleRss() {
    try {
      while (!Thread.currentThread().isInterrupted()) {
        RelayProcess r = relay;
        long kb = r == null ? -1 : ServerSampler.readVmRssKb(r.pid());
        if (kb > 0) {
          checker.rss(kb);
        }
        Thread.sleep(1000);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void probePages(List<String> rooms) {
    try {
      while (!Thread.currentThread().isInterrupted()) {
        Thread.sleep(o.i("page-every") * 1000L);
        probePagesOnce(rooms);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Per room: the newest page, pages before 10, 40, 80, and at each probe one more page just below
   * the head it saw (immutable at once, and the most likely to hold seqs a crash can lose); every
   * URL fetched before is fetched again and revalidated (If-None-Match with the ETag last seen).
   */
  private synchronized void probePagesOnce(List<String> rooms) {
    String base = relay.httpUrl();
    if (pageUrls.isEmpty()) {
      for (String room : rooms) {
        pageUrls.add(base + "/api/rooms/" + room + "/messages?limit=20");
        for (int before : new int[] {10, 40, 80}) {
          pageUrls.add(base + "/api/rooms/" + room + "/messages?before=" + before + "&limit=20");
        }
      }
    }
    for (String url : List.copyOf(pageUrls)) {
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(3)).build(),
            HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
          pageErrors.incrementAndGet();
          continue;
        }
        String etag = r.headers().firstValue("etag").orElse(null);
        URI u = URI.create(url);
        String room = u.getPath().split("/")[3];
        String path = u.getPath() + "?" + u.getQuery();
        checker.page(path, etag, r.body());
        JsonArray messages = new JsonObject(r.body()).getJsonArray("messages", new JsonArray());
        long newest = 0;
        for (int i = 0; i < messages.size(); i++) {
          JsonObject m = messages.getJsonObject(i);
          newest = Math.max(newest, m.getLong("seq"));
          checker.saw("page " + path, room, epochOf(etag), m.getLong("seq"),
              new InvariantChecker.Msg(m.getString("from"), m.getString("cid"), m.getString("body")));
        }
        String nearHead = base + "/api/rooms/" + room + "/messages?before=" + newest + "&limit=20";
        if (!u.getQuery().contains("before=") && newest > 1 && pageUrls.size() < 12 * rooms.size()
            && !pageUrls.contains(nearHead)) {
          pageUrls.add(nearHead);
        }
        String old = etags.put(url, etag);
        if (old != null) {
          HttpResponse<String> c = http.send(HttpRequest.newBuilder(u).header("If-None-Match", old)
              .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
          if (c.statusCode() == 304 || c.statusCode() == 200) {
            checker.revalidated(path, old, c.statusCode() == 304, r.body());
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (Exception e) {
        pageErrors.incrementAndGet(); // the relay is down: the next probe tries again
      }
    }
  }

  /** Waits (at most --drain s) until every outbox is empty and every client is back in all its rooms. */
  private static final java.util.regex.Pattern ETAG_EPOCH = java.util.regex.Pattern.compile("^(?:W/)?\"e([a-z0-9]+)-");

  /** The epoch an ETag names ({@code "e<epoch>-b<before>-l<limit>"}), or null (a relay without epochs). */
  static String epochOf(String etag) {
    java.util.regex.Matcher m = etag == null ? null : ETAG_EPOCH.matcher(etag);
    return m != null && m.find() ? m.group(1) : null;
  }

  /** Sends not yet acked stored:true, and clients not (yet) in every room, asked of each client on its own context. */
  static int[] progress(List<ChaosClient> all) throws InterruptedException {
    AtomicInteger sum = new AtomicInteger();
    AtomicInteger away = new AtomicInteger();
    CountDownLatch l = new CountDownLatch(all.size());
    all.forEach(c -> c.progress((n, settled) -> {
      sum.addAndGet(n);
      if (!settled) {
        away.incrementAndGet();
      }
      l.countDown();
    }));
    l.await(5, TimeUnit.SECONDS);
    return new int[] {sum.get(), away.get()};
  }

  private void drain(List<ChaosClient> all) throws InterruptedException {
    long until = System.nanoTime() + o.i("drain") * 1_000_000_000L;
    int left = -1;
    int unsettled = -1;
    while (System.nanoTime() < until) {
      int[] now = progress(all);
      left = now[0];
      unsettled = now[1];
      if (left == 0 && unsettled == 0) {
        break;
      }
      Thread.sleep(500);
    }
    Thread.sleep(1000); // the last msg frames after the last acks
    event("drained: " + left + " sends never acked stored:true, " + unsettled + " clients not back in every room");
    unackedAtEnd = left;
  }

  private void readDatabase(Vertx vertx, List<String> rooms) {
    PgConnectOptions opts = relay.databaseOptions();
    try {
      PgConnection c = PgConnection.connect(vertx, opts).toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
      try {
        long n = 0;
        for (Row row : c.preparedQuery("SELECT room, seq, sender, cid, body FROM messages WHERE room LIKE $1"
                + " ORDER BY room, seq").execute(io.vertx.sqlclient.Tuple.of(ROOM_PREFIX + "%"))
            .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS)) {
          checker.dbRow(row.getString(0), row.getLong(1), row.getString(2), row.getString(3), row.getString(4));
          n++;
        }
        if (n == 0) {
          checker.dbReadEmpty();
        }
        event("database read: " + n + " rows");
      } finally {
        c.close();
      }
    } catch (Exception e) {
      LOG.error("cannot read the database", e);
      event("database not read: " + e);
    }
  }

  private int status(String path) {
    try {
      return http.send(HttpRequest.newBuilder(URI.create(relay.adminUrl() + path)).timeout(Duration.ofSeconds(2)).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    } catch (Exception e) {
      return -2; // no answer (hung, or not listening)
    }
  }

  private void sleepUntil(long msAfterStart) throws InterruptedException {
    long wait = msAfterStart - (System.nanoTime() - t0.get()) / 1_000_000;
    if (wait > 0) {
      Thread.sleep(wait);
    }
  }

  private void event(String what) {
    double t = t0.get() == 0 ? 0 : Math.round((System.nanoTime() - t0.get()) / 1e7) / 100.0;
    synchronized (events) {
      events.add(new JsonObject().put("t", t).put("event", what));
    }
    LOG.info("chaos {}s: {}", t, what);
  }

  private static Thread daemon(String name, Runnable r) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  static String summary(JsonObject r) {
    JsonObject m = r.getJsonObject("messages", new JsonObject());
    JsonObject inv = r.getJsonObject("invariants", new JsonObject());
    JsonObject checked = inv.getJsonObject("checked", new JsonObject());
    StringBuilder sb = new StringBuilder(String.format("chaos: %d clients in %d rooms at %s msg/s; faults %s%n"
            + "  sent %d (resent %d), acked stored %d, acked stored:false %d, rows checked %d, resumes %d"
            + " (recovered:false %d, divergedAfter %d), pages %d, max RSS %s MB (bound %s)%n"
            + "  VIOLATIONS: %d%n",
        r.getInteger("clients", 0), r.getInteger("rooms", 0), r.getValue("rate"),
        r.getJsonObject("faults", new JsonObject()).fieldNames(), m.getLong("sent", 0L), m.getLong("resent", 0L),
        m.getLong("ackedStored", 0L), m.getLong("ackedStoredFalse", 0L), checked.getLong("dbRows", 0L),
        m.getLong("resumes", 0L), m.getLong("resumedRecoveredFalse", 0L), m.getLong("divergedAfter", 0L),
        checked.getLong("pages", 0L), checked.getValue("maxRssMb"), checked.getValue("rssBoundMb"),
        r.getLong("violations", 0L)));
    inv.getJsonObject("byKind", new JsonObject()).forEach(e -> {
      JsonObject v = (JsonObject) e.getValue();
      sb.append("  ").append(e.getKey()).append(": ").append(v.getLong("count")).append('\n');
      v.getJsonArray("examples").forEach(x -> sb.append("    e.g. ").append(x).append('\n'));
    });
    return sb.toString();
  }
}
