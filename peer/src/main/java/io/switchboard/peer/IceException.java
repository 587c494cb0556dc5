package io.switchboard.peer;

/** Why an {@link IcePeer} operation failed; {@link #reason()} is stable, the message is for people. */
public final class IceException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** The failure classes a caller may want to tell apart. */
  public enum Reason {
    /** Binding sockets or talking to STUN/TURN servers failed while gathering. */
    GATHERING_FAILED,
    /** Gathering produced no candidate this peer may offer (in relay-only mode: no TURN allocation). */
    NO_LOCAL_CANDIDATES,
    /** The remote description holds no candidate this peer may use. */
    NO_REMOTE_CANDIDATES,
    /** ice4j tried every candidate pair and all failed. */
    ICE_FAILED,
    /** ICE did not complete within {@link IcePeerOptions#getConnectTimeoutMs()}. */
    TIMEOUT,
    /** The peer was closed. */
    CLOSED,
    /** Sending or measuring before ICE completed. */
    NOT_CONNECTED,
    /** An RTT probe got no answer after its retransmissions. */
    RTT_TIMEOUT
  }

  private final Reason reason;

  IceException(Reason reason, String message) {
    this(reason, message, null);
  }

  IceException(Reason reason, String message, Throwable cause) {
    super(reason + ": " + message, cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
