package io.switchboard.protocol;

/** How much of a joined room's traffic a client wants: full messages or throttled unread summaries. */
public enum RoomMode implements WireNamed {
  ACTIVE("active"),
  BACKGROUND("background");

  private final String wire;

  RoomMode(String wire) {
    this.wire = wire;
  }

  @Override
  public String wire() {
    return wire;
  }

  static RoomMode fromWire(String value) {
    return WireNamed.fromWire(RoomMode.class, value);
  }
}
