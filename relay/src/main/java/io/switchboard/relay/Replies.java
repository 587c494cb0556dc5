package io.switchboard.relay;

import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.ProtocolException;
import io.switchboard.protocol.ServerFrame;
import io.switchboard.relay.config.RelayOptions;
import io.switchboard.relay.metrics.RelayMetrics;
import io.switchboard.relay.room.Member;
import io.switchboard.relay.session.Session;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** How refusals and failures reach a client: an {@code error} frame with a stable code, counted. */
final class Replies {
  private static final Logger LOG = LoggerFactory.getLogger(Replies.class);

  private final RelayOptions options;
  private final RelayMetrics metrics;
  private final LongSupplier nanoClock;

  Replies(RelayOptions options, RelayMetrics metrics, LongSupplier nanoClock) {
    this.options = options;
    this.metrics = metrics;
    this.nanoClock = nanoClock;
  }

  /** A refused frame, where the connection lives: its error, and a strike when it was the client's fault. */
  void reject(Session session, ProtocolException e) {
    metrics.error(e.code());
    session.send(ServerFrame.Error.of(e));
    if (!isClientFault(e.code())) {
      return;
    }
    long window = TimeUnit.MILLISECONDS.toNanos(options.getAbuseWindowMs());
    if (session.strike(nanoClock.getAsLong(), window)) {
      metrics.disconnect("abuse");
      session.close(Session.POLICY_VIOLATION, "too many errors");
    }
  }

  /** Only the client's own mistakes count towards the abuse limit, never the server's trouble. */
  private static boolean isClientFault(ErrorCode code) {
    return code != ErrorCode.STORAGE_UNAVAILABLE && code != ErrorCode.SHUTTING_DOWN && code != ErrorCode.INTERNAL
        && code != ErrorCode.SERVER_BUSY && code != ErrorCode.ROOM_UNAVAILABLE && code != ErrorCode.ROOM_MOVED
        && code != ErrorCode.AUTH_UNAVAILABLE;
  }

  /** A step failed: a refusal goes back as one, anything else is storage trouble. */
  void fail(Member member, Object id, Throwable cause) {
    if (member.isClosed()) {
      return;
    }
    if (cause instanceof ProtocolException pe) {
      member.refused(pe.withRef(id));
    } else {
      LOG.warn("storage read failed: {}", cause.toString());
      error(member, ErrorCode.STORAGE_UNAVAILABLE, "storage is unavailable; retry later", id, null);
    }
  }

  /**
   * A room could not be opened; {@code room_unavailable} and {@code room_moved} name the room, as
   * when a room is dropped.
   */
  void failOpen(Member member, Object id, String room, Throwable cause) {
    if (!member.isClosed() && cause instanceof ProtocolException pe
        && (pe.code() == ErrorCode.ROOM_UNAVAILABLE || pe.code() == ErrorCode.ROOM_MOVED)) {
      error(member, pe.code(), pe.getMessage(), id, room);
    } else {
      fail(member, id, cause);
    }
  }

  /** An error that is no strike (the server's state, or a refusal that names its room). */
  void error(Member member, ErrorCode code, String message, Object id, String room) {
    metrics.error(code);
    member.send(new ServerFrame.Error(code, message, id, room));
  }

  static ProtocolException forbidden(String room) {
    return new ProtocolException(ErrorCode.FORBIDDEN, "room '" + room + "' is private and you are not a member");
  }

  static ProtocolException notJoined(String room) {
    return new ProtocolException(ErrorCode.NOT_JOINED, "join room '" + room + "' first");
  }
}
