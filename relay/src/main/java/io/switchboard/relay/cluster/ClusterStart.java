package io.switchboard.relay.cluster;

import io.switchboard.relay.config.ClusterOptions;
import io.switchboard.relay.config.RelayOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.json.JsonObject;

/**
 * Starting Vert.x clustered when {@code cluster.members} is set. Names no Hazelcast type itself, so
 * {@code Main} can refer to it on every start.
 */
public final class ClusterStart {
  private ClusterStart() {
  }

  /** Why these settings cannot start a clustered relay, or null. */
  public static String problem(RelayOptions options) {
    if (options.getCluster().enabled() && options.getStore().getDatabaseUrl() == null) {
      return "a clustered relay (SWITCHBOARD_CLUSTER_MEMBERS is set) needs the one Postgres every relay of the"
          + " cluster shares: set DATABASE_URL (the embedded default database belongs to a single relay)";
    }
    return null;
  }

  /**
   * Joins the cluster: the Hazelcast member on {@code cluster.host:cluster.port}, the event bus's
   * own TCP server on {@code cluster.host:cluster.busPort}. The relay's ports and incarnation go
   * into this node's published info, so every member's {@code /cluster} can show them.
   */
  public static Future<Vertx> start(VertxBuilder builder, VertxOptions vertxOptions, RelayOptions options,
      String incarnation) {
    ClusterOptions cluster = options.getCluster();
    vertxOptions.setEventBusOptions(new EventBusOptions().setHost(cluster.getHost()).setPort(cluster.getBusPort())
        .setClusterNodeMetadata(metadata(options, incarnation)));
    return builder.with(vertxOptions).withClusterManager(HazelcastCluster.manager(cluster)).buildClustered();
  }

  static JsonObject metadata(RelayOptions options, String incarnation) {
    return new JsonObject().put("incarnation", incarnation).put("host", options.getHost())
        .put("port", options.getPort()).put("adminPort", options.getAdminPort());
  }
}
