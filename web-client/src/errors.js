/**
 * The one error type the SDK throws or rejects with. `code` is stable: the server's error codes
 * (docs/protocol.md#errors) plus a few of the SDK's own, listed in {@link ErrorCode}.
 */
export class SwitchboardError extends Error {
  /**
   * @param {string} code stable code, e.g. 'not_joined'
   * @param {string} [message] for humans
   * @param {{ref?: string|number, cause?: unknown}} [extra]
   */
  constructor(code, message = code, { ref, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'SwitchboardError';
    this.code = code;
    if (ref !== undefined) this.ref = ref;
  }

  /** An `error` frame from the server. */
  static fromFrame(frame) {
    return new SwitchboardError(frame.code, frame.message ?? frame.code, { ref: frame.ref });
  }
}

/** Codes the SDK raises itself, next to the server's (bad_request, not_joined, …). */
export const ErrorCode = Object.freeze({
  /** The request could not complete because the client was closed. */
  CLOSED: 'closed',
  /** No answer to a request within `requestTimeoutMs`. */
  TIMEOUT: 'timeout',
  /** The server closed the socket with 1008/1009: the SDK stops reconnecting until `reconnect()`. */
  POLICY: 'policy_violation',
  /** The breaker opened after repeated failed connects (state 'suspended'). */
  UNAVAILABLE: 'unavailable',
  /** A frame from the server that the SDK could not decode (ignored, reported once per frame). */
  BAD_FRAME: 'bad_frame',
  /** The app's token function threw (or returned something else than a string): retried with backoff. */
  TOKEN_UNAVAILABLE: 'token_unavailable',
  /** An edit, delete or reaction asked for while the room is not reachable: refused at once, not queued. */
  OFFLINE: 'offline',
});
