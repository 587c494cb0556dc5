package io.switchboard.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Row;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.HdrHistogram.Histogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code cluster}: the chat workload against N relays clustered on 127.0.0.1 that share one
 * Postgres, after the same workload against one clustered relay (side by side in one result).
 * The shared Postgres is a relay's own embedded one: a relay started plainly (no cluster, no
 * clients) whose database the nodes reach through {@code DATABASE_URL}, as relays share a managed
 * Postgres in production. Clients are {@link ChaosClient}s (resume, history gap fill, outbox):
 * {@code --spread rooms} puts every client of a room on the room's owner (asked of
 * {@code POST /cluster/owners}); {@code --spread clients} puts client i on node i mod N, so each
 * room's clients span nodes (the cross-node case, which needs forwarding between relays).
 * Send-to-deliver latency is split into same-node and cross-node deliveries (the sender's node at
 * send time against the receiver's at delivery). {@code --kill-owner} kills -9 the node that owns
 * the most rooms mid-window and times every one of its clients until it is caught up on another
 * node; the {@link InvariantChecker} then judges acks, seqs and every view against the database.
 */
final class ClusterScenario {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterScenario.class);
  private static final long CLUSTER_FORM_TIMEOUT_MS = 120_000;
  /** Bounds the wait for every client to be in its room before sending starts (joins can be slow under load). */
  private static final long JOIN_WAIT_MS = 60_000;
  private static final long JOIN_STALL_MS = 15_000;

  private final Options o;
  private final long seed;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();

  private ClusterScenario(Options o) {
    this.o = o;
    this.seed = o.has("seed") ? Long.parseLong(o.s("seed")) : System.nanoTime();
  }

  static void validate(Options o) {
    o.require(o.i("nodes") >= 1 && o.i("nodes") <= 8, "need 1 <= --nodes <= 8");
    o.require(o.i("clients") >= 2 && o.i("room-size") >= 2 && o.i("room-size") <= o.i("clients"),
        "need --clients >= 2 and 2 <= --room-size <= --clients");
    o.require(o.d("rate") > 0 && o.d("rate") <= 20, "need 0 < --rate <= 20 (the relay allows 50 frames/s per connection)");
    o.require(o.i("duration") >= 2 && o.i("duration") <= 3600 && o.i("warmup") >= 0 && o.i("drain") >= 1
        && o.i("drain") <= 600, "need 2 <= --duration <= 3600, --warmup >= 0, 1 <= --drain <= 600");
    o.require(o.i("lease-ms") == 0 || o.i("lease-ms") >= 500, "need --lease-ms 0 (the relay's default) or >= 500");
    if (o.b("kill-owner")) {
      o.require(o.i("nodes") >= 2, "--kill-owner needs --nodes >= 2 (someone must take the rooms over)");
      o.require(o.i("kill-at") >= 0 && o.i("kill-at") < o.i("duration"),
          "need 0 <= --kill-at < --duration (0 = half of it)");
    }
  }

  static JsonObject run(Options o) throws Exception {
    return new ClusterScenario(o).execute();
  }

  private JsonObject execute() throws Exception {
    JsonObject result = new JsonObject().put("scenario", "cluster");
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(LoadDriver.eventLoops(o.asMap())));
    // the database: a plain relay's embedded Postgres, started once for both runs
    try (RelayProcess db = Bench.startRelay(o, List.of("-Xmx128m"), Map.of())) {
      String url = "postgres://postgres:" + db.pgPassword() + "@127.0.0.1:" + db.pgPort + "/postgres";
      String run = Long.toString(Math.abs(seed) % 1_000_000, 36);
      long violations = 0;
      boolean invalid = false;
      if (o.b("baseline")) {
        JsonObject one = new Phase(vertx, db, url, 1, "cl1-" + run, false).run();
        result.put("oneNode", one);
        violations += one.getLong("violations", 0L);
        invalid |= one.getBoolean("invalid", false);
      }
      JsonObject many = new Phase(vertx, db, url, o.i("nodes"), "cl" + o.i("nodes") + "-" + run, o.b("kill-owner")).run();
      result.put("cluster", many);
      violations += many.getLong("violations", 0L);
      invalid |= many.getBoolean("invalid", false);
      for (JsonObject phase : List.of(result.getJsonObject("oneNode", new JsonObject()), many)) {
        if (phase.containsKey("invalidReason")) {
          result.put("invalidReason", phase.getString("invalidReason"));
        }
      }
      result.put("violations", violations).put("invalid", invalid)
          .put("params", new JsonObject().put("nodes", o.i("nodes")).put("clients", o.i("clients"))
              .put("roomSize", o.i("room-size")).put("rate", o.d("rate")).put("durationS", o.i("duration"))
              .put("warmupS", o.i("warmup")).put("spread", o.s("spread")).put("killOwner", o.b("kill-owner"))
              .put("leaseMs", o.i("lease-ms")).put("seed", seed)
              .put("database", "one Postgres (a plain relay's embedded one) shared by every node over 127.0.0.1"));
      if (!db.alive()) {
        result.put("invalid", true).put("invalidReason", "the database's relay died:\n" + db.tail(20));
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    return result;
  }

  /** One run: n nodes started, clients spread, the window measured, the nodes stopped. */
  private final class Phase {
    final Vertx vertx;
    final RelayProcess db;
    final String databaseUrl;
    final int n;
    final String prefix;
    final boolean killOwner;
    final List<RelayProcess> nodes = new ArrayList<>();
    final Map<Integer, String> nodeIdByPort = new HashMap<>();
    final Map<String, RelayProcess> nodeById = new HashMap<>();
    final InvariantChecker checker = new InvariantChecker();
    final ChaosClient.Totals totals = new ChaosClient.Totals();
    final JsonArray events = new JsonArray();
    final ClusterLatency lat = new ClusterLatency();
    volatile int killedPort = -1;
    long windowFrom;
    long windowTo;
    long t0;
    WebSocketClient ws;
    io.vertx.core.http.HttpClient admin;
    NetClient net;

    Phase(Vertx vertx, RelayProcess db, String databaseUrl, int n, String prefix, boolean killOwner) {
      this.vertx = vertx;
      this.db = db;
      this.databaseUrl = databaseUrl;
      this.n = n;
      this.prefix = prefix;
      this.killOwner = killOwner;
    }

    JsonObject run() throws Exception {
      // Vert.x 5 closes unreferenced clients when collected: these live in fields for the phase
      ws = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(10_000)
          .setConnectTimeout(5000).setMaxFrameSize(1 << 20).setMaxMessageSize(4 << 20));
      admin = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(1000));
      net = vertx.createNetClient(new NetClientOptions().setConnectTimeout(500));
      JsonObject r = new JsonObject().put("nodes", n);
      t0 = System.nanoTime();
      try {
        long started = System.nanoTime();
        startNodes();
        r.put("nodesReadySeconds", seconds(System.nanoTime() - started));
        awaitCluster();
        r.put("clusterFormedSeconds", seconds(System.nanoTime() - started));
        measure(r);
      } finally {
        stopNodes(r);
        ws.close();
        admin.close();
        net.close();
      }
      r.put("events", events);
      return r;
    }

    private void startNodes() throws Exception {
      int[] clusterPorts = RelayProcess.freePorts(n);
      List<String> members = new ArrayList<>();
      for (int p : clusterPorts) {
        members.add("127.0.0.1:" + p);
      }
      for (int i = 0; i < n; i++) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("DATABASE_URL", databaseUrl);
        env.put("SWITCHBOARD_CLUSTER_MEMBERS", String.join(",", members));
        env.put("SWITCHBOARD_CLUSTER_HOST", "127.0.0.1");
        env.put("SWITCHBOARD_CLUSTER_PORT", Integer.toString(clusterPorts[i]));
        if (o.i("lease-ms") > 0) {
          env.put("SWITCHBOARD_STORE_LEASE_MS", Integer.toString(o.i("lease-ms")));
        }
        nodes.add(new RelayProcess(RelayProcess.findJar(o.s("relay-jar")), javaOpts(), env));
      }
      // at once: a node listing members that are not up yet waits for them
      List<Thread> starters = new ArrayList<>();
      List<Exception> failures = java.util.Collections.synchronizedList(new ArrayList<>());
      for (RelayProcess node : nodes) {
        Thread t = new Thread(() -> {
          try {
            node.start();
          } catch (Exception e) {
            failures.add(e);
          }
        }, "start-node");
        t.start();
        starters.add(t);
      }
      for (Thread t : starters) {
        t.join();
      }
      if (!failures.isEmpty()) {
        throw failures.get(0);
      }
      event(n + " nodes ready");
    }

    private List<String> javaOpts() {
      List<String> opts = new ArrayList<>(Bench.RELAY_RUN_FLAGS);
      if (!o.s("server-java-opts").isBlank()) {
        opts.addAll(List.of(o.s("server-java-opts").trim().split("\\s+")));
      }
      return opts;
    }

    /** Until every node's {@code GET /cluster} lists n members; learns each node's id. */
    private void awaitCluster() throws Exception {
      long until = System.nanoTime() + CLUSTER_FORM_TIMEOUT_MS * 1_000_000;
      while (true) {
        boolean formed = true;
        for (RelayProcess node : nodes) {
          JsonObject c = getJson(node.adminUrl() + "/cluster");
          if (c == null || c.getInteger("size", 0) != n) {
            formed = false;
            break;
          }
          nodeIdByPort.put(node.port, c.getString("node"));
          nodeById.put(c.getString("node"), node);
        }
        if (formed) {
          event("cluster of " + n + " formed");
          return;
        }
        for (RelayProcess node : nodes) {
          if (!node.alive()) {
            throw new IllegalStateException("node " + node.port + " exited while the cluster formed:\n" + node.tail(30));
          }
        }
        if (System.nanoTime() > until) {
          throw new IllegalStateException("no cluster of " + n + " after " + CLUSTER_FORM_TIMEOUT_MS / 1000 + " s");
        }
        Thread.sleep(200);
      }
    }

    private void measure(JsonObject r) throws Exception {
      int clients = o.i("clients");
      int roomSize = o.i("room-size");
      List<String> rooms = new ArrayList<>();
      for (int i = 0; i < (clients + roomSize - 1) / roomSize; i++) {
        rooms.add(prefix + "-r" + i);
      }
      Map<String, String> owners = owners(nodes.get(0), rooms);
      Map<String, Integer> roomsPerNode = new LinkedHashMap<>();
      owners.values().forEach(id -> roomsPerNode.merge(id, 1, Integer::sum));
      ChatText text = new ChatText(seed, 500);
      List<ChaosClient> all = new ArrayList<>();
      long periodMs = Math.max(1, Math.round(1000 / o.d("rate")));
      boolean byRoom = o.s("spread").equals("rooms");
      for (int i = 0; i < clients; i++) {
        String room = rooms.get(i / roomSize);
        ChaosClient.Route route = byRoom
            ? new OwnerRoute(room, nodeById.get(owners.get(room)).port, i)
            : new HomeRoute(i % n);
        ChaosClient c = new ChaosClient(i, vertx, ws, route, lat, List.of(room), checker, totals, text);
        all.add(c);
        c.start(periodMs, Bench.clientRandom(seed, i).nextInt((int) periodMs));
      }
      // until all are in, at most JOIN_WAIT_MS, and no longer than JOIN_STALL_MS without one more
      // (clients a relay cannot take, e.g. --spread clients without forwarding, never will be)
      long joinBy = System.nanoTime() + JOIN_WAIT_MS * 1_000_000;
      long stallBy = System.nanoTime() + JOIN_STALL_MS * 1_000_000;
      int notJoined = clients;
      while (System.nanoTime() < joinBy && System.nanoTime() < stallBy) {
        int now = ChaosScenario.progress(all)[1];
        if (now == 0) {
          notJoined = 0;
          break;
        }
        if (now < notJoined) {
          stallBy = System.nanoTime() + JOIN_STALL_MS * 1_000_000;
        }
        notJoined = now;
        Thread.sleep(50);
      }
      event((clients - notJoined) + " of " + clients + " clients in their rooms");
      r.put("clientsNotJoinedAtStart", notJoined);
      Map<Integer, Integer> clientsPerPort = clientPorts(all);
      all.forEach(c -> c.sending(true));
      long sendFrom = System.nanoTime();
      windowFrom = sendFrom + o.i("warmup") * 1_000_000_000L;
      windowTo = windowFrom + o.i("duration") * 1_000_000_000L;
      lat.window(windowFrom, windowTo);
      event("sending (warm-up " + o.i("warmup") + " s)");
      AtomicLongArray maxRssKb = new AtomicLongArray(n);
      Thread rss = new Thread(() -> sampleRss(maxRssKb), "cluster-rss");
      rss.setDaemon(true);
      rss.start();
      sleepUntil(windowFrom);
      long[] cpuFrom = new long[n];
      long[] cpuTo = new long[n];
      java.util.Arrays.fill(cpuTo, -1); // a node that died unexpectedly has no end reading
      for (int i = 0; i < n; i++) {
        cpuFrom[i] = ServerSampler.readCpuTicks(nodes.get(i).pid());
      }
      event("measuring " + o.i("duration") + " s");
      JsonObject kill = null;
      if (killOwner) {
        int at = o.i("kill-at") > 0 ? o.i("kill-at") : o.i("duration") / 2;
        sleepUntil(windowFrom + at * 1_000_000_000L);
        kill = killOwner(all, cpuTo);
      }
      sleepUntil(windowTo);
      for (int i = 0; i < n; i++) {
        if (nodes.get(i).alive()) {
          cpuTo[i] = ServerSampler.readCpuTicks(nodes.get(i).pid());
        }
      }
      all.forEach(c -> c.sending(false));
      event("sending stopped");
      int[] left = drain(all);
      r.put("unackedAtEnd", left[0]).put("clientsNotSettledAtEnd", left[1]);
      readDatabase(rooms);
      CountDownLatch done = new CountDownLatch(all.size());
      all.forEach(c -> c.finish(done::countDown));
      done.await(10, TimeUnit.SECONDS);
      rss.interrupt();
      JsonObject verdict = checker.verdict(Integer.MAX_VALUE); // RSS is reported per node, not judged here
      r.put("violations", verdict.getLong("violations")).put("invariants", verdict);
      if (kill != null) {
        kill.put("caughtUpMs", latency(lat.catchUp))
            .put("notCaughtUp", kill.getInteger("clients") - lat.catchUp.getTotalCount());
        r.put("killOwner", kill);
      }
      r.put("rooms", rooms.size()).put("roomsPerNode", new JsonObject(new LinkedHashMap<>(roomsPerNode)));
      r.put("latencyMs", new JsonObject()
          .put("note", "send -> live delivery of messages sent in the measured window"
              + (killOwner ? " and delivered before the kill; afterKill: the rest (resume replays included)" : "")
              + "; cross = sender and receiver on different relays")
          .put("all", latency(lat.all)).put("sameNode", latency(lat.same)).put("crossNode", latency(lat.cross))
          .put("afterKill", latency(lat.afterKill))
          .put("cdfAll", Charts.cdf(lat.all)).put("cdfSame", Charts.cdf(lat.same)).put("cdfCross", Charts.cdf(lat.cross)));
      double measuredS = kill != null ? kill.getDouble("atSeconds") : o.i("duration"); // steady part only
      r.put("deliveriesPerSecond", Math.round(lat.all.getTotalCount() / measuredS * 10) / 10.0)
          .put("sentInWindow", lat.sentInWindow.sum())
          .put("messages", totals.json())
          .put("roomUnavailable", totals.errors.getOrDefault("room_unavailable", new AtomicLong()).get());
      JsonArray perNode = new JsonArray();
      for (int i = 0; i < n; i++) {
        RelayProcess node = nodes.get(i);
        String id = nodeIdByPort.get(node.port);
        double cpu = ServerSampler.secondsBetween(cpuFrom[i], cpuTo[i]);
        double windowS = kill != null && node.port == kill.getInteger("port") ? kill.getDouble("atSeconds") : o.i("duration");
        perNode.add(new JsonObject().put("node", id).put("port", node.port).put("pid", node.pid())
            .put("roomsOwned", roomsPerNode.getOrDefault(id, 0))
            .put("clientsAtStart", clientsPerPort.getOrDefault(node.port, 0))
            .put("cpuSecondsMeasured", cpu)
            .put("cpuPercent", cpu < 0 || windowS <= 0 ? null : Math.round(cpu / windowS * 1000) / 10.0)
            .put("maxRssMb", maxRssKb.get(i) < 0 ? null : maxRssKb.get(i) / 1024)
            .put("alive", node.alive()));
      }
      r.put("perNode", perNode);
    }

    /** kill -9 of the node that owns the most rooms (by placement); its clients are timed from here. */
    private JsonObject killOwner(List<ChaosClient> all, long[] cpuTo) throws Exception {
      List<String> rooms = new ArrayList<>();
      Map<String, Integer> count = new HashMap<>();
      for (int i = 0; i < (o.i("clients") + o.i("room-size") - 1) / o.i("room-size"); i++) {
        rooms.add(prefix + "-r" + i);
      }
      owners(nodes.get(0), rooms).values().forEach(id -> count.merge(id, 1, Integer::sum));
      String victimId = count.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
      RelayProcess victim = nodeById.get(victimId);
      Map<Integer, Integer> ports = clientPorts(all);
      List<ChaosClient> onVictim = new ArrayList<>();
      CountDownLatch asked = new CountDownLatch(all.size());
      List<ChaosClient> sync = java.util.Collections.synchronizedList(onVictim);
      for (ChaosClient c : all) {
        c.port(p -> {
          if (p == victim.port) {
            sync.add(c);
          }
          asked.countDown();
        });
      }
      asked.await(5, TimeUnit.SECONDS);
      int index = nodes.indexOf(victim);
      cpuTo[index] = ServerSampler.readCpuTicks(victim.pid());
      long at = System.nanoTime();
      lat.killedAt(at);
      killedPort = victim.port;
      onVictim.forEach(c -> c.markKill(at));
      victim.kill();
      event("killed node " + victimId + " (port " + victim.port + ", pid " + victim.pid() + ") with SIGKILL: it owned "
          + count.get(victimId) + " rooms, " + onVictim.size() + " clients were on it");
      return new JsonObject().put("node", victimId).put("port", victim.port).put("roomsOwned", count.get(victimId))
          .put("clients", onVictim.size()).put("clientsPerPortBefore", ports.toString())
          .put("atSeconds", seconds(at - windowFrom));
    }

    private Map<Integer, Integer> clientPorts(List<ChaosClient> all) throws InterruptedException {
      Map<Integer, Integer> out = new ConcurrentHashMap<>();
      CountDownLatch l = new CountDownLatch(all.size());
      all.forEach(c -> c.port(p -> {
        out.merge(p, 1, Integer::sum);
        l.countDown();
      }));
      l.await(5, TimeUnit.SECONDS);
      return new HashMap<>(out);
    }

    private int[] drain(List<ChaosClient> all) throws InterruptedException {
      long until = System.nanoTime() + o.i("drain") * 1_000_000_000L;
      int[] now = ChaosScenario.progress(all);
      while (System.nanoTime() < until && (now[0] > 0 || now[1] > 0)) {
        Thread.sleep(200);
        now = ChaosScenario.progress(all);
      }
      Thread.sleep(500); // the last msg frames after the last acks
      event("drained: " + now[0] + " sends never acked stored:true, " + now[1] + " clients not back in their room");
      return now;
    }

    private void readDatabase(List<String> rooms) {
      try {
        PgConnection c = PgConnection.connect(vertx, db.databaseOptions()).toCompletionStage().toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
        try {
          long count = 0;
          for (Row row : c.preparedQuery("SELECT room, seq, sender, cid, body FROM messages WHERE room LIKE $1"
                  + " ORDER BY room, seq").execute(io.vertx.sqlclient.Tuple.of(prefix + "-%"))
              .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS)) {
            checker.dbRow(row.getString(0), row.getLong(1), row.getString(2), row.getString(3), row.getString(4));
            count++;
          }
          if (count == 0) {
            checker.dbReadEmpty();
          }
          event("database read: " + count + " rows");
        } finally {
          c.close();
        }
      } catch (Exception e) {
        LOG.error("cannot read the database", e);
        event("database not read: " + e);
      }
    }

    private void sampleRss(AtomicLongArray max) {
      for (int i = 0; i < n; i++) {
        max.set(i, -1);
      }
      try {
        while (!Thread.currentThread().isInterrupted()) {
          for (int i = 0; i < n; i++) {
            RelayProcess node = nodes.get(i);
            long kb = node.alive() ? ServerSampler.readVmRssKb(node.pid()) : -1;
            if (kb > max.get(i)) {
              max.set(i, kb);
            }
          }
          Thread.sleep(1000);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    private void stopNodes(JsonObject r) {
      JsonObject warnings = new JsonObject();
      boolean died = false;
      List<Thread> stoppers = new ArrayList<>();
      for (RelayProcess node : nodes) {
        if (!node.alive() && node.port != killedPort) {
          died = true;
          r.put("invalidReason", "node " + node.port + " died during the run:\n" + node.tail(20));
        }
        warnings.put(Integer.toString(node.port), new JsonArray(node.warnings(10)));
        Thread t = new Thread(node::close, "stop-node"); // SIGTERM drains: stop them together
        t.start();
        stoppers.add(t);
      }
      for (Thread t : stoppers) {
        try {
          t.join(30_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      r.put("invalid", died).put("serverLogWarnings", warnings);
    }

    // ---- routes ----

    /** --spread clients: node {@code home}; when it does not take connections, the next one that does. */
    private final class HomeRoute implements ChaosClient.Route {
      final int home;

      HomeRoute(int home) {
        this.home = home;
      }

      @Override
      public Future<Integer> port(int lastPort, boolean failed) {
        return firstReachable(home, 0);
      }

      private Future<Integer> firstReachable(int from, int tried) {
        if (tried >= n) {
          return Future.failedFuture("no node takes connections");
        }
        int port = nodes.get((from + tried) % n).port;
        return net.connect(port, "127.0.0.1").compose(s -> s.close().map(port), e -> firstReachable(from, tried + 1));
      }
    }

    /** --spread rooms: the room's owner; after a failure the owner asked again of any node that answers. */
    private final class OwnerRoute implements ChaosClient.Route {
      final String room;
      final int askFirst;
      int owner;

      OwnerRoute(String room, int owner, int idx) {
        this.room = room;
        this.owner = owner;
        this.askFirst = idx % n;
      }

      @Override
      public Future<Integer> port(int lastPort, boolean failed) {
        if (!failed) {
          return Future.succeededFuture(owner);
        }
        return ask(0).map(id -> {
          RelayProcess node = nodeById.get(id);
          if (node == null) {
            throw new IllegalStateException("unknown owner " + id);
          }
          owner = node.port;
          return owner;
        });
      }

      private Future<String> ask(int tried) {
        if (tried >= n) {
          return Future.failedFuture("no node answers /cluster/owners");
        }
        RelayProcess node = nodes.get((askFirst + tried) % n);
        return admin.request(new RequestOptions().setMethod(HttpMethod.POST).setTimeout(2000)
                .setAbsoluteURI(node.adminUrl() + "/cluster/owners"))
            .compose(req -> req.send(Buffer.buffer(new JsonArray().add(room).encode())))
            .compose(resp -> resp.statusCode() == 200 ? resp.body() : Future.failedFuture("status " + resp.statusCode()))
            .map(b -> new JsonObject(b).getJsonObject("owners").getString(room))
            .recover(e -> ask(tried + 1));
      }
    }

    // ---- helpers ----

    private Map<String, String> owners(RelayProcess node, List<String> rooms) throws Exception {
      HttpResponse<String> resp = http.send(HttpRequest.newBuilder(URI.create(node.adminUrl() + "/cluster/owners"))
          .timeout(Duration.ofSeconds(5))
          .POST(HttpRequest.BodyPublishers.ofString(new JsonArray(new ArrayList<>(rooms)).encode())).build(),
          HttpResponse.BodyHandlers.ofString());
      if (resp.statusCode() != 200) {
        throw new IllegalStateException("POST /cluster/owners: " + resp.statusCode() + " " + resp.body());
      }
      Map<String, String> out = new LinkedHashMap<>();
      new JsonObject(resp.body()).getJsonObject("owners").forEach(e -> out.put(e.getKey(), (String) e.getValue()));
      return out;
    }

    private void event(String what) {
      double t = Math.round((System.nanoTime() - t0) / 1e7) / 100.0;
      synchronized (events) {
        events.add(new JsonObject().put("t", t).put("event", what));
      }
      LOG.info("cluster[{}] {}s: {}", n, t, what);
    }
  }

  private JsonObject getJson(String url) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(),
          HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? new JsonObject(r.body()) : null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } catch (Exception e) {
      return null;
    }
  }

  private static void sleepUntil(long nanos) throws InterruptedException {
    long wait = (nanos - System.nanoTime()) / 1_000_000;
    if (wait > 0) {
      Thread.sleep(wait);
    }
  }

  private static double seconds(long nanos) {
    return Math.round(nanos / 1e7) / 100.0;
  }

  private static JsonObject latency(Histogram h) {
    return new JsonObject().put("count", h.getTotalCount())
        .put("p50", ms(h.getValueAtPercentile(50))).put("p99", ms(h.getValueAtPercentile(99)))
        .put("max", ms(h.getMaxValue())).put("mean", Math.round(h.getMean() / 1000.0) / 1000.0);
  }

  private static double ms(long nanos) {
    return Math.round(nanos / 1000.0) / 1000.0;
  }

  // ---- report ---------------------------------------------------------------------------------

  static String summary(JsonObject r) {
    JsonObject p = r.getJsonObject("params", new JsonObject());
    StringBuilder sb = new StringBuilder(String.format("cluster: %d clients in rooms of %d at %s msg/s, %d s measured"
            + " (+%d s warm-up), spread %s; %s%n", p.getInteger("clients", 0), p.getInteger("roomSize", 0),
        p.getValue("rate"), p.getInteger("durationS", 0), p.getInteger("warmupS", 0), p.getString("spread"),
        p.getString("database")));
    List<JsonObject> runs = new ArrayList<>();
    if (r.containsKey("oneNode")) {
      runs.add(r.getJsonObject("oneNode"));
    }
    if (r.containsKey("cluster")) {
      runs.add(r.getJsonObject("cluster"));
    }
    sb.append(String.format("%-34s", ""));
    runs.forEach(x -> sb.append(String.format("%22s", x.getInteger("nodes") + (x.getInteger("nodes") == 1 ? " node" : " nodes"))));
    sb.append('\n');
    row(sb, runs, "cluster formed (s)", x -> String.valueOf(x.getValue("clusterFormedSeconds")));
    row(sb, runs, "send->deliver p50 / p99 ms", x -> pp(x, "all"));
    row(sb, runs, "  same-node   p50 / p99 ms", x -> pp(x, "sameNode"));
    row(sb, runs, "  cross-node  p50 / p99 ms", x -> pp(x, "crossNode"));
    row(sb, runs, "deliveries same / cross", x -> lat(x, "sameNode").getLong("count", 0L) + " / "
        + lat(x, "crossNode").getLong("count", 0L));
    row(sb, runs, "deliveries/s", x -> String.valueOf(x.getValue("deliveriesPerSecond")));
    row(sb, runs, "sent in window / acked stored", x -> x.getLong("sentInWindow", 0L) + " / "
        + x.getJsonObject("messages", new JsonObject()).getLong("ackedStored", 0L));
    row(sb, runs, "room_unavailable errors", x -> String.valueOf(x.getLong("roomUnavailable", 0L)));
    row(sb, runs, "clients not joined at start", x -> String.valueOf(x.getValue("clientsNotJoinedAtStart")));
    row(sb, runs, "unacked / unsettled at end", x -> x.getValue("unackedAtEnd") + " / " + x.getValue("clientsNotSettledAtEnd"));
    row(sb, runs, "invariant violations", x -> String.valueOf(x.getLong("violations", -1L)));
    for (JsonObject x : runs) {
      sb.append(String.format("%d node(s), per node:%n", x.getInteger("nodes")));
      x.getJsonArray("perNode", new JsonArray()).forEach(e -> {
        JsonObject nd = (JsonObject) e;
        sb.append(String.format("  port %-6d rooms %-4d clients %-4d CPU %s%% (%s s)  max RSS %s MB%s%n",
            nd.getInteger("port"), nd.getInteger("roomsOwned"), nd.getInteger("clientsAtStart"), nd.getValue("cpuPercent"),
            nd.getValue("cpuSecondsMeasured"), nd.getValue("maxRssMb"), nd.getBoolean("alive") ? "" : "  (dead at end)"));
      });
      JsonObject k = x.getJsonObject("killOwner");
      if (k != null) {
        JsonObject c = k.getJsonObject("caughtUpMs", new JsonObject());
        sb.append(String.format("  kill -9 of port %d (%d rooms, %d clients) at %.1f s: caught up p50 %s ms, max %s ms"
                + " (%d clients), never %d; deliveries after the kill p50 %s ms p99 %s ms%n",
            k.getInteger("port"), k.getInteger("roomsOwned"), k.getInteger("clients"), k.getDouble("atSeconds"),
            c.getValue("p50"), c.getValue("max"), c.getLong("count", 0L), k.getLong("notCaughtUp", 0L),
            lat(x, "afterKill").getValue("p50"), lat(x, "afterKill").getValue("p99")));
      }
      JsonObject inv = x.getJsonObject("invariants", new JsonObject());
      inv.getJsonObject("byKind", new JsonObject()).forEach(e -> {
        JsonObject v = (JsonObject) e.getValue();
        sb.append("  VIOLATION ").append(e.getKey()).append(": ").append(v.getLong("count")).append('\n');
        v.getJsonArray("examples").forEach(ex -> sb.append("    e.g. ").append(ex).append('\n'));
      });
    }
    if (r.getJsonObject("cluster", new JsonObject()).getLong("roomUnavailable", 0L) > 0) {
      sb.append("room_unavailable: a client's relay could not take its room (on a relay without forwarding,"
          + " a room is sequenced by the relay that claimed it; --spread clients needs forwarding)\n");
    }
    return sb.toString();
  }

  private static JsonObject lat(JsonObject x, String which) {
    return x.getJsonObject("latencyMs", new JsonObject()).getJsonObject(which, new JsonObject());
  }

  private static String pp(JsonObject x, String which) {
    JsonObject l = lat(x, which);
    return l.getLong("count", 0L) == 0 ? "-" : l.getValue("p50") + " / " + l.getValue("p99");
  }

  private static void row(StringBuilder sb, List<JsonObject> runs, String label, java.util.function.Function<JsonObject, String> f) {
    sb.append(String.format("%-34s", label));
    runs.forEach(x -> sb.append(String.format("%22s", f.apply(x))));
    sb.append('\n');
  }

  /** The CDF chart's series: 1 node, then the cluster's same-node and cross-node deliveries. */
  static Map<String, JsonArray> cdfs(JsonObject r) {
    Map<String, JsonArray> s = new LinkedHashMap<>();
    if (r.containsKey("oneNode")) {
      s.put("1 node", r.getJsonObject("oneNode").getJsonObject("latencyMs", new JsonObject()).getJsonArray("cdfAll", new JsonArray()));
    }
    JsonObject c = r.getJsonObject("cluster", new JsonObject());
    JsonObject l = c.getJsonObject("latencyMs", new JsonObject());
    s.put(c.getInteger("nodes", 0) + " nodes, same node", l.getJsonArray("cdfSame", new JsonArray()));
    s.put(c.getInteger("nodes", 0) + " nodes, cross node", l.getJsonArray("cdfCross", new JsonArray()));
    s.values().removeIf(JsonArray::isEmpty);
    return s;
  }
}
