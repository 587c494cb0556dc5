package io.switchboard.relay.transport;

import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtensionData;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketServerExtension;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketServerExtensionHandler;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketServerExtensionHandshaker;
import io.netty.handler.codec.http.websocketx.extensions.compression.PerMessageDeflateServerExtensionHandshaker;
import java.util.HashMap;
import java.util.Map;

/**
 * permessage-deflate with {@code server_no_context_takeover} and {@code client_no_context_takeover}
 * answered to every offer, browsers' included. Netty grants either only when the client asks for it,
 * and browsers never do (Chromium offers {@code permessage-deflate; client_max_window_bits}), so
 * Vert.x's {@code setWebSocketAllowServerNoContext}/{@code setWebSocketPreferredClientNoContext}
 * change nothing for them. RFC 7692 §7.1.1 lets a server answer both unasked. Without context
 * takeover Netty ends each direction's zlib stream after every message and frees it, so an idle or
 * quiet connection holds no deflater (~256 KB in zlib's defaults) and no inflater (~40 KB).
 */
final class NoContextDeflate implements WebSocketServerExtensionHandshaker {
  /** The name Vert.x 5.0.8 gives its extension handler in every HTTP/1.1 connection's pipeline. */
  static final String VERTX_EXTENSION_HANDLER = "webSocketExtensionHandler";
  private static final String SERVER_NO_CONTEXT = "server_no_context_takeover";
  private static final String CLIENT_NO_CONTEXT = "client_no_context_takeover";

  private final PerMessageDeflateServerExtensionHandshaker delegate;

  NoContextDeflate(int compressionLevel) {
    this.delegate = new PerMessageDeflateServerExtensionHandshaker(compressionLevel, true,
        PerMessageDeflateServerExtensionHandshaker.MAX_WINDOW_SIZE, true, true);
  }

  @Override
  public WebSocketServerExtension handshakeExtension(WebSocketExtensionData offer) {
    Map<String, String> params = new HashMap<>(offer.parameters());
    params.putIfAbsent(SERVER_NO_CONTEXT, null);
    params.putIfAbsent(CLIENT_NO_CONTEXT, null);
    return delegate.handshakeExtension(new WebSocketExtensionData(offer.name(), params));
  }

  /**
   * Puts this handshaker in place of Vert.x's in a new connection's pipeline (before any request is
   * read). Fails loudly if Vert.x no longer names its handler so: a silent fallback would measure
   * and ship context takeover under this setting's name.
   */
  static void install(ChannelPipeline pipeline, int compressionLevel) {
    if (pipeline.get(VERTX_EXTENSION_HANDLER) == null) {
      throw new IllegalStateException("no '" + VERTX_EXTENSION_HANDLER + "' in the pipeline: " + pipeline.names());
    }
    pipeline.replace(VERTX_EXTENSION_HANDLER, VERTX_EXTENSION_HANDLER,
        new WebSocketServerExtensionHandler(new NoContextDeflate(compressionLevel)));
  }
}
