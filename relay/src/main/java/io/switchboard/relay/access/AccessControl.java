package io.switchboard.relay.access;

import io.vertx.core.Future;
import java.util.List;
import java.util.function.Consumer;

/**
 * Rooms' visibility and members' roles: stored in Postgres, cached on the relay so that a join
 * costs no query once warm. Every change goes through here and is announced to the listeners after
 * it commits, so connected users lose what they may no longer do at once. The seam where a
 * cluster's invalidation plugs in.
 */
public interface AccessControl {
  /** What {@code user} may do in {@code room}; a room nobody created has the default visibility. */
  Future<Access> access(String room, String user);

  /** Creates the room or changes its visibility. */
  Future<Void> setVisibility(String room, Visibility visibility);

  /** Switches the room to end-to-end encrypted (for good), creating it with the default visibility if needed. */
  Future<Void> setEncrypted(String room);

  /** Lists {@code user} in {@code room} with {@code role}, creating the room with the default visibility if needed. */
  default Future<Void> setRole(String room, String user, Role role) {
    return setRole(room, user, role, false);
  }

  /**
   * Like {@link #setRole(String, String, Role)}; with {@code keepAnOwner} (an owner's own frames) a
   * change that demotes the room's only owner fails with {@link LastOwnerException}.
   */
  Future<Void> setRole(String room, String user, Role role, boolean keepAnOwner);

  /** @return false when the user was not listed */
  default Future<Boolean> removeMember(String room, String user) {
    return removeMember(room, user, false);
  }

  /** Like {@link #removeMember(String, String)}; with {@code keepAnOwner}, removing the only owner fails with {@link LastOwnerException}. */
  Future<Boolean> removeMember(String room, String user, boolean keepAnOwner);

  /** The room's visibility and listed users (owners first, then by user id). */
  Future<RoomMembers> members(String room);

  /** Called on the relay's event loop after each change commits. */
  void onChange(Consumer<AccessChange> listener);

  /** A room's visibility and its listed users; {@code created} is false for a room nobody created. */
  record RoomMembers(String room, Visibility visibility, boolean created, List<Member> members, boolean encrypted) {
    public RoomMembers {
      members = List.copyOf(members);
    }

    public RoomMembers(String room, Visibility visibility, boolean created, List<Member> members) {
      this(room, visibility, created, members, false);
    }
  }

  /** A change committed on another relay of the cluster: forget what is cached about the room. */
  default void changedElsewhere(String room) {
  }
}
