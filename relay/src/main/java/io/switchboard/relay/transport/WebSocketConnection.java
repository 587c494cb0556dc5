package io.switchboard.relay.transport;

import io.switchboard.relay.session.Connection;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;

/**
 * {@link Connection} over a Vert.x server WebSocket. A socket can be closed before its close
 * handler has run (many sockets closing at once): Vert.x then throws from writeQueueFull, so a
 * closed socket is treated as gone — never full, writes dropped — until that handler cleans up.
 */
final class WebSocketConnection implements Connection {
  private static final Buffer EMPTY = Buffer.buffer();
  private final ServerWebSocket ws;

  WebSocketConnection(ServerWebSocket ws) {
    this.ws = ws;
  }

  @Override
  public boolean writeQueueFull() {
    return !ws.isClosed() && ws.writeQueueFull();
  }

  @Override
  public void write(String text) {
    if (!ws.isClosed()) {
      ws.writeTextMessage(text);
    }
  }

  @Override
  public void ping() {
    if (!ws.isClosed()) {
      ws.writePing(EMPTY);
    }
  }

  @Override
  public void close(short code, String reason) {
    ws.close(code, reason);
  }
}
