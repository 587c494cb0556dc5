package io.switchboard.peer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class IceCandidateTest {

  @Test
  void parsesAndFormatsAHostCandidate() {
    IceCandidate c = IceCandidate.parse("candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host");
    assertThat(c.foundation()).isEqualTo("1");
    assertThat(c.component()).isEqualTo(1);
    assertThat(c.transport()).isEqualTo("udp");
    assertThat(c.priority()).isEqualTo(2130706431L);
    assertThat(c.address()).isEqualTo(new InetSocketAddress("127.0.0.1", 50000));
    assertThat(c.type()).isEqualTo("host");
    assertThat(c.relatedAddress()).isNull();
    assertThat(c.toSdp()).isEqualTo("candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host");
  }

  @Test
  void parsesRelayWithRelatedAddressAndBrowserExtensions() {
    IceCandidate c = IceCandidate.parse(
        "candidate:842163049 1 UDP 16777215 203.0.113.9 49160 typ relay raddr 0.0.0.0 rport 0 generation 0 ufrag Ab/+ network-cost 999");
    assertThat(c.transport()).isEqualTo("udp");
    assertThat(c.isRelay()).isTrue();
    assertThat(c.relatedAddress()).isEqualTo(new InetSocketAddress("0.0.0.0", 0));
    assertThat(c.toSdp()).isEqualTo("candidate:842163049 1 udp 16777215 203.0.113.9 49160 typ relay raddr 0.0.0.0 rport 0");
    assertThat(IceCandidate.parse(c.toSdp())).isEqualTo(c);
  }

  @Test
  void parsesIpv6AndTcp() {
    IceCandidate c = IceCandidate.parse("candidate:5 1 tcp 1518280447 2001:db8::1 9 typ host tcptype active");
    assertThat(c.transport()).isEqualTo("tcp");
    assertThat(c.address().getPort()).isEqualTo(9);
    assertThat(c.toSdp()).isEqualTo("candidate:5 1 tcp 1518280447 2001:db8:0:0:0:0:0:1 9 typ host");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "a=candidate:1 1 udp 1 127.0.0.1 5 typ host            | must start with 'candidate:'",
      "candidate:1 1 udp 1 127.0.0.1 5 typ                   | at least 8 expected",
      "candidate:1  1 udp 1 127.0.0.1 5 typ host             | single spaces",
      "'candidate:1 1 udp 1 127.0.0.1 5 typ host '           | single spaces",
      "candidate:1 1 udp 1 host.example 5 typ host           | not an IP address literal: 'host.example'",
      "candidate:1 1 udp 1 4f2c-11ee.local 5 typ host        | not an IP address literal",
      "candidate:1 1 udp 1 zz:1 5 typ host                   | not an IP address literal",
      "candidate:1 1 udp 1 fe80::1%eth0 5 typ host           | not an IP address literal",
      "candidate:1 1 udp 1 1:2 5 typ host                    | not a valid IP address",
      "candidate:1 1 udp 1 256.0.0.1 5 typ host              | not an IP address literal",
      "candidate:1 1 udp 1 0.0.0.0 5 typ host                | must be unicast",
      "candidate:1 1 udp 1 224.0.0.251 5 typ host            | must be unicast",
      "candidate:1 1 udp 1 127.0.0.1 0 typ host              | udp candidate port must be 1-65535",
      "candidate:1 1 udp 1 127.0.0.1 65536 typ host          | port out of range",
      "candidate:1 1 udp 1 127.0.0.1 -5 typ host             | port is not a number",
      "candidate:1 0 udp 1 127.0.0.1 5 typ host              | component id must be 1-256",
      "candidate:1 257 udp 1 127.0.0.1 5 typ host            | component id out of range",
      "candidate:1 1 sctp 1 127.0.0.1 5 typ host             | transport must be udp or tcp",
      "candidate:1 1 udp 0 127.0.0.1 5 typ host              | priority must be 1 to 2^31-1",
      "candidate:1 1 udp 2147483648 127.0.0.1 5 typ host     | priority out of range",
      "candidate:1 1 udp 99999999999 127.0.0.1 5 typ host    | priority is not a number",
      "candidate:1 1 udp 1 127.0.0.1 5 type host             | field 7 must be 'typ'",
      "candidate:1 1 udp 1 127.0.0.1 5 typ local             | type must be host, srflx, prflx or relay",
      "candidate:f:o 1 udp 1 127.0.0.1 5 typ host            | foundation must be 1-32 ice-chars",
      "candidate:1 1 udp 1 127.0.0.1 5 typ srflx raddr 1.2.3.4 | raddr without rport",
      "candidate:1 1 udp 1 127.0.0.1 5 typ srflx rport 5     | rport must follow raddr",
      "candidate:1 1 udp 1 127.0.0.1 5 typ host generation   | has no value",
  })
  void rejects(String line, String message) {
    assertThatThrownBy(() -> IceCandidate.parse(line))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message);
  }

  @ParameterizedTest
  @ValueSource(ints = {IceCandidate.MAX_LENGTH + 1, 100_000})
  void rejectsOverlongLines(int length) {
    String line = "candidate:1 1 udp 1 127.0.0.1 5 typ host x " + "y".repeat(length);
    assertThatThrownBy(() -> IceCandidate.parse(line)).isInstanceOf(IllegalArgumentException.class);
  }
}
