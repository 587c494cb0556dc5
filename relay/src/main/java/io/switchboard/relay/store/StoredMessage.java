package io.switchboard.relay.store;

/**
 * One chat message as persisted. {@code (room, seq)} is its identity; {@code (room, sender, cid)}
 * identifies a client's send, so a resend after a reconnect maps back to the first seq.
 */
public record StoredMessage(String room, long seq, String sender, String cid, String body, long createdAtMillis) {
}
