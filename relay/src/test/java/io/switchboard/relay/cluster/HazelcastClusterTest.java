package io.switchboard.relay.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import io.switchboard.relay.config.ClusterOptions;
import org.junit.jupiter.api.Test;

/** The Hazelcast config a relay joins with: only the listed members, only on its own address. */
class HazelcastClusterTest {

  @Test
  void joinsOnlyTheListedMembersOverTcpAndNeverByMulticastOrAutoDetection() {
    Config config = HazelcastCluster.config(new ClusterOptions().setMembers("127.0.0.1:5801,127.0.0.1:5802")
        .setHost("127.0.0.1").setPort(5802));
    JoinConfig join = config.getNetworkConfig().getJoin();
    // Vert.x's default cluster.xml turns multicast on
    assertThat(join.getMulticastConfig().isEnabled()).isFalse();
    assertThat(join.getAutoDetectionConfig().isEnabled()).isFalse();
    assertThat(join.getTcpIpConfig().isEnabled()).isTrue();
    assertThat(join.getTcpIpConfig().getMembers()).containsExactly("127.0.0.1:5801", "127.0.0.1:5802");
    assertThat(config.getNetworkConfig().getPort()).isEqualTo(5802);
    assertThat(config.getNetworkConfig().isPortAutoIncrement()).isFalse();
    assertThat(config.getProperty("hazelcast.local.localAddress")).isEqualTo("127.0.0.1");
    assertThat(config.getNetworkConfig().getPublicAddress()).isEqualTo("127.0.0.1:5802");
    assertThat(config.getClusterName()).isEqualTo(HazelcastCluster.CLUSTER_NAME);
    assertThat(config.getProperty("hazelcast.phone.home.enabled")).isEqualTo("false");
    assertThat(config.getProperty("hazelcast.socket.bind.any")).isEqualTo("false");
    // Vert.x's own maps survive our changes
    assertThat(config.getMultiMapConfigs()).containsKey("__vertx.subs");
  }

  @Test
  void aSystemPropertyOverridesOurFailureDetectionDefault() {
    String name = "hazelcast.max.no.heartbeat.seconds";
    System.setProperty(name, "42");
    try {
      Config config = HazelcastCluster.config(new ClusterOptions().setMembers("127.0.0.1:5801"));
      assertThat(config.getProperty(name)).isEqualTo("42");
    } finally {
      System.clearProperty(name);
    }
    assertThat(HazelcastCluster.config(new ClusterOptions().setMembers("127.0.0.1:5801")).getProperty(name))
        .isEqualTo(HazelcastCluster.PROPERTIES.get(name));
  }

  @Test
  void aHostThatDoesNotResolveIsABadSettingNotAStackTrace() {
    assertThatThrownBy(() -> HazelcastCluster.config(new ClusterOptions().setMembers("x:1").setHost("no-such-host.invalid")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cluster.host");
  }
}
