package io.switchboard.peer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.ice4j.ice.harvest.HarvestConfig;
import org.ice4j.ice.harvest.MappingCandidateHarvesters;
import org.junit.jupiter.api.Test;

/** The process-wide ice4j settings IcePeer relies on to keep every packet on configured addresses. */
class Ice4jSetupTest {

  @Test
  void mappingHarvestersAreOffOnceAPeerExists() {
    try (IcePeer peer = IcePeer.create(Loopback.options("config", true))) {
      assertThat(HarvestConfig.config.enableAwsHarvester()).as("AWS metadata probe").isFalse();
      assertThat(HarvestConfig.config.stunMappingCandidateHarvesterAddresses()).isEmpty();
      assertThat(HarvestConfig.config.getStaticMappings()).isEmpty();
      assertThat(HarvestConfig.config.useDynamicPorts()).as("ice4j's all-interfaces host harvester").isFalse();
      assertThat(MappingCandidateHarvesters.getHarvesters()).isEmpty();
      assertThat(peer.localDescription().parsedCandidates())
          .extracting(c -> c.address().getAddress().getHostAddress())
          .isEqualTo(List.of("127.0.0.1"));
    }
  }
}
