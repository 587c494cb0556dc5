package io.switchboard.relay.access;

/**
 * What one user may do in one room. {@code role} is null for a user the room does not list: in a
 * public room such a user reads and sends, in a private room nothing. {@code encrypted}: the room
 * takes only sealed bodies ({@link SealedBody}).
 */
public record Access(Visibility visibility, Role role, boolean encrypted) {
  /** A room that is not encrypted. */
  public Access(Visibility visibility, Role role) {
    this(visibility, role, false);
  }

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
