package io.switchboard.protocol;

import java.util.List;

/** Frames the server sends. {@link #priority()} decides their place in a connection's outbound queue. */
public sealed interface ServerFrame {

  /** Outbound classes, most urgent first. Messages of one room always share a class, so stay ordered. */
  enum Priority { CONTROL, LIVE, BULK }

  default Priority priority() {
    return Priority.CONTROL;
  }

  /** The limits a client must respect on this connection. */
  record ClientLimits(int maxFrameBytes, int maxBodyBytes, int maxRooms, int maxHistoryLimit) {}

  record Welcome(Object id, String session, String user, String token, long heartbeatMs, ClientLimits limits)
      implements ServerFrame {}

  /**
   * Reply to {@code join}, and one per room resumed by {@code hello}. {@code recovered} is only set
   * for resumed rooms: true when every missed message follows, false when the client must page
   * history for messages older than {@code replayFrom}.
   */
  record Joined(Object id, String room, long head, RoomMode mode, List<String> members, Boolean recovered,
      Long replayFrom) implements ServerFrame {
    public Joined {
      members = List.copyOf(members);
    }
  }

  record Left(Object id, String room) implements ServerFrame {}

  record ModeSet(Object id, String room, RoomMode mode, long head) implements ServerFrame {}

  /** One chat message as stored: room-scoped gap-free {@code seq}, sender's {@code cid}, server time. */
  record Message(String room, long seq, String cid, String from, String body, long ts) {}

  record Msg(Message message) implements ServerFrame {
    @Override
    public Priority priority() {
      return Priority.LIVE;
    }
  }

  record Ack(Object id, String room, String cid, long seq, boolean stored) implements ServerFrame {}

  /** Throttled summary for a background room: messages since it went to the background. */
  record Unread(String room, long count, long lastSeq, String preview) implements ServerFrame {
    @Override
    public Priority priority() {
      return Priority.LIVE;
    }
  }

  /** A history page in ascending seq order; {@code hasMore} when older messages exist. */
  record Page(Object id, String room, List<Message> messages, boolean hasMore) implements ServerFrame {
    public Page {
      messages = List.copyOf(messages);
    }

    @Override
    public Priority priority() {
      return Priority.BULK;
    }
  }

  record Error(ErrorCode code, String message, Object ref) implements ServerFrame {
    public static Error of(ProtocolException e) {
      return new Error(e.code(), e.getMessage(), e.ref());
    }
  }

  record Pong(Object id, long ts) implements ServerFrame {}
}
