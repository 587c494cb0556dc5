package io.switchboard.relay.transport;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.switchboard.relay.session.Connection;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.http.impl.ws.WebSocketFrameImpl;
import io.vertx.core.internal.http.WebSocketInternal;

/**
 * {@link Connection} over a Vert.x server WebSocket. A socket can be closed before its close
 * handler has run (many sockets closing at once): Vert.x then throws from writeQueueFull, so a
 * closed socket is treated as gone — never full, writes dropped — until that handler cleans up.
 */
final class WebSocketConnection implements Connection {
  /**
   * How long a closed socket may keep its TCP connection. Vert.x starts its closing timeout only
   * once the close frame is flushed, which never happens when the peer stops reading: the socket
   * and everything Netty holds for it would stay until the kernel gives up (minutes). Past this,
   * the connection is reset. Longer than the 1 s closing timeout, so a peer that reads gets the
   * normal close handshake. (Vert.x 5.0.8 then logs one "promise already done" warning from its
   * own closing timeout, armed by the failed close-frame write after the connection was gone.)
   */
  static final long FORCE_CLOSE_MS = 1_500;
  private static final Buffer EMPTY = Buffer.buffer();
  private final ServerWebSocket ws;
  private final ChannelHandlerContext handler;
  private final Channel channel;
  private final Context context;
  private final LastEncoded encoded;
  private final int maxFrameBytes;
  private Runnable onClosing = () -> { };

  /**
   * {@code encoded} is shared by the connections a fan-out writes to; {@code maxFrameBytes} is the
   * server's {@code maxWebSocketFrameSize}: a longer text goes through Vert.x, which fragments it.
   */
  WebSocketConnection(ServerWebSocket ws, Context context, LastEncoded encoded, int maxFrameBytes) {
    this.ws = ws;
    this.encoded = encoded;
    this.maxFrameBytes = maxFrameBytes;
    this.handler = ((WebSocketInternal) ws).channelHandlerContext();
    this.channel = handler.channel();
    this.context = context;
  }

  /**
   * Runs on the event-loop turn after {@link #close}: the session is let go at once, not when the
   * peer finally lets the socket go.
   */
  void onClosing(Runnable onClosing) {
    this.onClosing = onClosing;
  }

  @Override
  public boolean writeQueueFull() {
    return !ws.isClosed() && ws.writeQueueFull();
  }

  @Override
  public long pendingBytes() {
    // Netty's exact count (after compression) of bytes written and not yet taken by the kernel. Read
    // only: no public Channel method gives the number, only the distance to a watermark.
    ChannelOutboundBuffer buffer = channel.unsafe().outboundBuffer(); // null once closed
    return buffer == null ? 0 : buffer.totalPendingWriteBytes();
  }

  @Override
  public void write(String text) {
    if (ws.isClosed()) {
      return;
    }
    byte[] utf8 = encoded.utf8(text);
    if (utf8.length <= maxFrameBytes) {
      // What writeTextMessage does after its own getBytes; each frame wraps the shared array in its
      // own buffer (Netty only reads it, compressed or not).
      ws.writeFrame(new WebSocketFrameImpl(WebSocketFrameType.TEXT, utf8, true));
    } else {
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
    // Not synchronously: close() is called from inside fan-out loops over a room's members.
    context.runOnContext(v -> onClosing.run());
    context.owner().setTimer(FORCE_CLOSE_MS, id -> {
      if (channel.isOpen()) {
        // A reset, not a FIN queued behind data the peer will never read: the kernel frees the
        // socket's buffers now too.
        channel.config().setOption(ChannelOption.SO_LINGER, 0);
        // From Vert.x's own handler context, so the close goes past it: through the channel, Vert.x
        // would first wait to flush, which is what never happens here.
        handler.close();
      }
    });
  }
}
