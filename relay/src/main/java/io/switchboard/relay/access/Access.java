package io.switchboard.relay.access;

/**
 * What one user may do in one room. {@code role} is null for a user the room does not list: in a
 * public room such a user reads and sends, in a private room nothing.
 */
public record Access(Visibility visibility, Role role) {
  public boolean canRead() {
    return visibility == Visibility.PUBLIC || role != null;
  }

  public boolean canSend() {
    return canRead() && role != Role.READER;
  }

  public boolean canManage() {
    return role == Role.OWNER;
  }
}
