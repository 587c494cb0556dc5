package io.switchboard.relay.store;

import io.switchboard.protocol.ServerFrame.Reaction;
import java.util.List;

/**
 * One chat message as persisted. {@code (room, seq)} is its identity; {@code (room, sender, cid)}
 * identifies a client's send, so a resend after a reconnect maps back to the first seq. The rest is
 * its mutable state: {@code rev} of its last change (0: never), {@code editedAtMillis} (null: never
 * edited), {@code deleted} (then {@code body} is null) and its reactions.
 */
public record StoredMessage(String room, long seq, String sender, String cid, String body, long createdAtMillis,
    long rev, Long editedAtMillis, boolean deleted, List<Reaction> reactions) {

  public StoredMessage {
    reactions = reactions == null ? List.of() : List.copyOf(reactions);
  }

  public StoredMessage(String room, long seq, String sender, String cid, String body, long createdAtMillis) {
    this(room, seq, sender, cid, body, createdAtMillis, 0, null, false, List.of());
  }

  public StoredMessage withReactions(List<Reaction> reactions) {
    return new StoredMessage(room, seq, sender, cid, body, createdAtMillis, rev, editedAtMillis, deleted, reactions);
  }
}
