package io.switchboard.relay.cluster;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.core.spi.cluster.NodeListener;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This relay's view of the cluster: its node id, the current members and where rooms belong
 * ({@link RoomPlacement}), with listeners for members joining and leaving. Built on Vert.x's
 * {@link ClusterManager} and {@link NodeListener}, so it works with any cluster manager; a relay
 * that is not clustered is a cluster of one.
 *
 * <p>Changes are applied on one Vert.x context (the relay's); readers on any thread see an
 * immutable {@link RoomPlacement} snapshot.
 *
 * <p>It also remembers each member's relay incarnation (from the metadata it published, read when
 * it joins: after it left the info is gone) so that the rooms of a member that left can be taken
 * over at once ({@link #departed}), and which members are draining: those are out of the placement
 * on every member that heard it, before they hand their rooms over ({@link #announceDraining}).
 */
public final class ClusterView {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterView.class);

  /** Told about membership changes, on the view's context, after the placement changed. */
  public interface Listener {
    void joined(String node);

    void left(String node);
  }

  /** Event-bus address prefix where each member hears that another one drains (its node id appended). */
  static final String DRAINING_ADDRESS = "switchboard.cluster.draining.";
  /** How long a draining member waits for each other member to confirm it stopped placing rooms on it. */
  static final long DRAINING_ACK_MS = 2_000;
  /** How often a joining member's metadata is read again until it is published. */
  private static final long INFO_RETRY_MS = 250;
  private static final int INFO_ATTEMPTS = 40;

  private final String self;
  private final ClusterManager manager;
  private final Vertx vertx;
  /** Where the view changes (the relay's context); null for a view driven by tests directly. */
  private final Context context;
  private final Set<String> members = new TreeSet<>();
  private final Set<String> draining = new TreeSet<>();
  /** Node id → the relay incarnation it published; read from any thread. */
  private final Map<String, String> incarnations = new ConcurrentHashMap<>();
  private final Departed departed = new Departed(System::nanoTime);
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  private volatile RoomPlacement placement;
  /** The members, draining ones too, sorted: a snapshot for readers on other threads. */
  private volatile List<String> memberList;

  /** A view of fixed initial members, changed through {@link #joined} and {@link #left}. */
  ClusterView(String self, Collection<String> initial, ClusterManager manager) {
    this(self, initial, manager, null, null);
  }

  private ClusterView(String self, Collection<String> initial, ClusterManager manager, Vertx vertx, Context context) {
    this.self = self;
    this.manager = manager;
    this.vertx = vertx;
    this.context = context;
    members.addAll(initial);
    members.add(self);
    place();
  }

  /** A relay alone: one member, which owns every room. */
  public static ClusterView single(String self) {
    return new ClusterView(self, List.of(), null);
  }

  /**
   * The view of a clustered {@code vertx} (or a single one), kept current from its cluster
   * manager's node events, which are moved onto {@code context}. Publishes
   * {@code switchboard_cluster_members}.
   */
  public static ClusterView attach(Vertx vertx, Context context, String singleId, MeterRegistry registry) {
    ClusterView view;
    if (!vertx.isClustered()) {
      view = single(singleId);
    } else {
      ClusterManager manager = ((VertxInternal) vertx).clusterManager();
      view = new ClusterView(manager.getNodeId(), List.of(), manager, vertx, context);
      // the cluster manager holds one node listener; Vert.x sets its own only with HA on, which a
      // relay never turns on. Events arrive on the manager's threads: apply them in order on one context.
      manager.nodeListener(new NodeListener() {
        @Override
        public void nodeAdded(String node) {
          context.runOnContext(v -> {
            view.joined(node);
            view.learn(node, INFO_ATTEMPTS);
          });
        }

        @Override
        public void nodeLeft(String node) {
          context.runOnContext(v -> view.left(node));
        }
      });
      // after the listener is set, on the same context as its events: a change between the two is
      // applied again on top of this snapshot, and joining or leaving twice changes nothing
      context.runOnContext(v -> manager.getNodes().forEach(node -> {
        view.joined(node);
        view.learn(node, INFO_ATTEMPTS);
      }));
      vertx.eventBus().<String>consumer(DRAINING_ADDRESS + view.self, message -> context.runOnContext(v -> {
        view.draining(message.body());
        message.reply(null);
      }));
    }
    Gauge.builder("switchboard_cluster_members", view, ClusterView::size)
        .description("relays in this relay's view of the cluster (1 when not clustered)").register(registry);
    return view;
  }

  public String self() {
    return self;
  }

  public boolean clustered() {
    return manager != null;
  }

  /** The current members and placement, as one consistent snapshot. */
  public RoomPlacement placement() {
    return placement;
  }

  /** Members in the view, draining ones too. */
  public int size() {
    return memberList.size();
  }

  /** Whether {@code node} is in the view, draining or not (a draining member still holds rooms). Any thread. */
  public boolean isMember(String node) {
    return memberList.contains(node);
  }

  /** The node that should sequence {@code room} by the current view. */
  public String owner(String room) {
    return placement.owner(room);
  }

  public void addListener(Listener listener) {
    listeners.add(listener);
  }

  /**
   * Reads the incarnation {@code node} published, again a little later while it is not readable
   * yet (a member's info appears shortly after it joined).
   */
  private void learn(String node, int attemptsLeft) {
    Promise<NodeInfo> info = Promise.promise();
    manager.getNodeInfo(node, info);
    // the answer comes on a cluster manager thread: the view changes on its own context only
    info.future().onComplete(ar -> context.runOnContext(v -> {
      if (!members.contains(node)) {
        return; // gone before its info was read: its rooms wait for their leases
      }
      JsonObject metadata = ar.succeeded() && ar.result() != null ? ar.result().metadata() : null;
      String incarnation = metadata == null ? null : metadata.getString("incarnation");
      if (incarnation != null) {
        learned(node, incarnation);
      } else if (attemptsLeft > 1) {
        context.owner().setTimer(INFO_RETRY_MS, id -> context.runOnContext(x -> learn(node, attemptsLeft - 1)));
      } else {
        LOG.warn("cluster: no incarnation published by {}; its rooms wait for their leases if it dies", node);
      }
    }));
  }

  /** {@code node} runs the relay incarnation {@code incarnation} (a live one, whatever was heard before). */
  void learned(String node, String incarnation) {
    incarnations.put(node, incarnation);
    departed.remove(incarnation);
  }

  /**
   * Whether the relay incarnation left this view (recently): a room it owns is free now, however
   * long its lease still runs. Any thread.
   */
  public boolean departed(String incarnation) {
    return departed.contains(incarnation);
  }

  /** Members minus those draining (never none: a view of draining members only still places). */
  private void place() {
    Set<String> placed = new TreeSet<>(members);
    placed.removeAll(draining);
    placement = new RoomPlacement(placed.isEmpty() ? members : placed);
    memberList = List.copyOf(members);
  }

  /**
   * {@code node} drains: no room is placed on it from now on (its rooms' joins go to the others
   * while it hands them over). Its own listeners hear nothing: it is still a member until it leaves.
   */
  void draining(String node) {
    if (members.contains(node) && draining.add(node)) {
      place();
      LOG.info("cluster: {} drains; {} of {} members place rooms", node, placement.size(), members.size());
    }
  }

  /**
   * The first step of draining this relay: every member (this one too) stops placing rooms here.
   * Completes when each other member confirmed, or after {@link #DRAINING_ACK_MS} for one that did
   * not (a member that misses it sees this one leave soon anyway). On the view's context.
   */
  public Future<Void> announceDraining() {
    draining(self);
    if (vertx == null) {
      return Future.succeededFuture();
    }
    List<Future<?>> acks = new ArrayList<>();
    DeliveryOptions timeout = new DeliveryOptions().setSendTimeout(DRAINING_ACK_MS);
    for (String node : members) {
      if (!node.equals(self)) {
        acks.add(vertx.eventBus().request(DRAINING_ADDRESS + node, self, timeout)
            .onFailure(e -> LOG.warn("cluster: {} did not confirm that this relay drains: {}", node, e.toString())));
      }
    }
    return Future.join(acks).otherwiseEmpty().mapEmpty();
  }

  void joined(String node) {
    if (members.add(node)) {
      place();
      LOG.info("cluster: {} joined; {} members", node, members.size());
      listeners.forEach(l -> l.joined(node));
    }
  }

  void left(String node) {
    if (node.equals(self)) {
      // a merged-away or shut-down member's own id: it is still this process, which stays its own owner
      return;
    }
    if (members.remove(node)) {
      draining.remove(node);
      String incarnation = incarnations.remove(node);
      if (incarnation != null) {
        departed.add(incarnation);
      }
      place();
      LOG.info("cluster: {} left; {} members", node, members.size());
      listeners.forEach(l -> l.left(node));
    }
  }

  /**
   * What each member published about itself (event-bus address and the relay's metadata), members
   * sorted (draining ones too); a member whose info is not readable yet (it is still joining) has none.
   */
  public Future<List<Member>> members() {
    List<String> nodes = memberList;
    if (manager == null) {
      return Future.succeededFuture(nodes.stream().map(node -> new Member(node, null)).toList());
    }
    List<Future<Member>> infos = new ArrayList<>();
    for (String node : nodes) {
      Promise<NodeInfo> info = Promise.promise();
      manager.getNodeInfo(node, info);
      infos.add(info.future().map(i -> new Member(node, i)).otherwise(new Member(node, null)));
    }
    return Future.join(infos).map(all -> infos.stream().map(Future::result).toList());
  }

  /** A member and what it published (null when unknown). */
  public record Member(String node, NodeInfo info) {}
}
