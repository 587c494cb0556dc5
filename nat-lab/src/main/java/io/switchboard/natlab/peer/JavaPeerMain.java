package io.switchboard.natlab.peer;

import io.switchboard.peer.IceDescription;
import io.switchboard.peer.IceException;
import io.switchboard.peer.IcePeer;
import io.switchboard.peer.IcePeerOptions;
import io.switchboard.peer.IceResult;
import io.switchboard.peer.IceServer;
import io.switchboard.signaling.stun.MappingBehaviour;
import io.switchboard.signaling.stun.StunProbe;
import io.vertx.core.Vertx;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The NAT lab's Java peer: one process inside a client namespace, speaking Switchboard's protocol
 * like an SDK would. It connects to the relay, joins the room, probes the STUN service (two ports
 * of one address for {@code mapped}, plus RFC 5780 mapping and filtering tests against its second
 * address), reports its {@code profile}, follows the {@code steer} for the other peer (p2p: an ICE
 * agent with STUN and TURN; turn: relay-only ICE; relay: no ICE), exchanges its ICE description
 * through {@code signal}, reports {@code p2p-result}, measures the round trip and sends
 * {@code --messages} messages over the path it ended on (the ICE channel, with acknowledgements and
 * retransmission like a reliable DataChannel; else {@code send} on the relay), counting what
 * arrives from the other side exactly once.
 *
 * <p>Process contract (see {@code PeerKind}): arguments {@code --relay URL --room R --name N
 * --host IP [--messages N] [--deadline-ms MS] [--probe-only]}; logs on stderr; exactly one line
 * {@code NATLAB-RESULT {json}} on stdout; exit 0 when it produced a result (even a failed one).
 */
public final class JavaPeerMain {
  public static final String RESULT_PREFIX = "NATLAB-RESULT ";
  private static final Logger log = LoggerFactory.getLogger("natlab.peer");

  private final Map<String, String> args;
  private final String room;
  private final String name;
  private final String host;
  private final int messages;
  private final long deadline;
  private final long startNanos = System.nanoTime();
  private final JsonObject result = new JsonObject();
  private final Inbox inbox = new Inbox();
  private final Vertx vertx = Vertx.vertx();
  private WebSocketClient wsClient; // a field: Vert.x closes unreferenced clients when collected
  private WebSocket ws;
  private IcePeer ice;
  private final AtomicInteger ids = new AtomicInteger();
  private String other;

  // Delivery bookkeeping, shared by both paths.
  private final Set<String> delivered = ConcurrentHashMap.newKeySet();
  private final AtomicInteger duplicates = new AtomicInteger();
  private final AtomicInteger repeatsSeen = new AtomicInteger();
  private final Set<Integer> acked = ConcurrentHashMap.newKeySet();
  private final Map<Integer, Long> echoes = new ConcurrentHashMap<>();
  /** Notified whenever a message, ack or echo arrives, so waiting loops wake on it rather than poll. */
  private final Object progress = new Object();

  private JavaPeerMain(Map<String, String> args) {
    this.args = args;
    this.room = required("room");
    this.name = required("name");
    this.host = required("host");
    this.messages = Integer.parseInt(args.getOrDefault("messages", "20"));
    this.deadline = startNanos + TimeUnit.MILLISECONDS.toNanos(Long.parseLong(args.getOrDefault("deadline-ms", "60000")));
    result.put("name", name).put("host", host);
  }

  public static void main(String[] argv) {
    Map<String, String> args = new java.util.HashMap<>();
    for (int i = 0; i < argv.length; i++) {
      if (!argv[i].startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument " + argv[i]);
      }
      String key = argv[i].substring(2);
      if (key.equals("probe-only")) {
        args.put(key, "true");
      } else if (i + 1 < argv.length) {
        args.put(key, argv[++i]);
      } else {
        throw new IllegalArgumentException("--" + key + " needs a value");
      }
    }
    JavaPeerMain peer = new JavaPeerMain(args);
    int code = peer.run();
    System.exit(code); // ice4j keeps non-daemon pools alive (peer/README, surprise 8)
  }

  private String required(String key) {
    String v = args.get(key);
    if (v == null || v.isBlank()) {
      throw new IllegalArgumentException("--" + key + " is required");
    }
    return v;
  }

  private int run() {
    try {
      runSteps();
    } catch (Exception e) {
      Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
      log.warn("{}: {}", name, cause.toString());
      result.put("error", cause.getClass().getSimpleName() + ": " + cause.getMessage());
    } finally {
      result.put("totalMs", ms(startNanos));
      System.out.println(RESULT_PREFIX + result.encode());
      System.out.flush();
      if (ice != null) {
        ice.close();
      }
      if (ws != null) {
        try {
          // Let the last frames (done, p2p-result) reach the relay before System.exit.
          ws.close().toCompletionStage().toCompletableFuture().get(3, TimeUnit.SECONDS);
        } catch (Exception e) {
          log.debug("{}: close: {}", name, e.toString());
        }
      }
    }
    return 0;
  }

  private void runSteps() throws Exception {
    URI relay = URI.create(required("relay"));
    wsClient = vertx.createWebSocketClient();
    ws = wsClient.connect(new WebSocketConnectOptions().setHost(relay.getHost()).setPort(relay.getPort())
        .setURI(relay.getRawPath())).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    ws.textMessageHandler(text -> onFrame(new JsonObject(text)));
    JsonObject welcome = request(new JsonObject().put("t", "hello"), "welcome");
    result.put("session", welcome.getString("session"));
    JsonObject p2p = welcome.getJsonObject("p2p");
    if (p2p == null) {
      throw new IllegalStateException("the relay offers no p2p (welcome without p2p)");
    }
    request(new JsonObject().put("t", "join").put("room", room), "joined");

    long probeStart = System.nanoTime();
    JsonObject profile = probe(p2p.getJsonArray("probe"));
    result.put("probeMs", ms(probeStart)).put("report", reportOf(profile));
    JsonObject answer = request(profile, "profile");
    result.put("class", answer.getString("class")).put("classMapping", answer.getString("mapping"))
        .put("classFiltering", answer.getString("filtering"));
    if (args.containsKey("probe-only")) {
      return;
    }

    JsonObject steer = inbox.take(Inbox.type("steer"), deadline, "a steer for the other peer");
    long steerNanos = System.nanoTime();
    other = steer.getString("peer");
    String mode = steer.getString("mode");
    boolean controlling = !steer.getBoolean("polite");
    result.put("steer", new JsonObject().put("mode", mode).put("reason", steer.getString("reason"))
        .put("polite", steer.getBoolean("polite")));

    String myPath = "relay";
    if (!mode.equals("relay")) {
      myPath = connectIce(steer, mode.equals("turn"), controlling);
    }
    signal(new JsonObject().put("ready", myPath));
    String theirPath = inbox.take(Inbox.signal("ready"), deadline, "the other peer's ready").getJsonObject("data")
        .getString("ready");
    String path = myPath.equals(theirPath) ? myPath : "relay";
    if (!myPath.equals(theirPath)) {
      log.warn("{}: paths disagree (mine {}, theirs {}): using the relay", name, myPath, theirPath);
      result.put("pathDisagreement", myPath + "/" + theirPath);
    }
    long setupMs = ms(steerNanos);
    result.put("path", path).put("setupMs", setupMs);
    send(new JsonObject().put("t", "p2p-result").put("room", room).put("peer", other)
        .put("path", path.equals("direct") ? "p2p" : path).put("setupMs", setupMs));

    Double rtt = path.equals("relay") ? relayRtt() : iceRtt();
    result.put("rttMs", rtt);
    exchange(path);
    signal(new JsonObject().put("done", true));
    inbox.take(Inbox.signal("done"), deadline, "the other peer's done");
  }

  // ---------------------------------------------------------------- STUN

  /**
   * Two-port mapping on one socket, RFC 5780 mapping on the same socket, filtering on a second.
   * Everything STUN runs on one event-loop context: StunProbe sets its retransmission timer from the
   * caller's thread and cancels it from the socket's, and an answer arriving while a non-Vert.x thread
   * is still inside setTimer made cancelTimer throw (a lost answer: udp=false for a working NAT).
   */
  private JsonObject probe(JsonArray probeUrls) throws Exception {
    io.vertx.core.Context ctx = vertx.getOrCreateContext();
    InetSocketAddress primary = stunAddress(probeUrls.getString(0));
    InetSocketAddress alt = stunAddress(probeUrls.getString(1));
    JsonObject profile = new JsonObject().put("t", "profile").put("host", new JsonArray().add(host));
    DatagramSocket socket = onLoop(ctx, () -> vertx.createDatagramSocket().listen(0, host));
    DatagramSocket filterSocket = onLoop(ctx, () -> vertx.createDatagramSocket().listen(0, host));
    try {
      StunProbe stun = onLoop(ctx, () -> io.vertx.core.Future.succeededFuture(new StunProbe(vertx, socket, 200, 3)));
      StunProbe.Binding first;
      try {
        first = onLoop(ctx, () -> stun.bind(primary));
      } catch (ExecutionException e) {
        log.info("{}: no STUN answer over UDP ({}): udp=false", name, e.getCause().getMessage());
        // The Java peer's TURN client is UDP-only (peer/README): without UDP it cannot get a relay candidate.
        return profile.put("udp", false).put("turn", false);
      }
      StunProbe.Binding second = onLoop(ctx, () -> stun.bind(alt));
      profile.put("udp", true).put("mapped", new JsonArray().add(text(first.mapped())).add(text(second.mapped())));
      String mapping = "unknown";
      String filtering = "unknown";
      if (first.otherAddress() != null) {
        InetSocketAddress other = first.otherAddress();
        StunProbe.Binding test2 = onLoop(ctx, () -> stun.bind(new InetSocketAddress(other.getAddress(), primary.getPort())));
        MappingBehaviour m = test2.mapped().equals(first.mapped()) ? MappingBehaviour.ENDPOINT_INDEPENDENT
            : MappingBehaviour.rfc5780(first.mapped(), test2.mapped(), onLoop(ctx, () -> stun.bind(other)).mapped());
        mapping = m.name().toLowerCase().replace('_', '-');
        StunProbe filter = onLoop(ctx, () -> io.vertx.core.Future.succeededFuture(new StunProbe(vertx, filterSocket, 100, 3)));
        filtering = filtering(ctx, filter, primary);
      }
      profile.put("mapping", mapping).put("filtering", filtering)
          .put("candidates", new JsonArray().add("host").add("srflx"));
      return profile;
    } finally {
      socket.close();
      filterSocket.close();
    }
  }

  /** RFC 5780 §4.4 on a socket that has talked to nobody: tests I, II (change IP+port), III (change port). */
  private String filtering(io.vertx.core.Context ctx, StunProbe stun, InetSocketAddress server) throws Exception {
    onLoop(ctx, () -> stun.bind(server));
    if (answers(ctx, () -> stun.bind(server, true, true))) {
      return "endpoint-independent";
    }
    return answers(ctx, () -> stun.bind(server, false, true)) ? "address-dependent" : "address-and-port-dependent";
  }

  private static boolean answers(io.vertx.core.Context ctx, java.util.function.Supplier<io.vertx.core.Future<StunProbe.Binding>> test)
      throws InterruptedException {
    try {
      onLoop(ctx, test);
      return true;
    } catch (ExecutionException e) {
      return false;
    }
  }

  private static JsonObject reportOf(JsonObject profile) {
    JsonObject copy = profile.copy();
    copy.remove("t");
    return copy;
  }

  /** Runs {@code action} on {@code ctx}'s event loop and waits for its future. */
  private static <T> T onLoop(io.vertx.core.Context ctx, java.util.function.Supplier<io.vertx.core.Future<T>> action)
      throws InterruptedException, ExecutionException {
    io.vertx.core.Promise<T> promise = io.vertx.core.Promise.promise();
    ctx.runOnContext(v -> {
      try {
        action.get().onComplete(promise);
      } catch (RuntimeException e) {
        promise.fail(e);
      }
    });
    return await(promise.future());
  }

  private static InetSocketAddress stunAddress(String url) {
    int colon = url.lastIndexOf(':');
    return new InetSocketAddress(url.substring("stun:".length(), colon), Integer.parseInt(url.substring(colon + 1)));
  }

  private static String text(InetSocketAddress a) {
    return a.getAddress().getHostAddress() + ":" + a.getPort();
  }

  // ---------------------------------------------------------------- ICE

  /** @return "direct", "turn", or "relay" when ICE could not be set up */
  private String connectIce(JsonObject steer, boolean relayOnly, boolean controlling) throws Exception {
    List<IceServer> servers = new ArrayList<>();
    JsonArray list = steer.getJsonArray("iceServers", new JsonArray());
    for (int i = 0; i < list.size(); i++) {
      servers.add(IceServer.fromJson(list.getJsonObject(i)));
    }
    long iceTimeout = Long.parseLong(args.getOrDefault("ice-timeout-ms", "10000"));
    IceDescription mine = null;
    try {
      ice = IcePeer.create(new IcePeerOptions().setName(name).setAllowedAddresses(List.of(host)).setIceServers(servers)
          .setRelayOnly(relayOnly).setControlling(controlling).setConnectTimeoutMs(iceTimeout));
      mine = ice.localDescription();
      result.put("localCandidates", types(mine));
    } catch (RuntimeException e) {
      log.warn("{}: no ICE description: {}", name, e.toString());
      result.put("iceError", e.toString());
    }
    signal(mine == null ? new JsonObject().put("ice", (Object) null) : new JsonObject().put("ice", mine.toJson()));
    JsonObject theirs = inbox.take(Inbox.signal("ice"), deadline, "the other peer's ICE description")
        .getJsonObject("data");
    if (mine == null || theirs.getJsonObject("ice") == null) {
      return "relay";
    }
    IceDescription remote = IceDescription.fromJson(theirs.getJsonObject("ice"));
    result.put("remoteCandidates", types(remote));
    ice.onMessage(this::onIceMessage);
    CompletableFuture<IceResult> connected = ice.connect(remote);
    try {
      IceResult r = connected.get(iceTimeout + 2000, TimeUnit.MILLISECONDS);
      result.put("iceMs", r.setupMs()).put("localType", r.localType()).put("remoteType", r.remoteType())
          .put("selected", r.local() + " -> " + r.remote());
      return r.path();
    } catch (ExecutionException | TimeoutException e) {
      Throwable cause = e.getCause() instanceof IceException ie ? ie : e;
      log.warn("{}: ICE failed: {}", name, cause.toString());
      result.put("iceError", cause.toString());
      return "relay";
    }
  }

  private static JsonArray types(IceDescription d) {
    JsonArray out = new JsonArray();
    d.parsedCandidates().forEach(c -> out.add(c.type()));
    return out;
  }

  private Double iceRtt() {
    try {
      return ice.rtt().get(10, TimeUnit.SECONDS).toNanos() / 1e6;
    } catch (Exception e) {
      log.warn("{}: ICE rtt failed: {}", name, e.toString());
      return null;
    }
  }

  /** Frames on the ICE channel: {@code m|seq} (a message from the other side), {@code a|seq} (its ack of ours). */
  private void onIceMessage(byte[] bytes) {
    String text = new String(bytes, StandardCharsets.UTF_8);
    int bar = text.indexOf('|');
    if (bar < 0) {
      return;
    }
    int seq = Integer.parseInt(text.substring(bar + 1));
    if (text.startsWith("m|")) {
      ice.send(("a|" + seq).getBytes(StandardCharsets.UTF_8));
      if (!delivered.add("m-" + seq)) {
        repeatsSeen.incrementAndGet(); // a retransmission whose ack was late or lost: not delivered again
      }
    } else if (text.startsWith("a|")) {
      acked.add(seq);
    }
    progressed();
  }

  private void progressed() {
    synchronized (progress) {
      progress.notifyAll();
    }
  }

  /** Waits until something arrives or {@code untilNanos} passes, whichever is first. */
  private void awaitProgress(long untilNanos) throws InterruptedException {
    long waitMs = TimeUnit.NANOSECONDS.toMillis(untilNanos - System.nanoTime());
    if (waitMs <= 0) {
      return;
    }
    synchronized (progress) {
      progress.wait(waitMs);
    }
  }

  // ---------------------------------------------------------------- relay

  private Double relayRtt() throws Exception {
    List<Double> samples = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      long sent = System.nanoTime();
      echoes.remove(i);
      send(new JsonObject().put("t", "send").put("room", room).put("cid", name + "-rtt-" + i).put("body", "rtt:" + i));
      long until = Math.min(deadline, sent + TimeUnit.SECONDS.toNanos(2));
      while (!echoes.containsKey(i) && System.nanoTime() < until) {
        awaitProgress(until);
      }
      if (echoes.containsKey(i)) {
        samples.add((echoes.get(i) - sent) / 1e6);
      }
    }
    if (samples.isEmpty()) {
      return null;
    }
    Collections.sort(samples);
    return samples.get(samples.size() / 2);
  }

  // ---------------------------------------------------------------- messages

  private void exchange(String path) throws Exception {
    long start = System.nanoTime();
    long until = Math.min(deadline, start + TimeUnit.SECONDS.toNanos(15));
    int retransmits = 0;
    if (path.equals("relay")) {
      for (int seq = 1; seq <= messages; seq++) {
        send(new JsonObject().put("t", "send").put("room", room).put("cid", name + "-" + seq).put("body", "m|" + seq));
      }
    } else {
      long nextRound = 0;
      while (System.nanoTime() < until && (acked.size() < messages || delivered.size() < messages)) {
        if (System.nanoTime() >= nextRound) {
          for (int seq = 1; seq <= messages; seq++) {
            if (!acked.contains(seq)) {
              if (nextRound != 0) {
                retransmits++;
              }
              ice.send(("m|" + seq).getBytes(StandardCharsets.UTF_8));
            }
          }
          nextRound = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
        }
        awaitProgress(Math.min(until, nextRound));
      }
    }
    while (delivered.size() < messages && System.nanoTime() < until) {
      awaitProgress(until);
    }
    result.put("sent", messages).put("delivered", delivered.size()).put("duplicates", duplicates.get())
        .put("retransmits", retransmits).put("repeatsSeen", repeatsSeen.get()).put("exchangeMs", ms(start));
    if (!path.equals("relay")) {
      result.put("acked", acked.size());
    }
  }

  // ---------------------------------------------------------------- wire

  private void onFrame(JsonObject frame) {
    String t = frame.getString("t");
    if ("msg".equals(t)) {
      String body = frame.getString("body", "");
      if (body.startsWith("rtt:")) {
        send(new JsonObject().put("t", "send").put("room", room).put("cid", name + "-echo-" + body.substring(4))
            .put("body", "echo:" + body.substring(4)));
      } else if (body.startsWith("echo:")) {
        echoes.putIfAbsent(Integer.parseInt(body.substring(5)), System.nanoTime());
      } else if (body.startsWith("m|")) {
        // The relay path: exactly once means every cid once; the relay dedupes, so a repeat is a bug.
        if (!delivered.add(body)) {
          duplicates.incrementAndGet();
        }
      }
      progressed();
      return;
    }
    if ("error".equals(t)) {
      log.warn("{}: server error {}", name, frame.encode());
      result.put("serverErrors", result.getJsonArray("serverErrors", new JsonArray()).add(frame));
    }
    if ("ack".equals(t) || "pong".equals(t)) {
      return;
    }
    inbox.add(frame);
  }

  private JsonObject request(JsonObject frame, String answerType) throws Exception {
    int id = ids.incrementAndGet();
    send(frame.copy().put("id", id));
    JsonObject answer = inbox.take(f -> Integer.valueOf(id).equals(f.getValue("id")), deadline, answerType);
    if (!answerType.equals(answer.getString("t"))) {
      throw new IllegalStateException("expected " + answerType + ", got " + answer.encode());
    }
    return answer;
  }

  /** Signals are waited for by the other side: each is written out before the peer goes on. */
  private void signal(JsonObject data) throws InterruptedException {
    try {
      await(send(new JsonObject().put("t", "signal").put("room", room).put("to", other).put("data", data)));
    } catch (ExecutionException e) {
      throw new IllegalStateException("signal not written: " + e.getCause(), e.getCause());
    }
  }

  private io.vertx.core.Future<Void> send(JsonObject frame) {
    return ws.writeTextMessage(frame.encode());
  }

  private static <T> T await(io.vertx.core.Future<T> future) throws InterruptedException, ExecutionException {
    try {
      return future.toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new ExecutionException(e);
    }
  }

  private static long ms(long sinceNanos) {
    return (System.nanoTime() - sinceNanos) / 1_000_000;
  }
}
