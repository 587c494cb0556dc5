package io.switchboard.natlab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The NAT catalogue and its nftables recipes (no root needed). */
class NatTypeTest {

  @Test
  void namesParseAndUnknownNamesListTheValidOnes() {
    for (NatType t : NatType.values()) {
      assertThat(NatType.parse(t.wire())).isSameAs(t);
    }
    assertThatThrownBy(() -> NatType.parse("cone"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unknown NAT type 'cone'; valid names: none, full-cone, restricted-cone, port-restricted, symmetric, udp-blocked");
  }

  @Test
  void rulesetsBuildTheBehaviourTheyClaim() {
    String wan = "203.0.113.11";
    String client = "198.51.100.10";
    for (NatType t : NatType.values()) {
      if (!t.routed()) {
        assertThatThrownBy(() -> t.nftRuleset(wan, client)).isInstanceOf(IllegalStateException.class);
        continue;
      }
      String nft = t.nftRuleset(wan, client);
      // Every router drops unsolicited packets to itself and forwards nothing it was not asked to.
      assertThat(nft).contains("type filter hook input priority filter; policy drop;")
          .contains("type filter hook forward priority filter; policy drop;")
          .contains("oifname \"wan\" snat to " + wan);
      assertThat(nft.contains("fully-random")).isEqualTo(t == NatType.SYMMETRIC);
      assertThat(nft.contains("meta l4proto udp drop")).isEqualTo(t == NatType.UDP_BLOCKED);
      assertThat(nft.contains("dnat to " + client)).isEqualTo(t == NatType.FULL_CONE || t == NatType.RESTRICTED_CONE);
      if (nft.contains("update @")) {
        // A set update after the established shortcut would only ever see a flow's first packet.
        assertThat(nft.indexOf("update @")).isLessThan(nft.indexOf("ct state established,related accept"));
      }
    }
    assertThat(NatType.FULL_CONE.nftRuleset(wan, client)).contains("iifname \"wan\" udp dport @eim dnat to " + client);
    assertThat(NatType.RESTRICTED_CONE.nftRuleset(wan, client))
        .contains("iifname \"wan\" ip saddr . udp dport @adf dnat to " + client)
        .contains("update @adf { ip daddr . udp sport }");
  }

  @Test
  void configuredBehavioursAreRfc4787s() {
    assertThat(NatType.PORT_RESTRICTED.mapping()).isEqualTo("endpoint-independent");
    assertThat(NatType.PORT_RESTRICTED.filtering()).isEqualTo("address-and-port-dependent");
    assertThat(NatType.RESTRICTED_CONE.filtering()).isEqualTo("address-dependent");
    assertThat(NatType.SYMMETRIC.mapping()).isEqualTo("address-and-port-dependent");
    assertThat(NatType.UDP_BLOCKED.mapping()).isEqualTo(NatType.NO_UDP);
    assertThat(NatType.NONE.filtering()).isEqualTo("endpoint-independent");
  }
}
