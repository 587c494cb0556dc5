package io.switchboard.relay.store;

/**
 * One chat message as persisted. {@code (room, seq)} is its identity; {@code (room, sender, cid)}
 * identifies a client's send, so a resend after a reconnect maps back to the first seq.
 * {@code senderName}: the sender's display name when it sent (null: none).
 */
public record StoredMessage(String room, long seq, String sender, String cid, String body, long createdAtMillis,
    String senderName) {
  public StoredMessage(String room, long seq, String sender, String cid, String body, long createdAtMillis) {
    this(room, seq, sender, cid, body, createdAtMillis, null);
  }
}
