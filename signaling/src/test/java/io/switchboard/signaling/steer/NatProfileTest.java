package io.switchboard.signaling.steer;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.protocol.ClientFrame;
import io.switchboard.protocol.FrameParser;
import io.switchboard.protocol.Limits;
import io.switchboard.protocol.NatBehaviour;
import io.switchboard.protocol.NatClass;
import org.junit.jupiter.api.Test;

class NatProfileTest {
  private final FrameParser parser = new FrameParser(Limits.defaults());

  private NatProfile classify(String fields) {
    return NatProfile.from((ClientFrame.Profile) parser.parse("{\"t\":\"profile\"," + fields + "}"));
  }

  @Test
  void udpBlockedWinsOverEverything() {
    assertThat(classify("\"udp\":false,\"mapping\":\"endpoint-independent\"").natClass()).isEqualTo(NatClass.UDP_BLOCKED);
  }

  @Test
  void sameMappingFromBothPortsIsACone() {
    NatProfile p = classify("\"udp\":true,\"mapped\":[\"198.51.100.7:4000\",\"198.51.100.7:4000\"]");
    assertThat(p.natClass()).isEqualTo(NatClass.CONE);
    assertThat(p.mapping()).isEqualTo(NatBehaviour.ENDPOINT_INDEPENDENT);
  }

  @Test
  void differentMappingsAreSymmetricWhateverTheClientClaims() {
    assertThat(classify("\"udp\":true,\"mapped\":[\"198.51.100.7:4000\",\"198.51.100.7:4001\"],"
        + "\"mapping\":\"endpoint-independent\",\"filtering\":\"endpoint-independent\"").natClass())
        .isEqualTo(NatClass.SYMMETRIC);
    assertThat(classify("\"udp\":true,\"mapped\":[\"198.51.100.7:4000\",\"198.51.100.8:4000\"]").natClass())
        .isEqualTo(NatClass.SYMMETRIC);
    assertThat(classify("\"udp\":true,\"mapped\":[\"[2001:db8::1]:4000\",\"[2001:db8:0::1]:4000\"]").natClass())
        .as("IPv6 spellings of one address").isEqualTo(NatClass.CONE);
  }

  @Test
  void rfc5780ResultsRefineTheCone() {
    String eim = "\"udp\":true,\"mapped\":[\"198.51.100.7:4000\",\"198.51.100.7:4000\"],\"filtering\":";
    assertThat(classify(eim + "\"endpoint-independent\"").natClass()).isEqualTo(NatClass.FULL_CONE);
    assertThat(classify(eim + "\"address-dependent\"").natClass()).isEqualTo(NatClass.RESTRICTED_CONE);
    assertThat(classify(eim + "\"address-and-port-dependent\"").natClass()).isEqualTo(NatClass.PORT_RESTRICTED);
    assertThat(classify("\"udp\":true,\"mapping\":\"address-dependent\"").natClass()).isEqualTo(NatClass.SYMMETRIC);
    assertThat(classify("\"udp\":true,\"mapping\":\"endpoint-independent\",\"filtering\":\"address-dependent\"")
        .natClass()).isEqualTo(NatClass.RESTRICTED_CONE);
  }

  @Test
  void reflexiveAddressAmongOwnAddressesIsNoNat() {
    assertThat(classify("\"udp\":true,\"mapped\":[\"203.0.113.9:5000\",\"203.0.113.9:5000\"],"
        + "\"host\":[\"10.0.0.2\",\"203.0.113.9\"]").natClass()).isEqualTo(NatClass.NONE);
    assertThat(classify("\"udp\":true,\"mapped\":[\"203.0.113.9:5000\"],\"host\":[\"10.0.0.2\"]").natClass())
        .isEqualTo(NatClass.UNKNOWN);
  }

  @Test
  void turnReachabilityIsKept() {
    assertThat(classify("\"udp\":true,\"turn\":false").turn()).isFalse();
    assertThat(classify("\"udp\":true").turn()).isNull();
  }
}
