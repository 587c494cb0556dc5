package io.switchboard.protocol;

/**
 * How traffic between two peers flows: a direct DataChannel ({@code p2p}), a DataChannel through a
 * TURN relay ({@code turn}), or the server's WebSocket relay ({@code relay}). Used both for the
 * server's steering decision and for the path a client reports it ended on.
 */
public enum PeerPath implements WireNamed {
  P2P("p2p"),
  TURN("turn"),
  RELAY("relay");

  private final String wire;

  PeerPath(String wire) {
    this.wire = wire;
  }

  @Override
  public String wire() {
    return wire;
  }

  static PeerPath fromWire(String value) {
    return WireNamed.fromWire(PeerPath.class, value);
  }
}
