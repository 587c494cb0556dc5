package io.switchboard.protocol;

/** RFC 4787 mapping and filtering behaviours, as a client observed them (RFC 5780 discovery). */
public enum NatBehaviour implements WireNamed {
  ENDPOINT_INDEPENDENT("endpoint-independent"),
  ADDRESS_DEPENDENT("address-dependent"),
  ADDRESS_AND_PORT_DEPENDENT("address-and-port-dependent"),
  UNKNOWN("unknown");

  private final String wire;

  NatBehaviour(String wire) {
    this.wire = wire;
  }

  @Override
  public String wire() {
    return wire;
  }

  static NatBehaviour fromWire(String value) {
    return WireNamed.fromWire(NatBehaviour.class, value);
  }
}
