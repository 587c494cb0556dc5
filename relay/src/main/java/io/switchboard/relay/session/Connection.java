package io.switchboard.relay.session;

/** The socket under a session; {@code WebSocketConnection} adapts a Vert.x ServerWebSocket. */
public interface Connection {
  /** True while the socket's own write buffer is past its high-water mark. */
  boolean writeQueueFull();

  void write(String text);

  /** Sends a WebSocket ping control frame; browsers answer with a pong automatically. */
  void ping();

  void close(short code, String reason);
}
