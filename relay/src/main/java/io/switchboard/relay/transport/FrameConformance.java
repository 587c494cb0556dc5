package io.switchboard.relay.transport;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.Utf8FrameValidator;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;

/**
 * RFC 6455 checks that Vert.x 5.0.8 leaves out, as Netty handlers between the frame decoder (and
 * the permessage-deflate decoder, when negotiated) and Vert.x's own handler. Vert.x builds Netty's
 * frame decoder with extensions allowed whenever compression is supported, decodes text with
 * replacement characters, and reports an over-long fragmented message only as an untyped exception
 * while dropping it. Each check here ends in an exception that {@link WebSocketTransport} turns
 * into a close code:
 * <ul>
 *   <li>a reserved bit still set after the extension decoders (RSV1 without permessage-deflate,
 *       RSV2/RSV3 always): 1002 (RFC 6455 §5.2);</li>
 *   <li>a text message that is not valid UTF-8 (Netty's validator, across fragments): 1007
 *       (§8.1);</li>
 *   <li>fragments adding up past {@code maxMessageBytes} (Netty's aggregator, which then discards
 *       the rest of that message): {@code TooLongFrameException}, closed with 1009.</li>
 * </ul>
 */
final class FrameConformance {
  /** Vert.x's own handler in a WebSocket channel's pipeline; ours go just before it. */
  static final String VERTX_HANDLER = "handler";
  private static final ReservedBitsCheck RESERVED_BITS = new ReservedBitsCheck();

  private FrameConformance() {
  }

  /** Call on the channel's event loop, once the handshake is done (extension decoders are in place). */
  static void install(ChannelPipeline pipeline, int maxMessageBytes) {
    // ~300 bytes of heap per connection in all (three handler contexts, the validator, the aggregator)
    pipeline.addBefore(VERTX_HANDLER, "switchboard-rsv", RESERVED_BITS);
    // closeOnProtocolViolation=false: the session closes with the exception's status, like every other close
    pipeline.addBefore(VERTX_HANDLER, "switchboard-utf8", new Utf8FrameValidator(false));
    pipeline.addBefore(VERTX_HANDLER, "switchboard-aggregator", new WebSocketFrameAggregator(maxMessageBytes));
  }

  /** Extension decoders clear the bits they own; any bit left is one nobody negotiated. */
  @ChannelHandler.Sharable
  static final class ReservedBitsCheck extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof WebSocketFrame frame && frame.rsv() != 0) {
        int rsv = frame.rsv();
        frame.release();
        throw new CorruptedWebSocketFrameException(WebSocketCloseStatus.PROTOCOL_ERROR,
            "reserved bits " + rsv + " set without a negotiated extension");
      }
      ctx.fireChannelRead(msg);
    }
  }
}
