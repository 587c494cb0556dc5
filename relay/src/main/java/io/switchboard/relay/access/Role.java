package io.switchboard.relay.access;

import java.util.Locale;

/** A user's role in a room: owners manage members, members read and send, readers only read. */
public enum Role {
  OWNER, MEMBER, READER;

  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** @throws IllegalArgumentException for anything but {@code owner}, {@code member} or {@code reader} */
  public static Role parse(String wire) {
    for (Role r : values()) {
      if (r.wire().equals(wire)) {
        return r;
      }
    }
    throw new IllegalArgumentException("role must be owner, member or reader");
  }
}
