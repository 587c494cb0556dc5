package io.switchboard.protocol;

/** Stable error codes sent in {@code error} frames. Clients switch on {@link #wire()}, never on messages. */
public enum ErrorCode {
  BAD_REQUEST("bad_request"),
  TOO_LARGE("too_large"),
  UNKNOWN_TYPE("unknown_type"),
  NOT_JOINED("not_joined"),
  NOT_IN_ROOM("not_in_room"),
  TOO_MANY_ROOMS("too_many_rooms"),
  RATE_LIMITED("rate_limited"),
  STORAGE_UNAVAILABLE("storage_unavailable"),
  UNAUTHORIZED("unauthorized"),
  /** Authenticated, but the user's role does not allow it (a private room, a reader sending). */
  FORBIDDEN("forbidden"),
  /** The connection's token expired without an {@code auth} refresh; the socket closes shortly. */
  TOKEN_EXPIRED("token_expired"),
  /** The relay could not check the token (its JWKS is unreachable); keep the token and retry later. */
  AUTH_UNAVAILABLE("auth_unavailable"),
  NOT_FOUND("not_found"),
  SHUTTING_DOWN("shutting_down"),
  SERVER_BUSY("server_busy"),
  OVERLOADED("overloaded"),
  ROOM_UNAVAILABLE("room_unavailable"),
  /**
   * Within a cluster the room's sequencer moved to another relay (a relay joined, drained or died):
   * the membership ended (unsolicited, with {@code room}) or the frame had no effect; join again at
   * once on the same connection, which reaches the room wherever it lives now.
   */
  ROOM_MOVED("room_moved"),
  /** The room is encrypted and a body was not sealed ({@code e1.<keyId>.<payload>}): nothing of the frame happened. */
  ENCRYPTION_REQUIRED("encryption_required"),
  INTERNAL("internal");

  private final String wire;

  ErrorCode(String wire) {
    this.wire = wire;
  }

  public String wire() {
    return wire;
  }
}
