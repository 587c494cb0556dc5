package io.switchboard.relay.session;

/** The socket under a session; {@code WebSocketConnection} adapts a Vert.x ServerWebSocket. */
public interface Connection {
  /** True while the socket's own write buffer is past its high-water mark. */
  boolean writeQueueFull();

  /** Bytes already handed to the socket and not yet taken by the kernel (Netty's outbound buffer). */
  long pendingBytes();

  void write(String text);

  /** Sends a WebSocket ping control frame; browsers answer with a pong automatically. */
  void ping();

  void close(short code, String reason);
}
