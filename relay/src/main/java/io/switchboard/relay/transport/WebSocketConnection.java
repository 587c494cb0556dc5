package io.switchboard.relay.transport;

import io.switchboard.relay.session.Connection;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;

/** {@link Connection} over a Vert.x server WebSocket. Write failures mean the socket is closing: ignored. */
final class WebSocketConnection implements Connection {
  private static final Buffer EMPTY = Buffer.buffer();
  private final ServerWebSocket ws;

  WebSocketConnection(ServerWebSocket ws) {
    this.ws = ws;
  }

  @Override
  public boolean writeQueueFull() {
    return ws.writeQueueFull();
  }

  @Override
  public void write(String text) {
    ws.writeTextMessage(text);
  }

  @Override
  public void ping() {
    ws.writePing(EMPTY);
  }

  @Override
  public void close(short code, String reason) {
    ws.close(code, reason);
  }
}
