package io.switchboard.relay.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import io.switchboard.relay.config.ClusterOptions;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Map;

/**
 * The Hazelcast member under a clustered relay: Vert.x's default cluster config (its maps for
 * event-bus subscriptions and node infos), joined over TCP-IP to {@code cluster.members} only, bound
 * to {@code cluster.host:cluster.port}. The only class that names Hazelcast: a relay that is not
 * clustered never loads it.
 */
public final class HazelcastCluster {
  /** Relays of other applications on the same network never join ours. */
  public static final String CLUSTER_NAME = "switchboard";

  /**
   * Our defaults; a JVM system property of the same name (e.g. in {@code JAVA_TOOL_OPTIONS}) wins,
   * so operators can tune failure detection without a new setting.
   */
  static final Map<String, String> PROPERTIES = Map.of(
      // join in ~0.3 s instead of waiting 5 s for other members to show up
      "hazelcast.wait.seconds.before.join", "0",
      "hazelcast.logging.type", "slf4j",
      // it would otherwise report to hazelcast.com
      "hazelcast.phone.home.enabled", "false",
      // Main's hook drains the relay first and then leaves the cluster; Hazelcast's own would leave at once
      "hazelcast.shutdownhook.enabled", "false",
      "hazelcast.socket.bind.any", "false",
      // a member that stops answering (kill -9, partition) is dropped after 10 s, not Hazelcast's 60 s
      "hazelcast.heartbeat.interval.seconds", "1",
      "hazelcast.max.no.heartbeat.seconds", "10");

  private HazelcastCluster() {
  }

  public static ClusterManager manager(ClusterOptions options) {
    // read before any Hazelcast logger exists
    System.setProperty("hazelcast.logging.type", System.getProperty("hazelcast.logging.type", "slf4j"));
    return new HazelcastClusterManager(config(options));
  }

  static Config config(ClusterOptions options) {
    Config config = ConfigUtil.loadConfig();
    config.setClusterName(CLUSTER_NAME);
    PROPERTIES.forEach((name, value) -> config.setProperty(name, System.getProperty(name, value)));
    NetworkConfig network = config.getNetworkConfig();
    String address = address(options.getHost());
    network.setPort(options.getPort()).setPortAutoIncrement(false).setPublicAddress(address + ":" + options.getPort());
    // the address itself, not interface matching: that only knows the addresses interfaces list
    // (127.0.0.2 or a container's NATed address would not start)
    config.setProperty("hazelcast.local.localAddress", address);
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(options.memberList());
    return config;
  }

  /** Hazelcast binds an address, operators may give a name (a pod's DNS name). */
  private static String address(String host) {
    try {
      return InetAddress.getByName(host).getHostAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("cluster.host '" + host + "' does not resolve: " + e.getMessage(), e);
    }
  }
}
