package io.switchboard.protocol;

/** How much of a joined room's traffic a client wants: full messages or throttled unread summaries. */
public enum RoomMode {
  ACTIVE("active"),
  BACKGROUND("background");

  private final String wire;

  RoomMode(String wire) {
    this.wire = wire;
  }

  public String wire() {
    return wire;
  }

  static RoomMode fromWire(String value) {
    for (RoomMode mode : values()) {
      if (mode.wire.equals(value)) {
        return mode;
      }
    }
    return null;
  }
}
