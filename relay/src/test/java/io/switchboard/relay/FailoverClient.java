package io.switchboard.relay;

import io.switchboard.relay.FailoverInvariants.Msg;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A chat user of the failover test that behaves as the SDK does with several relay URLs
 * (web-client/src/connection.js, urls.js): one socket to one relay; after a drop the same relay
 * first, after a connect that got no welcome the next one, with the SDK's default backoff (500 ms
 * doubling, up to half of it off at random; web-client/src/backoff.js), so the catch-up it measures
 * is the SDK's;
 * {@code hello} with its token and {@code resume} ({@code {seq, epoch}} per room, the end of what
 * it holds without a gap); {@code joined.divergedAfter} drops what it holds past that point; an
 * outbox of sends not acked {@code stored:true}, re-sent with {@code resend:true} after every
 * (re)join; {@code room_unavailable} joins again after a backoff, {@code room_moved} at once. It sends one message per room
 * every {@code sendEveryMs}, into the outbox while it is not joined (as the SDK queues them).
 * Everything it sees goes to the {@link FailoverInvariants}. State is confined to one Vert.x
 * context; the test thread reads it through the synchronized methods.
 */
final class FailoverClient {
  private static final long BACKOFF_BASE_MS = 500;
  private static final long BACKOFF_MAX_MS = 30_000;

  /** What the client knows about one room. */
  static final class RoomView {
    /** The head at the first join: the view (what is checked) starts after it. null: never joined. */
    Long viewFrom;
    final TreeMap<Long, Msg> held = new TreeMap<>();
    String epoch;
    boolean joined;
    /** The head the last joined named (a resumed or rejoined room is caught up once it holds it). */
    long joinedHead;
    long droppedOnDivergence;

    /** The end of what is held without a gap since the view started: what resume says. */
    long contiguous() {
      long s = viewFrom == null ? 0 : viewFrom;
      while (held.containsKey(s + 1)) {
        s++;
      }
      return s;
    }
  }

  private record Pending(String room, String body, long createdNanos) {}

  final String name;
  private final Vertx vertx;
  private final Context context;
  private final List<Integer> ports;
  private final FailoverInvariants seen;
  private final long sendEveryMs;
  private final WebSocketClient wsClient; // kept referenced: Vert.x 5 closes collected clients
  private final Map<String, RoomView> rooms = new LinkedHashMap<>();
  private final LinkedHashMap<String, Pending> outbox = new LinkedHashMap<>();
  private final Map<String, String> bodies = new HashMap<>();
  private final Map<String, String> roomOf = new HashMap<>();
  private final Map<Integer, String> joinIds = new HashMap<>();
  private final List<String> problems = new ArrayList<>();
  private WebSocket ws;
  private boolean welcomed;
  private int portIndex;
  private int attempt;
  private int connectedPort = -1;
  private String token;
  private String user;
  private int nextId;
  private int nextCid;
  private boolean sending = true;
  private boolean closed;
  private long timer = -1;
  private long killNanos;
  private long caughtUpNanos;
  private int welcomes;
  /** The relay whose clients must move (the first URL when there are several); -1: none. */
  private int killedPort;
  private int roomsMoved;
  /** How many room_moved it must have had before it counts as caught up (a survivor's client). */
  private int expectMoves;

  FailoverClient(Vertx vertx, String name, List<Integer> ports, List<String> roomNames, FailoverInvariants seen,
      long sendEveryMs) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.name = name;
    this.ports = List.copyOf(ports);
    this.seen = seen;
    this.sendEveryMs = sendEveryMs;
    this.wsClient = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxFrameSize(1 << 20)
        .setMaxMessageSize(1 << 22).setConnectTimeout(2000));
    for (String room : roomNames) {
      rooms.put(room, new RoomView());
    }
    this.killedPort = ports.size() > 1 ? ports.get(0) : -1;
  }

  /** The relay that is killed, when it is not this client's first URL (a client of a survivor). */
  synchronized FailoverClient killedPort(int port) {
    this.killedPort = port;
    return this;
  }

  /** A client of a surviving relay: caught up only once told {@code moves} rooms moved, and back in them. */
  synchronized FailoverClient expectMoves(int moves) {
    this.expectMoves = moves;
    return this;
  }

  /** How many {@code room_moved} this client got (each followed by a join at once). */
  synchronized int roomsMoved() {
    return roomsMoved;
  }

  void start() {
    context.runOnContext(v -> {
      connect();
      timer = vertx.setPeriodic(sendEveryMs, id -> tick());
    });
  }

  // ——— what the test reads ———

  synchronized String user() {
    return user;
  }

  synchronized int connectedPort() {
    return connectedPort;
  }

  synchronized boolean joinedEverywhere() {
    return welcomed && rooms.values().stream().allMatch(r -> r.joined);
  }

  synchronized int outboxSize() {
    return outbox.size();
  }

  synchronized List<String> problems() {
    return List.copyOf(problems);
  }

  synchronized long droppedOnDivergence() {
    return rooms.values().stream().mapToLong(r -> r.droppedOnDivergence).sum();
  }

  synchronized int welcomes() {
    return welcomes;
  }

  /** Every message this client wrote: cid → room. */
  synchronized Map<String, String> created() {
    return Map.copyOf(roomOf);
  }

  /** Its final view of each room: (viewFrom, held). */
  synchronized Map<String, Map.Entry<Long, NavigableMap<Long, Msg>>> views() {
    Map<String, Map.Entry<Long, NavigableMap<Long, Msg>>> out = new LinkedHashMap<>();
    rooms.forEach((room, v) -> out.put(room, Map.entry(v.viewFrom == null ? -1L : v.viewFrom, new TreeMap<>(v.held))));
    return out;
  }

  /** The highest seq it holds in {@code room}; 0 when none (or not one of its rooms). */
  synchronized long heldMax(String room) {
    RoomView v = rooms.get(room);
    return v == null || v.held.isEmpty() ? 0 : v.held.lastKey();
  }

  /** Whether it holds every seq up to {@code head} in {@code room} without a gap. */
  synchronized boolean holdsUpTo(String room, long head) {
    return rooms.get(room).contiguous() >= head;
  }

  /** The relay at {@code ports[0]}… was killed at this instant: catch-up is measured from it. */
  synchronized void killedAt(long nanos) {
    killNanos = nanos;
  }

  /** Nanoseconds from the kill until it was caught up on the survivor; -1 while it is not. */
  synchronized long catchUpNanos() {
    return caughtUpNanos == 0 ? -1 : caughtUpNanos - killNanos;
  }

  synchronized void stopSending() {
    sending = false;
  }

  void close() {
    context.runOnContext(v -> {
      synchronized (this) {
        closed = true;
        vertx.cancelTimer(timer);
        if (ws != null) {
          ws.close();
        }
      }
      wsClient.close();
    });
  }

  // ——— the connection ———

  private synchronized void connect() {
    if (closed) {
      return;
    }
    int port = ports.get(portIndex);
    wsClient.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/ws"))
        .onComplete(ar -> {
          if (ar.failed()) {
            failed();
          } else {
            opened(ar.result(), port);
          }
        });
  }

  private synchronized void opened(WebSocket socket, int port) {
    if (closed) {
      socket.close();
      return;
    }
    ws = socket;
    welcomed = false;
    socket.textMessageHandler(text -> frame(socket, port, new JsonObject(text)));
    socket.closeHandler(v -> dropped(socket));
    JsonObject resume = new JsonObject();
    rooms.forEach((room, v) -> {
      if (v.viewFrom != null) {
        resume.put(room, v.epoch == null ? v.contiguous() : new JsonObject().put("seq", v.contiguous()).put("epoch", v.epoch));
      }
    });
    JsonObject hello = new JsonObject().put("t", "hello").put("id", ++nextId).put("resume", resume);
    if (token != null) {
      hello.put("token", token);
    }
    socket.writeTextMessage(hello.encode());
  }

  /** No welcome on that socket: the next URL. An open socket dropped: the same URL first. */
  private synchronized void dropped(WebSocket socket) {
    if (socket != ws) {
      return;
    }
    ws = null;
    connectedPort = -1;
    rooms.values().forEach(r -> r.joined = false);
    if (!welcomed) {
      portIndex = (portIndex + 1) % ports.size();
    }
    welcomed = false;
    retry();
  }

  private synchronized void failed() {
    portIndex = (portIndex + 1) % ports.size();
    retry();
  }

  private void retry() {
    if (!closed) {
      vertx.setTimer(backoff(attempt++), id -> connect());
    }
  }

  /** The SDK's nextRetryDelay with its defaults: min(30 s, 500 ms · 2^n) · (1 − 0.5 · random). */
  private static long backoff(int attempt) {
    long raw = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS << Math.min(attempt, 6));
    return Math.max(1, Math.round(raw * (1 - 0.5 * ThreadLocalRandom.current().nextDouble())));
  }

  private synchronized void frame(WebSocket socket, int port, JsonObject f) {
    if (socket != ws) {
      return;
    }
    String room = f.getString("room");
    switch (f.getString("t")) {
      case "welcome" -> {
        if (user != null && !user.equals(f.getString("user"))) {
          problems.add(name + " became " + f.getString("user") + " on :" + port + " (was " + user + ")");
        }
        user = f.getString("user");
        token = f.getString("token", token);
        welcomed = true;
        welcomes++;
        attempt = 0;
        connectedPort = port;
        rooms.forEach((r, v) -> {
          if (v.viewFrom == null) {
            join(r); // never joined: the resume did not name it
          }
        });
      }
      case "joined" -> joined(room, f);
      case "msg" -> {
        RoomView v = rooms.get(room);
        Msg m = new Msg(f.getString("from"), f.getString("cid"), f.getString("body"));
        v.held.put(f.getLong("seq"), m);
        seen.saw(name, room, v.epoch, f.getLong("seq"), m);
      }
      case "ack" -> {
        RoomView v = rooms.get(room);
        String cid = f.getString("cid");
        Msg m = new Msg(user, cid, bodies.get(cid));
        v.held.put(f.getLong("seq"), m);
        seen.saw("ack to " + name, room, v.epoch, f.getLong("seq"), m);
        if (f.getBoolean("stored")) {
          outbox.remove(cid);
          seen.ackedStored(user, room, cid, f.getLong("seq"));
        }
      }
      case "error" -> error(f);
      default -> { }
    }
    checkCaughtUp();
  }

  private void joined(String room, JsonObject f) {
    RoomView v = rooms.get(room);
    joinIds.remove(f.getInteger("id"));
    long head = f.getLong("head");
    if (v.viewFrom == null) {
      v.viewFrom = head;
    }
    Long diverged = f.getLong("divergedAfter");
    if (diverged != null) {
      NavigableMap<Long, Msg> gone = v.held.tailMap(diverged, false);
      v.droppedOnDivergence += gone.size();
      gone.clear();
    }
    Long replayFrom = f.getLong("replayFrom");
    if (replayFrom != null && replayFrom > v.contiguous() + 1) {
      problems.add(name + " " + room + ": replay from " + replayFrom + " leaves a gap after " + v.contiguous());
    }
    v.epoch = f.getString("epoch");
    v.joined = true;
    v.joinedHead = head;
    // the outbox goes out again, in order: what was stored is acked with its seq, the rest sequenced
    outbox.forEach((cid, p) -> {
      if (p.room().equals(room)) {
        send(room, cid, p.body(), true);
      }
    });
  }

  private void error(JsonObject f) {
    String room = f.getString("room");
    Integer ref = f.getInteger("ref");
    String joinOf = ref == null ? null : joinIds.remove(ref);
    if ("room_moved".equals(f.getString("code")) && room != null) {
      // the room's sequencer moved in the cluster: join again at once on this connection. A join
      // names no resume point, so the relay cannot say where this copy diverged: the view starts
      // again after the new join's head (what was seen before still goes to the invariants)
      roomsMoved++;
      RoomView v = rooms.get(room);
      v.joined = false;
      v.viewFrom = null;
      v.held.clear();
      if (joinOf == null) {
        join(room);
      } else {
        // the join itself was answered so (the room is still moving): again shortly, as the SDK does
        WebSocket socket = ws;
        vertx.setTimer(20, id -> {
          synchronized (this) {
            if (socket == ws && ws != null) {
              join(room);
            }
          }
        });
      }
      return;
    }
    boolean retryable = "room_unavailable".equals(f.getString("code"))
        || ("rate_limited".equals(f.getString("code")) || "server_busy".equals(f.getString("code"))) && joinOf != null;
    if (retryable && (room != null || joinOf != null)) {
      String r = room != null ? room : joinOf;
      rooms.get(r).joined = false;
      WebSocket socket = ws;
      vertx.setTimer(backoff(0), id -> {
        synchronized (this) {
          if (socket == ws && ws != null) {
            join(r);
          }
        }
      });
      return;
    }
    if ("room_moved".equals(f.getString("code")) && joinOf == null) {
      return; // a send the room's handover refused: it stays in the outbox and goes again after the join
    }
    if ("not_joined".equals(f.getString("code")) && roomsMoved > 0) {
      return; // a send that crossed the room_moved on its way: it stays in the outbox and goes again after the join
    }
    problems.add(name + " got " + f.encode());
  }

  private void join(String room) {
    int id = ++nextId;
    joinIds.put(id, room);
    ws.writeTextMessage(new JsonObject().put("t", "join").put("id", id).put("room", room).encode());
  }

  private void send(String room, String cid, String body, boolean resend) {
    JsonObject f = new JsonObject().put("t", "send").put("room", room).put("cid", cid).put("body", body);
    ws.writeTextMessage((resend ? f.put("resend", true) : f).encode());
  }

  private synchronized void tick() {
    if (!sending || closed) {
      return;
    }
    for (Map.Entry<String, RoomView> e : rooms.entrySet()) {
      String cid = name + "-" + e.getKey() + "-" + (++nextCid);
      String body = name + " #" + nextCid + " in " + e.getKey();
      bodies.put(cid, body);
      roomOf.put(cid, e.getKey());
      outbox.put(cid, new Pending(e.getKey(), body, System.nanoTime()));
      if (ws != null && e.getValue().joined) {
        send(e.getKey(), cid, body, false);
      }
    }
  }

  /**
   * Caught up: on a relay that is not the killed one, every room joined and held up to the head its
   * joined named, and every message written before the kill acked stored.
   */
  private void checkCaughtUp() {
    boolean onKilled = connectedPort == killedPort;
    if (killNanos == 0 || caughtUpNanos != 0 || onKilled || connectedPort < 0 || roomsMoved < expectMoves) {
      return;
    }
    for (RoomView v : rooms.values()) {
      if (!v.joined || v.contiguous() < v.joinedHead) {
        return;
      }
    }
    for (Pending p : outbox.values()) {
      if (p.createdNanos() <= killNanos) {
        return;
      }
    }
    caughtUpNanos = System.nanoTime();
  }
}
