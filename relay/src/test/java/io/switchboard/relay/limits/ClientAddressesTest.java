package io.switchboard.relay.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ClientAddressesTest {
  private final ClientAddresses untrusting = new ClientAddresses(TrustedProxies.NONE);
  private final ClientAddresses behindProxies = new ClientAddresses(TrustedProxies.parse("127.0.0.2, 10.0.0.0/8, fd00::/8"));

  @Test
  void withoutATrustedProxyTheHeaderIsIgnored() {
    assertThat(untrusting.key("203.0.113.9", List.of("198.51.100.1"))).isEqualTo("203.0.113.9");
    // From an untrusted peer even a trusted-looking chain proves nothing.
    assertThat(behindProxies.key("203.0.113.9", List.of("198.51.100.1, 10.0.0.5"))).isEqualTo("203.0.113.9");
  }

  @Test
  void fromATrustedProxyTheRightMostUntrustedEntryIsTheClient() {
    // The client forged "1.2.3.4" on the left; our proxies appended the real one and themselves.
    assertThat(behindProxies.key("127.0.0.2", List.of("1.2.3.4, 198.51.100.7, 10.0.0.5"))).isEqualTo("198.51.100.7");
    // Several header lines count as one list, in order.
    assertThat(behindProxies.key("10.1.1.1", List.of("1.2.3.4", "198.51.100.8"))).isEqualTo("198.51.100.8");
    assertThat(behindProxies.key("10.1.1.1", List.of("[2001:db8:1:2::7]:4431"))).isEqualTo("2001:db8:1:2::/64");
    assertThat(behindProxies.key("10.1.1.1", List.of("198.51.100.9:5000"))).isEqualTo("198.51.100.9");
  }

  @Test
  void aTrustedProxyWithoutTheHeaderOrWithGarbageIsTheClient() {
    assertThat(behindProxies.key("127.0.0.2", List.of())).isEqualTo("127.0.0.2");
    assertThat(behindProxies.key("127.0.0.2", List.of("unknown"))).isEqualTo("127.0.0.2");
    // A name in the header must never become a DNS lookup or a key of its own.
    assertThat(behindProxies.key("127.0.0.2", List.of("198.51.100.7, evil.example"))).isEqualTo("127.0.0.2");
    // Only trusted hops: the left-most is the closest to the client.
    assertThat(behindProxies.key("127.0.0.2", List.of("10.9.9.9, 10.0.0.5"))).isEqualTo("10.9.9.9");
  }

  @Test
  void ipv6IsGroupedBySlash64AndMappedIpv4IsIpv4() {
    assertThat(untrusting.key("2001:db8:aa:bb:1:2:3:4", List.of())).isEqualTo("2001:db8:aa:bb::/64");
    assertThat(untrusting.key("2001:db8:aa:bb:ffff:ffff:ffff:ffff", List.of())).isEqualTo("2001:db8:aa:bb::/64");
    assertThat(untrusting.key("2001:db8:aa:bc::1", List.of())).isEqualTo("2001:db8:aa:bc::/64");
    assertThat(untrusting.key("0:0:0:0:0:0:0:1", List.of())).isEqualTo("0:0:0:0::/64");
    assertThat(untrusting.key("::ffff:203.0.113.4", List.of())).isEqualTo("203.0.113.4");
    assertThat(behindProxies.key("::ffff:127.0.0.2", List.of("198.51.100.3"))).isEqualTo("198.51.100.3");
  }

  @Test
  void trustedProxyListsAreCheckedWhenRead() {
    assertThat(TrustedProxies.parse(" ").isEmpty()).isTrue();
    TrustedProxies p = TrustedProxies.parse("192.168.0.0/23");
    assertThat(p.contains(IpAddresses.parse("192.168.1.255"))).isTrue();
    assertThat(p.contains(IpAddresses.parse("192.168.2.0"))).isFalse();
    assertThat(p.contains(IpAddresses.parse("::1"))).isFalse();
    assertThatThrownBy(() -> TrustedProxies.parse("10.0.0.0/33")).hasMessageContaining("10.0.0.0/33");
    assertThatThrownBy(() -> TrustedProxies.parse("proxy.example")).hasMessageContaining("proxy.example");
    assertThatThrownBy(() -> TrustedProxies.parse("10.0.0.1/x")).hasMessageContaining("10.0.0.1/x");
    assertThat(IpAddresses.parse("999.1.1.1")).isNull();
    assertThat(IpAddresses.parse("fe80::1%eth0")).isNull();
  }
}
