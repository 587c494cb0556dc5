package io.switchboard.signaling.stun;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.List;

import static io.switchboard.signaling.stun.StunBytes.bindingRequest;
import static io.switchboard.signaling.stun.StunBytes.bytes;
import static io.switchboard.signaling.stun.StunBytes.hex;
import static org.assertj.core.api.Assertions.assertThat;

class StunWireTest {

  @Test
  void addressValuesInMappedAddressFormat() {
    assertThat(hex(StunWire.encodeAddress(new InetSocketAddress("192.0.2.1", 32853))))
      .isEqualTo("00018055c0000201");
    assertThat(hex(StunWire.encodeAddress(new InetSocketAddress("2001:db8::1", 3478))))
      .isEqualTo("00020d9620010db8000000000000000000000001");
  }

  @Test
  void addressValuesRoundTripAndMalformedOnesAreNull() {
    for (String ip : List.of("127.0.0.2", "::1", "2001:db8::abcd")) {
      InetSocketAddress address = new InetSocketAddress(ip, 65535);
      assertThat(StunWire.decodeAddress(StunWire.encodeAddress(address))).isEqualTo(address);
    }
    assertThat(StunWire.decodeAddress(null)).isNull();
    assertThat(StunWire.decodeAddress(bytes(0, 1, 0))).isNull();
    assertThat(StunWire.decodeAddress(bytes(0, 3, 0, 1, 127, 0, 0, 1))).isNull();    // family 3
    assertThat(StunWire.decodeAddress(bytes(0, 1, 0, 1, 127, 0, 0))).isNull();       // 3-byte IPv4
    assertThat(StunWire.decodeAddress(bytes(0, 2, 0, 1, 127, 0, 0, 1))).isNull();    // 4-byte IPv6
  }

  @Test
  void unknownAttributesLayout() {
    byte[] one = StunWire.unknownAttributes(List.of((char) 0x0027)).encode();
    byte[] three = StunWire.unknownAttributes(List.of((char) 0x0027, (char) 0x0026, (char) 0x7fff)).encode();

    assertThat(hex(one)).isEqualTo("000a00020027");
    assertThat(hex(three)).isEqualTo("000a0006002700267fff");
  }

  @Test
  void framing() {
    byte[] request = bindingRequest().attribute(0x8022, bytes(1, 2, 3)).fingerprint().build();

    List<StunWire.Tlv> tlvs = StunWire.frame(request, request.length);

    assertThat(tlvs).containsExactly(new StunWire.Tlv((char) 0x8022, 3, 24), new StunWire.Tlv((char) 0x8028, 4, 32));
    assertThat(StunWire.frame(request, request.length - 1)).isNull();
    assertThat(StunWire.frame(request, request.length + 1)).isNull();
    assertThat(StunWire.frame(new byte[20], 20)).as("no magic cookie").isNull();
    assertThat(StunWire.frame(bindingRequest().build(), 20)).isEmpty();
  }
}
