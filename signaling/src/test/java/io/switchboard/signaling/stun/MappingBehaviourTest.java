package io.switchboard.signaling.stun;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;

import static io.switchboard.signaling.stun.MappingBehaviour.ADDRESS_AND_PORT_DEPENDENT;
import static io.switchboard.signaling.stun.MappingBehaviour.ADDRESS_DEPENDENT;
import static io.switchboard.signaling.stun.MappingBehaviour.ENDPOINT_INDEPENDENT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MappingBehaviourTest {

  static final InetSocketAddress X = new InetSocketAddress("198.51.100.7", 50000);
  static final InetSocketAddress Y = new InetSocketAddress("198.51.100.7", 50001);
  static final InetSocketAddress Z = new InetSocketAddress("198.51.100.7", 50002);

  @Test
  void acrossPorts() {
    assertThat(MappingBehaviour.acrossPorts(X, new InetSocketAddress("198.51.100.7", 50000))).isEqualTo(ENDPOINT_INDEPENDENT);
    assertThat(MappingBehaviour.acrossPorts(X, Y)).isEqualTo(ADDRESS_AND_PORT_DEPENDENT);
  }

  @Test
  void rfc5780Tests() {
    assertThat(MappingBehaviour.rfc5780(X, X, null)).isEqualTo(ENDPOINT_INDEPENDENT);
    assertThat(MappingBehaviour.rfc5780(X, Y, Y)).isEqualTo(ADDRESS_DEPENDENT);
    assertThat(MappingBehaviour.rfc5780(X, Y, Z)).isEqualTo(ADDRESS_AND_PORT_DEPENDENT);
    assertThatThrownBy(() -> MappingBehaviour.rfc5780(X, Y, null)).isInstanceOf(NullPointerException.class);
  }
}
