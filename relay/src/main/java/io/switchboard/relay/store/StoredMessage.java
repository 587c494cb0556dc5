package io.switchboard.relay.store;

import io.switchboard.protocol.ServerFrame.Reaction;
import java.util.List;

/**
 * One chat message as persisted. {@code (room, seq)} is its identity; {@code (room, sender, cid)}
 * identifies a client's send, so a resend after a reconnect maps back to the first seq.
 * {@code senderName}: the sender's display name when it sent (null: none). The rest is its mutable
 * state: {@code rev} of its last change (0: never), {@code editedAtMillis} (null: never edited),
 * {@code deleted} (then {@code body} is null) and its reactions.
 */
public record StoredMessage(String room, long seq, String sender, String cid, String body, long createdAtMillis,
    String senderName, long rev, Long editedAtMillis, boolean deleted, List<Reaction> reactions) {

  public StoredMessage {
    reactions = reactions == null ? List.of() : List.copyOf(reactions);
  }

  public StoredMessage(String room, long seq, String sender, String cid, String body, long createdAtMillis) {
    this(room, seq, sender, cid, body, createdAtMillis, null, 0, null, false, List.of());
  }

  public StoredMessage(String room, long seq, String sender, String cid, String body, long createdAtMillis,
      String senderName) {
    this(room, seq, sender, cid, body, createdAtMillis, senderName, 0, null, false, List.of());
  }

  public StoredMessage(String room, long seq, String sender, String cid, String body, long createdAtMillis,
      long rev, Long editedAtMillis, boolean deleted, List<Reaction> reactions) {
    this(room, seq, sender, cid, body, createdAtMillis, null, rev, editedAtMillis, deleted, reactions);
  }

  public StoredMessage withReactions(List<Reaction> reactions) {
    return new StoredMessage(room, seq, sender, cid, body, createdAtMillis, senderName, rev, editedAtMillis, deleted,
        reactions);
  }
}
