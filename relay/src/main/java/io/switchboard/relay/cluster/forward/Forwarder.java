package io.switchboard.relay.cluster.forward;

import io.micrometer.core.instrument.MeterRegistry;
import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.ProtocolException;
import io.switchboard.protocol.ServerFrame;
import io.switchboard.relay.RoomShard.Outcome;
import io.switchboard.relay.cluster.ClusterView;
import io.switchboard.relay.room.Loop;
import io.switchboard.relay.room.Member;
import io.switchboard.relay.session.Session;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Room operations across the relays of a cluster, over Vert.x's clustered event bus. Exists only on
 * a clustered relay. Two addresses per node: {@code switchboard.room.<node>} takes other nodes'
 * connections' room operations for the rooms this node sequences (each connection is a
 * {@link RemoteMember} here), {@code switchboard.conn.<node>} takes frames and answers for this
 * node's own connections. Access changes are published to every node on {@code switchboard.access}.
 */
public final class Forwarder implements ClusterView.Listener {
  private static final Logger LOG = LoggerFactory.getLogger(Forwarder.class);

  /** What forwarding needs of this node's engine. */
  public interface Rooms {
    /** Whether this node has the room loaded or is loading it. */
    boolean holds(String room);

    /**
     * Applies another node's connection's op on the room's shard, as {@code onRoom} would a local
     * one; a join or resume is checked against this node's access changes from now on.
     */
    void apply(Member member, RoomOp op, Consumer<Outcome> then);

    /** An access change committed on another node: drop cached access, re-check where it matters. */
    void accessChangedElsewhere(String room, String user);

    /** This node's open connection with this id, or null. */
    Session session(String id);

    /** A node left the cluster: this node's connections lose their memberships in rooms it sequenced. */
    void ownerLeft(String node);
  }

  private record Pending(String node, Consumer<Outcome> then) {}

  /** Bounds the reply handler of a join's delivery; its outcome does not depend on it. */
  private static final long JOIN_DELIVERY_TIMEOUT_MS = 30_000;

  private final String self;
  private final ClusterView view;
  private final Bus bus;
  private final Rooms rooms;
  /** Owner side: the other nodes' connections in this node's rooms, by node then connection id. */
  private final Map<String, Map<String, RemoteMember>> proxies = new ConcurrentHashMap<>();
  private final Map<String, OriginLink> links = new ConcurrentHashMap<>();
  /** Nodes that left: a late op of theirs must not make a member nobody will ever take out. */
  private final Set<String> departed = ConcurrentHashMap.newKeySet();
  /** Origin side: joins and resumes sent to an owner whose outcome has not come back, by token. */
  private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
  private final AtomicLong tokens = new AtomicLong();

  private Forwarder(ClusterView view, Bus bus, Rooms rooms) {
    this.self = view.self();
    this.view = view;
    this.bus = bus;
    this.rooms = rooms;
  }

  /**
   * Registers this node's addresses (on a context of its own, which also sends everything) and
   * listens to the view; ready once the registrations are known to the cluster.
   */
  public static Future<Forwarder> start(Vertx vertx, ClusterView view, Rooms rooms, MeterRegistry registry) {
    ContextInternal context = ((VertxInternal) vertx).contextBuilder()
        .withThreadingModel(ThreadingModel.EVENT_LOOP).build();
    Forwarder forwarder = new Forwarder(view, new Bus(vertx.eventBus(), context, registry), rooms);
    Promise<Forwarder> started = Promise.promise();
    context.runOnContext(v -> {
      List<MessageConsumer<JsonObject>> consumers = List.of(
          vertx.eventBus().<JsonObject>consumer(Bus.roomAddress(view.self()), m -> {
            if (m.replyAddress() != null) {
              m.reply(null); // a join or resume: taken (its outcome follows on its own)
            }
            forwarder.onOp(m.body());
          }),
          vertx.eventBus().<JsonObject>consumer(Bus.connAddress(view.self()), m -> forwarder.onConn(m.body())),
          vertx.eventBus().<JsonObject>consumer(Bus.ACCESS, m -> forwarder.onAccess(m.body())));
      Future.all(consumers.stream().map(MessageConsumer::completion).toList())
          .onSuccess(x -> view.addListener(forwarder))
          .map(forwarder).onComplete(started);
    });
    return started.future();
  }

  public String self() {
    return self;
  }

  /** The node that sequences {@code room} by this node's view. */
  public String owner(String room) {
    return view.owner(room);
  }

  // --- origin side --------------------------------------------------------------------------------

  /**
   * Sends a connection's op to the room's owner {@code node}, after this connection's earlier ones.
   * {@code then} (join and resume) hears the outcome; FAILED when the node leaves first.
   */
  public void forward(String node, Session session, RoomOp op, Consumer<Outcome> then) {
    long token = 0;
    if (then != null) {
      token = tokens.incrementAndGet();
      pending.put(token, new Pending(node, then));
    }
    RoomOpCodec.Sender sender = new RoomOpCodec.Sender(session.id(), session.user(), session.name(), session.host(),
        session.address(), session.profile());
    JsonObject body = RoomOpCodec.encode(self, sender, token, op);
    if (then == null) {
      bus.send(Bus.roomAddress(node), "op_" + body.getString("k"), body);
      return;
    }
    long joining = token;
    // A join or resume is the first op of a membership: sent as a request, so that a member the
    // cluster lists before its consumers are known everywhere (it is still starting) refuses it
    // as room_moved, retried by the client, instead of the bus dropping it and the join hanging.
    bus.request(Bus.roomAddress(node), "op_" + body.getString("k"), body, JOIN_DELIVERY_TIMEOUT_MS).onFailure(e -> {
      if (!(e instanceof ReplyException re) || re.failureType() != ReplyFailure.NO_HANDLERS) {
        return; // taken, or slow: its outcome (or the node's departure) still ends the join
      }
      Pending p = pending.remove(joining);
      if (p != null) {
        p.then().accept(Outcome.FAILED);
        session.send(new ServerFrame.Error(ErrorCode.ROOM_MOVED, "room '" + op.room()
            + "' is sequenced by a relay that is still starting; join it again", op.id(), op.room()));
      }
    });
  }

  /** Whether {@code node} is in this node's view of the cluster (draining or not: it still answers for its rooms). */
  public boolean member(String node) {
    return view.isMember(node);
  }

  /** Asks the room's owner {@code node} to re-check the members of {@code user} (all when null). */
  public void recheck(String node, String room, String user) {
    RoomOpCodec.Sender none = new RoomOpCodec.Sender(null, null, null, null, null, null);
    bus.send(Bus.roomAddress(node), "op_recheck", RoomOpCodec.encode(self, none, 0, new RoomOp.Recheck(room, user)));
  }

  /** A committed access change on this node: every other node hears of it. */
  public void accessChanged(String room, String user) {
    bus.publish(Bus.ACCESS, "access", new JsonObject().put("n", self).put("r", room).put("u", user));
  }

  /** The connection closed: the owners it has members on drop their proxy (after its earlier ops). */
  public void gone(Session session, Set<String> nodes) {
    for (String node : nodes) {
      if (!node.equals(self)) {
        bus.send(Bus.roomAddress(node), "op_gone", new JsonObject().put("k", "gone").put("n", self)
            .put("s", session.id()));
      }
    }
  }

  private void onConn(JsonObject m) {
    String kind = m.getString("k");
    if ("g".equals(kind)) {
      group(m.getJsonArray("ss"), m.getString("x"));
      return;
    }
    if ("o".equals(kind)) {
      Pending p = pending.remove(m.getLong("t"));
      if (p != null) {
        p.then().accept(Outcome.valueOf(m.getString("o")));
      }
      return;
    }
    Session session = rooms.session(m.getString("s"));
    if (session == null) {
      return; // closed meanwhile
    }
    switch (kind) {
      case "f" -> session.sendText(m.getString("x"), ServerFrame.Priority.valueOf(m.getString("p")));
      case "e" -> {
        Object ref = m.getValue("i");
        session.refused(new ProtocolException(ErrorCode.valueOf(m.getString("c")), m.getString("m"),
            ref instanceof Number n ? (Object) n.longValue() : ref));
      }
      case "slow" -> session.slowConsumer();
      case "rm" -> session.removedFrom(m.getString("r"));
      default -> LOG.warn("unknown forwarded message kind {}", kind);
    }
  }

  /** One live message for several connections here: one task per connection loop. */
  private void group(JsonArray ids, String encoded) {
    Map<Loop, List<Session>> byLoop = new HashMap<>();
    for (int i = 0, n = ids.size(); i < n; i++) {
      Session s = rooms.session(ids.getString(i));
      if (s != null) {
        byLoop.computeIfAbsent(s.loop(), l -> new ArrayList<>()).add(s);
      }
    }
    byLoop.forEach((loop, to) -> loop.deliver(to, encoded));
  }

  private void onAccess(JsonObject m) {
    if (!self.equals(m.getString("n"))) {
      rooms.accessChangedElsewhere(m.getString("r"), m.getString("u"));
    }
  }

  // --- owner side ---------------------------------------------------------------------------------

  private void onOp(JsonObject body) {
    String origin = body.getString("n");
    if (departed.contains(origin)) {
      return; // a late op of a node that left: its members were taken out already
    }
    if ("gone".equals(body.getString("k"))) {
      Map<String, RemoteMember> of = proxies.get(origin);
      RemoteMember member = of == null ? null : of.remove(body.getString("s"));
      if (member != null) {
        member.close();
      }
      return;
    }
    RoomOpCodec.Envelope env;
    try {
      env = RoomOpCodec.decode(body);
    } catch (RuntimeException e) {
      // its kind and field names only: the op may carry a message body, which is never logged
      LOG.error("undecodable room op from {}: kind {}, fields {}", origin, body.getValue("k"), body.fieldNames(), e);
      return;
    }
    RoomOp op = env.op();
    String room = op.room();
    if (op instanceof RoomOp.Recheck) {
      rooms.apply(null, op, null); // rooms not held here: nothing to re-check
      return;
    }
    RemoteMember member = proxy(env);
    if (op instanceof RoomOp.ProfileChanged changed) {
      member.profile(changed.profile());
    }
    if (!self.equals(view.owner(room)) && !rooms.holds(room)) {
      moved(member, env);
      return;
    }
    if (op instanceof RoomOp.Leave || op instanceof RoomOp.Closed) {
      member.rooms().remove(room);
    }
    long token = env.token();
    Consumer<Outcome> then = token == 0 ? null : outcome -> {
      if (outcome == Outcome.JOINED) {
        member.rooms().add(room);
        if (member.isClosed()) {
          rooms.apply(member, new RoomOp.Closed(room), null); // its node left while it joined
        }
      }
      link(origin).outcome(member.id(), token, outcome.name());
    };
    rooms.apply(member, op, then);
  }

  /**
   * This node's proxy of the sender; a closing connection's last ops find the one that exists or
   * get a closed one of their own (a proxy made for them would stay forever).
   */
  private RemoteMember proxy(RoomOpCodec.Envelope env) {
    Map<String, RemoteMember> of = proxies.computeIfAbsent(env.origin(), n -> new ConcurrentHashMap<>());
    String id = env.sender().session();
    if (env.op() instanceof RoomOp.Closed) {
      RemoteMember existing = of.get(id);
      if (existing != null) {
        return existing;
      }
      RemoteMember once = new RemoteMember(link(env.origin()), env.sender());
      once.close();
      return once;
    }
    return of.computeIfAbsent(id, x -> new RemoteMember(link(env.origin()), env.sender()));
  }

  private OriginLink link(String node) {
    return links.computeIfAbsent(node, n -> new OriginLink(bus, n));
  }

  /** Not this node's room (any longer): the client joins again, and reaches the room where it is now. */
  private void moved(RemoteMember member, RoomOpCodec.Envelope env) {
    RoomOp op = env.op();
    String room = op.room();
    if (op instanceof RoomOp.Closed || op instanceof RoomOp.ProfileChanged) {
      return;
    }
    if (op instanceof RoomOp.Leave leave) {
      member.send(new ServerFrame.Left(leave.id(), room));
      return;
    }
    if (env.token() != 0) {
      link(env.origin()).outcome(member.id(), env.token(), Outcome.FAILED.name());
    }
    member.send(new ServerFrame.Error(ErrorCode.ROOM_MOVED, "room '" + room
        + "' is sequenced by another relay of the cluster now; join it again", op.id(), room));
  }

  // --- membership changes -------------------------------------------------------------------------

  @Override
  public void joined(String node) {
    departed.remove(node);
  }

  /**
   * Owner side: the node's connections leave this node's rooms as closed ones would (the others
   * hear presence {@code leave}). Origin side: joins waiting for it fail, and this node's
   * connections lose their memberships in its rooms with {@code room_moved}.
   */
  @Override
  public void left(String node) {
    // where its ops arrive, so that none of them can make a proxy after this took its proxies out
    bus.execute(() -> {
      departed.add(node);
      links.remove(node);
      Map<String, RemoteMember> of = proxies.remove(node);
      if (of != null) {
        for (RemoteMember member : of.values()) {
          member.close();
          for (String room : List.copyOf(member.rooms())) {
            member.rooms().remove(room);
            rooms.apply(member, new RoomOp.Closed(room), null);
          }
        }
      }
    });
    // first, so that a join still on its way there is told room_moved before its outcome clears it
    rooms.ownerLeft(node);
    for (Long token : List.copyOf(pending.keySet())) {
      Pending p = pending.get(token);
      if (p != null && p.node().equals(node) && pending.remove(token, p)) {
        p.then().accept(Outcome.FAILED);
      }
    }
  }
}
