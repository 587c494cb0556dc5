package io.switchboard.signaling.stun;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * A NAT's mapping behaviour (RFC 4787 §4.1, discovered as in RFC 5780 §4.3): does the public
 * address a peer is seen with depend on where it sends to? Only with
 * {@link #ENDPOINT_INDEPENDENT} can a peer hand out the address a STUN server saw and expect
 * another peer to reach it ("full/restricted cone"; the others are what people call symmetric).
 */
public enum MappingBehaviour {

  ENDPOINT_INDEPENDENT,
  ADDRESS_DEPENDENT,
  ADDRESS_AND_PORT_DEPENDENT;

  /**
   * From a single-address server: the mapped addresses one local socket got from the server's
   * port and from its alt port. A NAT whose mapping changes with the destination port is
   * address-and-port-dependent; an address-dependent NAT keeps the mapping for one server
   * address, so it is reported as endpoint-independent: telling those apart needs two addresses.
   */
  public static MappingBehaviour acrossPorts(InetSocketAddress viaPort, InetSocketAddress viaAltPort) {
    Objects.requireNonNull(viaPort, "viaPort");
    Objects.requireNonNull(viaAltPort, "viaAltPort");
    return viaPort.equals(viaAltPort) ? ENDPOINT_INDEPENDENT : ADDRESS_AND_PORT_DEPENDENT;
  }

  /**
   * RFC 5780 §4.3: mapped addresses from test I (A1:P1), test II (A2:P1) and test III (A2:P2).
   * {@code test3} is only read when test II differs from test I, and may then not be null.
   */
  public static MappingBehaviour rfc5780(InetSocketAddress test1, InetSocketAddress test2, InetSocketAddress test3) {
    Objects.requireNonNull(test1, "test1");
    Objects.requireNonNull(test2, "test2");
    if (test1.equals(test2)) {
      return ENDPOINT_INDEPENDENT;
    }
    Objects.requireNonNull(test3, "test3 is needed when test II's mapping differs from test I's");
    return test2.equals(test3) ? ADDRESS_DEPENDENT : ADDRESS_AND_PORT_DEPENDENT;
  }
}
