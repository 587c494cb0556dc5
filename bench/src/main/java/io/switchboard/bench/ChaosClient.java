package io.switchboard.bench;

import io.switchboard.bench.InvariantChecker.Msg;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One chaos user: one WebSocket, a few rooms, sending at a fixed rate and behaving like the SDK
 * when the relay goes away: reconnects with backoff, sends {@code hello} with its token and
 * {@code resume} (the last seq it holds per room, in the epoch form {@code {"seq","epoch"}} once the
 * relay has named an epoch, else the legacy number), reconciles a {@code joined.divergedAfter}
 * (drops what it holds past that point), fills a replay gap with {@code history}, and keeps an
 * outbox of sends not yet acked {@code stored:true}, re-sent with {@code resend:true} after each
 * (re)join and while unanswered, paced under the relay's rate limit. Everything it sees goes to the {@link InvariantChecker}. All state
 * is confined to one Vert.x context. A {@link Route} picks the relay before every connect (the
 * cluster scenario moves a client to another node when its node dies); a {@link Probe} sees every
 * send and live delivery with the port they went through (the cluster scenario's latencies).
 */
final class ChaosClient {
  /** Which relay port the client connects to next. */
  interface Route {
    /**
     * @param lastPort the port of the last attempt, or -1 before the first
     * @param failed the last attempt failed: it did not connect, the socket dropped, or a room was unavailable
     */
    Future<Integer> port(int lastPort, boolean failed);

    static Route fixed(int port) {
      return (last, failed) -> Future.succeededFuture(port);
    }
  }

  /** Observes a client's traffic, on its context. */
  interface Probe {
    Probe NONE = new Probe() { };

    /** A send (not a re-send) left through {@code port}. */
    default void sent(String cid, int port, long nanos) { }

    /** A message arrived live ({@code msg} frame, first time) through {@code port}. */
    default void delivered(String cid, int port, long nanos) { }

    /** Caught up after {@link #markKill}: see there. */
    default void caughtUp(int idx, long nanos) { }
  }

  private static final long RESEND_AFTER_MS = 3000;
  private static final long MAX_RESEND_AFTER_MS = 30_000;
  /** Re-sends go out at most 8 per 250 ms (32/s): with the live sends under the relay's 50 frames/s. */
  private static final long RESEND_TICK_MS = 250;
  private static final int RESEND_PER_TICK = 8;
  private static final long JOIN_TIMEOUT_MS = 5000;
  private static final int MAX_GAP_PAGES = 20;

  /** What a client knows about one room. */
  private static final class RoomState {
    Long viewFrom; // the head at the first join: the view starts after it
    final TreeMap<Long, Msg> view = new TreeMap<>();
    String epoch;
    boolean joined;
    boolean diverged;
    long gapLow = -1; // filling (gapLow, gapHigh) with history pages
    int gapPages;

    long lastSeq() {
      long held = view.isEmpty() ? 0 : view.lastKey();
      return Math.max(viewFrom == null ? 0 : viewFrom, held);
    }
  }

  /**
   * {@code accepted}: acked {@code stored:false}, a {@code stored:true} follows; only a rejoin re-sends
   * it. {@code tries}: re-sends since the last (re)join; each waits twice as long (3 s up to 30 s).
   */
  private record Pending(String room, String body, long sentAtMs, boolean accepted, int tries) {
    long dueAtMs() {
      return sentAtMs + Math.min(RESEND_AFTER_MS << Math.min(tries, 4), MAX_RESEND_AFTER_MS);
    }
  }

  /** Counters every client adds to (the scenario's summary). */
  static final class Totals {
    final AtomicLong sent = new AtomicLong();
    final AtomicLong resent = new AtomicLong();
    final AtomicLong ackedStored = new AtomicLong();
    final AtomicLong ackedUnstored = new AtomicLong();
    final AtomicLong received = new AtomicLong();
    final AtomicLong connects = new AtomicLong();
    final AtomicLong resumes = new AtomicLong();
    final AtomicLong resumedRecoveredFalse = new AtomicLong();
    final AtomicLong divergedAfter = new AtomicLong();
    final AtomicLong droppedOnDivergence = new AtomicLong();
    final AtomicLong gapPages = new AtomicLong();
    final Map<String, AtomicLong> errors = new java.util.concurrent.ConcurrentHashMap<>();

    JsonObject json() {
      JsonObject e = new JsonObject();
      errors.forEach((k, v) -> e.put(k, v.get()));
      return new JsonObject().put("sent", sent.get()).put("resent", resent.get()).put("ackedStored", ackedStored.get())
          .put("ackedStoredFalse", ackedUnstored.get()).put("msgReceived", received.get())
          .put("connects", connects.get()).put("resumes", resumes.get())
          .put("resumedRecoveredFalse", resumedRecoveredFalse.get()).put("divergedAfter", divergedAfter.get())
          .put("messagesDroppedOnDivergence", droppedOnDivergence.get()).put("gapHistoryPages", gapPages.get())
          .put("errorFrames", e);
    }
  }

  private final int idx;
  private final Vertx vertx;
  private final WebSocketClient client;
  private final Route route;
  private final Probe probe;
  private int port = -1;
  private boolean failed;
  /** Since {@link #markKill}: when it happened (0: not waiting), its unacked sends then, a welcome since. */
  private long killNanos;
  private java.util.Set<String> pendingAtKill = java.util.Set.of();
  private boolean welcomedSinceKill;
  private final List<String> rooms;
  private final InvariantChecker checker;
  private final Totals totals;
  private final ChatText text;
  private final Context ctx;
  private final Map<String, RoomState> state = new LinkedHashMap<>();
  private final LinkedHashMap<String, Pending> outbox = new LinkedHashMap<>();
  /** Every body this client sent, by cid: an ack names the message by cid only. */
  private final Map<String, String> bodies = new HashMap<>();
  private String user;
  private String token;
  private WebSocket ws;
  private boolean welcomed;
  private boolean stopped;
  private boolean sending;
  private long n;
  private int attempt;
  private long joinDeadlineTimer = -1;

  ChaosClient(int idx, Vertx vertx, WebSocketClient client, int port, List<String> rooms, InvariantChecker checker,
      Totals totals, ChatText text) {
    this(idx, vertx, client, Route.fixed(port), Probe.NONE, rooms, checker, totals, text);
  }

  ChaosClient(int idx, Vertx vertx, WebSocketClient client, Route route, Probe probe, List<String> rooms,
      InvariantChecker checker, Totals totals, ChatText text) {
    this.idx = idx;
    this.vertx = vertx;
    this.client = client;
    this.route = route;
    this.probe = probe;
    this.rooms = rooms;
    this.checker = checker;
    this.totals = totals;
    this.text = text;
    this.ctx = ((io.vertx.core.internal.VertxInternal) vertx).createEventLoopContext(); // one loop per client, round robin
    rooms.forEach(r -> state.put(r, new RoomState()));
  }

  /** Connects and, every {@code periodMs}, sends one message to one of its rooms while sending is on. */
  void start(long periodMs, long phaseMs) {
    ctx.runOnContext(v -> {
      connect();
      vertx.setTimer(Math.max(1, phaseMs), t -> vertx.setPeriodic(periodMs, p -> sendOne()));
      vertx.setPeriodic(RESEND_TICK_MS, p -> resendOverdue());
      vertx.setPeriodic(10_000, p -> send(new JsonObject().put("t", "ping")));
    });
  }

  void sending(boolean on) {
    ctx.runOnContext(v -> sending = on);
  }

  /** Unacked sends left, and whether it is connected with every room joined and no history gap open. */
  void progress(java.util.function.BiConsumer<Integer, Boolean> to) {
    ctx.runOnContext(v -> to.accept(outbox.size(),
        welcomed && allJoined() && state.values().stream().allMatch(s -> s.gapLow < 0)));
  }

  /** The port it is connected (or connecting) to, or -1. */
  void port(java.util.function.IntConsumer to) {
    ctx.runOnContext(v -> to.accept(port));
  }

  /**
   * Its node was just killed: from now on, wait until it is caught up (welcomed again, every room
   * rejoined, any replay gap filled from history, every send unacked at the kill acked stored:true),
   * then tell the probe how long that took.
   */
  void markKill(long nanos) {
    ctx.runOnContext(v -> {
      killNanos = nanos;
      welcomedSinceKill = false;
      pendingAtKill = new java.util.HashSet<>(outbox.keySet());
    });
  }

  private void checkCaughtUp() {
    if (killNanos == 0 || !welcomedSinceKill || !allJoined()
        || state.values().stream().anyMatch(s -> s.gapLow >= 0)) {
      return;
    }
    pendingAtKill.removeIf(cid -> !outbox.containsKey(cid));
    if (pendingAtKill.isEmpty()) {
      probe.caughtUp(idx, System.nanoTime() - killNanos);
      killNanos = 0;
    }
  }

  /** Stops reconnecting, closes the socket and hands the final views to the checker. */
  void finish(Runnable done) {
    ctx.runOnContext(v -> {
      stopped = true;
      state.forEach((room, s) -> {
        checker.currentEpoch(room, s.epoch);
        if (s.viewFrom != null) {
          checker.view("client " + idx + " (" + user + ")", room, s.viewFrom, new TreeMap<>(s.view), s.diverged);
        }
      });
      if (ws != null) {
        ws.close();
      }
      done.run();
    });
  }

  private void connect() {
    if (stopped) {
      return;
    }
    totals.connects.incrementAndGet();
    boolean moveOn = failed;
    failed = true; // until a welcome says otherwise
    route.port(port, moveOn).onComplete(ar -> ctx.runOnContext(v -> {
      if (ar.failed()) {
        reconnectLater();
      } else {
        port = ar.result();
        connectTo(port);
      }
    }));
  }

  private void connectTo(int port) {
    client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/ws"))
        .onSuccess(socket -> {
          ws = socket;
          welcomed = false;
          state.values().forEach(s -> s.joined = false);
          socket.textMessageHandler(this::onText);
          socket.closeHandler(v -> onClosed(socket));
          socket.exceptionHandler(e -> { });
          hello();
        })
        .onFailure(e -> reconnectLater());
  }

  private void onClosed(WebSocket socket) {
    if (ws != socket) {
      return;
    }
    ws = null;
    failed = true;
    welcomed = false;
    if (joinDeadlineTimer >= 0) {
      vertx.cancelTimer(joinDeadlineTimer);
      joinDeadlineTimer = -1;
    }
    reconnectLater();
  }

  private void reconnectLater() {
    if (stopped) {
      return;
    }
    attempt = Math.min(attempt + 1, 10);
    long delay = 100L * attempt + (idx * 37L) % 100; // spread the clients' reconnects
    vertx.setTimer(delay, t -> connect());
  }

  private void hello() {
    JsonObject hello = new JsonObject().put("t", "hello");
    if (token != null) {
      hello.put("token", token);
    }
    JsonObject resume = new JsonObject();
    state.forEach((room, s) -> {
      if (s.viewFrom != null) {
        long seq = s.lastSeq();
        // the epoch form only once the relay has named an epoch: an older relay refuses an object
        resume.put(room, s.epoch == null ? (Object) seq : new JsonObject().put("seq", seq).put("epoch", s.epoch));
      }
    });
    if (!resume.isEmpty()) {
      hello.put("resume", resume);
      totals.resumes.incrementAndGet();
    }
    send(hello);
  }

  private void onText(String frame) {
    JsonObject f;
    try {
      f = new JsonObject(frame);
    } catch (RuntimeException e) {
      return;
    }
    switch (f.getString("t", "")) {
      case "welcome" -> onWelcome(f);
      case "joined" -> onJoined(f);
      case "msg" -> onMsg(f);
      case "ack" -> onAck(f);
      case "page" -> onPage(f);
      case "error" -> onError(f);
      default -> { }
    }
  }

  private void onWelcome(JsonObject f) {
    welcomed = true;
    failed = false;
    welcomedSinceKill = killNanos != 0;
    attempt = 0;
    user = f.getString("user");
    token = f.getString("token", token);
    state.forEach((room, s) -> {
      if (s.viewFrom == null) {
        send(new JsonObject().put("t", "join").put("room", room));
      }
    });
    // a resumed room that never comes back (room_unavailable, a lost frame): start over
    joinDeadlineTimer = vertx.setTimer(JOIN_TIMEOUT_MS, t -> {
      joinDeadlineTimer = -1;
      if (ws != null && !allJoined()) {
        ws.close();
      }
    });
  }

  private boolean allJoined() {
    return state.values().stream().allMatch(s -> s.joined);
  }

  private void onJoined(JsonObject f) {
    RoomState s = state.get(f.getString("room"));
    if (s == null) {
      return;
    }
    String epoch = f.getString("epoch");
    if (epoch != null) {
      s.epoch = epoch;
    }
    long head = f.getLong("head", 0L);
    if (s.viewFrom == null) {
      s.viewFrom = head;
    } else {
      if (Boolean.FALSE.equals(f.getBoolean("recovered"))) {
        totals.resumedRecoveredFalse.incrementAndGet();
      }
      Long diverged = f.getLong("divergedAfter");
      if (diverged != null) {
        // everything held past D may not exist: drop it; the replay and history are the truth
        totals.divergedAfter.incrementAndGet();
        s.diverged = true;
        NavigableMap<Long, Msg> tail = s.view.tailMap(diverged, false);
        totals.droppedOnDivergence.addAndGet(tail.size());
        tail.clear();
        if (s.viewFrom > diverged) {
          s.viewFrom = diverged;
        }
      }
      Long replayFrom = f.getLong("replayFrom");
      long have = s.lastSeq();
      if (replayFrom != null && replayFrom > have + 1) {
        s.gapLow = have;
        s.gapPages = 0;
        history(f.getString("room"), replayFrom);
      }
    }
    s.joined = true;
    if (allJoined()) {
      flushOutbox();
    }
    checkCaughtUp();
  }

  private void history(String room, long before) {
    totals.gapPages.incrementAndGet();
    send(new JsonObject().put("t", "history").put("room", room).put("before", before).put("limit", 100));
  }

  private void onPage(JsonObject f) {
    String room = f.getString("room");
    RoomState s = state.get(room);
    if (s == null) {
      return;
    }
    JsonArray messages = f.getJsonArray("messages", new JsonArray());
    long lowest = Long.MAX_VALUE;
    for (int i = 0; i < messages.size(); i++) {
      JsonObject m = messages.getJsonObject(i);
      long seq = m.getLong("seq");
      lowest = Math.min(lowest, seq);
      Msg msg = new Msg(m.getString("from"), m.getString("cid"), m.getString("body"));
      checker.saw("client " + idx + " history", room, s.epoch, seq, msg);
      if (seq > s.viewFrom) {
        s.view.putIfAbsent(seq, msg);
      }
    }
    if (s.gapLow >= 0 && f.getBoolean("hasMore", false) && lowest != Long.MAX_VALUE && lowest > s.gapLow + 1
        && ++s.gapPages < MAX_GAP_PAGES) {
      history(room, lowest);
    } else {
      s.gapLow = -1;
    }
    checkCaughtUp();
  }

  private void onMsg(JsonObject f) {
    totals.received.incrementAndGet();
    String room = f.getString("room");
    RoomState s = state.get(room);
    long seq = f.getLong("seq", -1L);
    Msg msg = new Msg(f.getString("from"), f.getString("cid"), f.getString("body"));
    if (s == null) {
      return;
    }
    checker.saw("client " + idx, room, s.epoch, seq, msg);
    if (s.viewFrom != null && seq > s.viewFrom && s.view.putIfAbsent(seq, msg) == null) {
      probe.delivered(msg.cid(), port, System.nanoTime());
    }
  }

  private void onAck(JsonObject f) {
    String room = f.getString("room");
    String cid = f.getString("cid");
    long seq = f.getLong("seq", -1L);
    boolean stored = f.getBoolean("stored", false);
    String body = bodies.get(cid);
    if (body == null || user == null) {
      return;
    }
    Msg own = new Msg(user, cid, body);
    RoomState s = state.get(room);
    if (s == null) {
      return;
    }
    checker.saw("ack to client " + idx, room, s.epoch, seq, own);
    if (s.viewFrom != null && seq > s.viewFrom) {
      s.view.putIfAbsent(seq, own); // the sender gets no msg of its own: the ack puts it on screen
    }
    if (stored) {
      totals.ackedStored.incrementAndGet();
      checker.ackedStored(user, room, cid, seq);
      outbox.remove(cid);
      checkCaughtUp();
    } else {
      totals.ackedUnstored.incrementAndGet();
      outbox.computeIfPresent(cid, (k, p) -> new Pending(p.room(), p.body(), p.sentAtMs(), true, p.tries()));
    }
  }

  private void onError(JsonObject f) {
    String code = f.getString("code", "?");
    totals.errors.computeIfAbsent(code, k -> new AtomicLong()).incrementAndGet();
    if ("room_unavailable".equals(code) && ws != null) {
      vertx.setTimer(500, t -> {
        if (ws != null) {
          ws.close(); // retryable: resume again (the close counts as a failure for the route)
        }
      });
    } else if ("room_moved".equals(code) && ws != null) {
      // The room's sequencer moved to another relay of a cluster. The SDK rejoins on the same
      // connection; this client resumes on a fresh one (asking its route again), which also gets
      // the replay and divergedAfter of a resume: slower, never wrong.
      ws.close();
    }
    // storage_unavailable, rate_limited: the send stays in the outbox and goes again later
  }

  private void sendOne() {
    if (!sending || !welcomed || !allJoined()) {
      return;
    }
    String room = rooms.get((int) (n % rooms.size()));
    String cid = "c" + idx + "-" + n++;
    String body = text.next(new java.util.Random(idx * 1_000_003L + n));
    bodies.put(cid, body);
    outbox.put(cid, new Pending(room, body, System.currentTimeMillis(), false, 0));
    totals.sent.incrementAndGet();
    probe.sent(cid, port, System.nanoTime());
    send(new JsonObject().put("t", "send").put("id", cid).put("room", room).put("cid", cid).put("body", body));
  }

  /** After a (re)join every unacked send is due again, the accepted ones too (their stored ack may be lost). */
  private void flushOutbox() {
    outbox.replaceAll((cid, p) -> new Pending(p.room(), p.body(), -RESEND_AFTER_MS, false, 0)); // due now
  }

  private void resendOverdue() {
    if (!welcomed || !allJoined()) {
      return;
    }
    long now = System.currentTimeMillis();
    int budget = RESEND_PER_TICK;
    for (Iterator<Map.Entry<String, Pending>> it = List.copyOf(outbox.entrySet()).iterator(); it.hasNext() && budget > 0; ) {
      Map.Entry<String, Pending> e = it.next();
      if (!e.getValue().accepted() && now >= e.getValue().dueAtMs()) {
        resend(e.getKey(), e.getValue(), now);
        budget--;
      }
    }
  }

  private void resend(String cid, Pending p, long now) {
    outbox.put(cid, new Pending(p.room(), p.body(), now, false, p.tries() + 1));
    totals.resent.incrementAndGet();
    send(new JsonObject().put("t", "send").put("id", cid).put("room", p.room()).put("cid", cid).put("body", p.body())
        .put("resend", true));
  }

  private void send(JsonObject frame) {
    WebSocket w = ws;
    if (w != null) {
      w.writeTextMessage(frame.encode()).onFailure(e -> { });
    }
  }
}
