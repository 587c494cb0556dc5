package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Four shards on a machine with fewer cores: rooms land on other loops than their members' connections. */
class ShardedRelayTest extends ShardingScenarios {
  @BeforeAll
  static void start() {
    startRelay(baseOptions().setEventLoops(4));
  }

  @Test
  void runsFourShardsOnFourLoops() {
    assertThat(relay.engine().shards()).isEqualTo(4);
    assertThat(relay.engine().contexts().stream().map(c -> c.nettyEventLoop()).distinct()).hasSize(4);
  }
}
