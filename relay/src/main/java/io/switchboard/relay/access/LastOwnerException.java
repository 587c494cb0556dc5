package io.switchboard.relay.access;

/** A change refused because it would leave a room that has owners with none (the owners' own frames). */
public final class LastOwnerException extends IllegalStateException {
  public LastOwnerException(String room) {
    super("'" + room + "' would have no owner left; make another user owner first");
  }
}
