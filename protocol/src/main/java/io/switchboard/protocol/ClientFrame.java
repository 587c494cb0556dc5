package io.switchboard.protocol;

import java.util.Map;

/**
 * Frames a client sends. {@code id} is the optional correlation id (a String or a Long) echoed in
 * the reply or error; null when absent.
 */
public sealed interface ClientFrame {
  Object id();

  /** First frame on a socket. {@code resume} maps room → last seq the client has seen. */
  record Hello(Object id, String token, Map<String, Long> resume) implements ClientFrame {
    public Hello {
      resume = resume == null ? Map.of() : Map.copyOf(resume);
    }
  }

  record Join(Object id, String room, RoomMode mode) implements ClientFrame {}

  record Leave(Object id, String room) implements ClientFrame {}

  /** Switches a joined room between full messages (active) and unread summaries (background). */
  record SetMode(Object id, String room, RoomMode mode) implements ClientFrame {}

  /**
   * {@code resend} is set by clients retransmitting from their outbox: the server then also looks
   * for the cid in storage, beyond its in-memory dedupe window.
   */
  record Send(Object id, String room, String cid, String body, boolean resend) implements ClientFrame {}

  /** {@code before} is exclusive; null means the newest page. */
  record History(Object id, String room, Long before, int limit) implements ClientFrame {}

  record Ping(Object id) implements ClientFrame {}
}
