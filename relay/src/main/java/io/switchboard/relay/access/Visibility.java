package io.switchboard.relay.access;

import java.util.Locale;

/** Who may use a room: any authenticated user ({@code public}) or its members only ({@code private}). */
public enum Visibility {
  PUBLIC, PRIVATE;

  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** @throws IllegalArgumentException for anything but {@code public} or {@code private} */
  public static Visibility parse(String wire) {
    for (Visibility v : values()) {
      if (v.wire().equals(wire)) {
        return v;
      }
    }
    throw new IllegalArgumentException("visibility must be public or private");
  }
}
