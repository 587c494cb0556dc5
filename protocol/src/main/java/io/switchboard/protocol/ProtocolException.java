package io.switchboard.protocol;

/**
 * A client frame that must be answered with an {@code error} frame. {@code ref} is the offending
 * frame's {@code id} when it could be read, so the client can match the error to its request.
 */
public final class ProtocolException extends RuntimeException {
  private final ErrorCode code;
  private final transient Object ref;

  public ProtocolException(ErrorCode code, String message, Object ref) {
    super(message, null, false, false);
    this.code = code;
    this.ref = ref;
  }

  public ProtocolException(ErrorCode code, String message) {
    this(code, message, null);
  }

  public ErrorCode code() {
    return code;
  }

  public Object ref() {
    return ref;
  }

  public ProtocolException withRef(Object id) {
    return id == null || ref != null ? this : new ProtocolException(code, getMessage(), id);
  }
}
