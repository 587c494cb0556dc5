package io.switchboard.protocol;

/**
 * The server's connectivity class for a peer, named as the NAT lab names its routers. {@code cone}
 * is endpoint-independent mapping with unknown filtering (what a browser can measure);
 * {@code unknown} means the peer reported too little to tell.
 */
public enum NatClass implements WireNamed {
  NONE("none"),
  FULL_CONE("full-cone"),
  RESTRICTED_CONE("restricted-cone"),
  PORT_RESTRICTED("port-restricted"),
  CONE("cone"),
  SYMMETRIC("symmetric"),
  UDP_BLOCKED("udp-blocked"),
  UNKNOWN("unknown");

  private final String wire;

  NatClass(String wire) {
    this.wire = wire;
  }

  @Override
  public String wire() {
    return wire;
  }

  public static NatClass fromWire(String value) {
    return WireNamed.fromWire(NatClass.class, value);
  }
}
