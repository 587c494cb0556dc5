package io.switchboard.protocol;

/** RFC 4787 mapping and filtering behaviours, as a client observed them (RFC 5780 discovery). */
public enum NatBehaviour {
  ENDPOINT_INDEPENDENT("endpoint-independent"),
  ADDRESS_DEPENDENT("address-dependent"),
  ADDRESS_AND_PORT_DEPENDENT("address-and-port-dependent"),
  UNKNOWN("unknown");

  private final String wire;

  NatBehaviour(String wire) {
    this.wire = wire;
  }

  public String wire() {
    return wire;
  }

  static NatBehaviour fromWire(String value) {
    for (NatBehaviour b : values()) {
      if (b.wire.equals(value)) {
        return b;
      }
    }
    return null;
  }
}
