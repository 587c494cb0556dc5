package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code eventLoops = 1}: the relay as it was before sharding, everything on one loop, no hop. */
class SingleLoopRelayTest extends ShardingScenarios {
  @BeforeAll
  static void start() {
    startRelay(baseOptions().setEventLoops(1));
  }

  @Test
  void runsOneShard() {
    assertThat(relay.engine().shards()).isEqualTo(1);
    assertThat(relay.engine().sessionsPerShard()).hasSize(1);
  }
}
