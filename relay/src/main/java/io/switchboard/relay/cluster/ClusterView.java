package io.switchboard.relay.cluster;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.core.spi.cluster.NodeListener;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
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
 */
public final class ClusterView {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterView.class);

  /** Told about membership changes, on the view's context, after the placement changed. */
  public interface Listener {
    void joined(String node);

    void left(String node);
  }

  private final String self;
  private final ClusterManager manager;
  private final Set<String> members = new TreeSet<>();
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  private volatile RoomPlacement placement;

  /** A view of fixed initial members, changed through {@link #joined} and {@link #left}. */
  ClusterView(String self, Collection<String> initial, ClusterManager manager) {
    this.self = self;
    this.manager = manager;
    members.addAll(initial);
    members.add(self);
    placement = new RoomPlacement(members);
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
      view = new ClusterView(manager.getNodeId(), List.of(), manager);
      // the cluster manager holds one node listener; Vert.x sets its own only with HA on, which a
      // relay never turns on. Events arrive on the manager's threads: apply them in order on one context.
      manager.nodeListener(new NodeListener() {
        @Override
        public void nodeAdded(String node) {
          context.runOnContext(v -> view.joined(node));
        }

        @Override
        public void nodeLeft(String node) {
          context.runOnContext(v -> view.left(node));
        }
      });
      // after the listener is set, on the same context as its events: a change between the two is
      // applied again on top of this snapshot, and joining or leaving twice changes nothing
      context.runOnContext(v -> manager.getNodes().forEach(view::joined));
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

  public int size() {
    return placement.size();
  }

  /** The node that should sequence {@code room} by the current view. */
  public String owner(String room) {
    return placement.owner(room);
  }

  public void addListener(Listener listener) {
    listeners.add(listener);
  }

  void joined(String node) {
    if (members.add(node)) {
      placement = new RoomPlacement(members);
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
      placement = new RoomPlacement(members);
      LOG.info("cluster: {} left; {} members", node, members.size());
      listeners.forEach(l -> l.left(node));
    }
  }

  /**
   * What each member published about itself (event-bus address and the relay's metadata), members
   * in placement order; a member whose info is not readable yet (it is still joining) has none.
   */
  public Future<List<Member>> members() {
    List<String> nodes = placement.nodes();
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
