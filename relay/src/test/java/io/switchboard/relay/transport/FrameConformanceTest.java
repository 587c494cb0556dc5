package io.switchboard.relay.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtensionData;
import io.netty.handler.codec.http.websocketx.extensions.compression.PerMessageDeflateClientExtensionHandshaker;
import io.netty.handler.codec.http.websocketx.extensions.compression.PerMessageDeflateServerExtensionHandshaker;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The checks on a Netty pipeline alone: frames in, what reaches the Vert.x handler's place out. */
class FrameConformanceTest {
  private static final int LIMIT = 100;

  private final List<String> delivered = new ArrayList<>();

  @Test
  void wholeAndFragmentedTextPass() {
    EmbeddedChannel ch = channel(false);
    ch.writeInbound(new TextWebSocketFrame("{\"t\":\"ping\"}"));
    byte[] euro = "€".getBytes(StandardCharsets.UTF_8);
    ch.writeInbound(new TextWebSocketFrame(false, 0, buf(new byte[] {'a', euro[0]})));
    ch.writeInbound(new ContinuationWebSocketFrame(true, 0, buf(new byte[] {euro[1], euro[2]})));

    assertThat(delivered).containsExactly("{\"t\":\"ping\"}", "a€");
  }

  @Test
  void rsv1WithoutAnExtensionIs1002() {
    EmbeddedChannel ch = channel(false);
    assertThatThrownBy(() -> ch.writeInbound(new TextWebSocketFrame(true, 4, "x")))
        .isInstanceOfSatisfying(CorruptedWebSocketFrameException.class,
            e -> assertThat(e.closeStatus().code()).isEqualTo(1002));
    assertThat(delivered).isEmpty();
  }

  @Test
  void badUtf8Is1007() {
    EmbeddedChannel ch = channel(false);
    assertThatThrownBy(() -> ch.writeInbound(new TextWebSocketFrame(true, 0, buf(new byte[] {(byte) 0xC0, (byte) 0xAF}))))
        .isInstanceOfSatisfying(CorruptedWebSocketFrameException.class,
            e -> assertThat(e.closeStatus().code()).isEqualTo(1007));
    assertThat(delivered).isEmpty();
  }

  @Test
  void fragmentsPastTheLimitAreTooLongAndTheRestDropped() {
    EmbeddedChannel ch = channel(false);
    ch.writeInbound(new TextWebSocketFrame(false, 0, "x".repeat(60)));
    assertThatThrownBy(() -> ch.writeInbound(new ContinuationWebSocketFrame(false, 0, "y".repeat(60))))
        .isInstanceOf(TooLongFrameException.class);
    ch.writeInbound(new ContinuationWebSocketFrame(true, 0, "z"));
    assertThat(delivered).as("nothing of that message reaches Vert.x").isEmpty();
  }

  /** With permessage-deflate in the pipeline (as negotiated), RSV1 is its bit: compressed frames pass. */
  @Test
  void compressedFramesPassAfterTheDeflateDecoder() {
    String text = "{\"t\":\"ping\",\"pad\":\"" + "a".repeat(60) + "\"}";
    EmbeddedChannel compressor = new EmbeddedChannel(new PerMessageDeflateClientExtensionHandshaker()
        .handshakeExtension(new WebSocketExtensionData("permessage-deflate", Map.of())).newExtensionEncoder());
    compressor.writeOutbound(new TextWebSocketFrame(text));
    WebSocketFrame compressed = compressor.readOutbound();
    assertThat(compressed.rsv()).as("RSV1").isEqualTo(4);

    channel(true).writeInbound(compressed);

    assertThat(delivered).containsExactly(text);
  }

  /** Frames as Netty's decoder hands them on; a stand-in for Vert.x's handler records what arrives. */
  private EmbeddedChannel channel(boolean deflate) {
    EmbeddedChannel ch = new EmbeddedChannel();
    if (deflate) {
      ch.pipeline().addLast("deflate", new PerMessageDeflateServerExtensionHandshaker()
          .handshakeExtension(new WebSocketExtensionData("permessage-deflate", Map.of())).newExtensionDecoder());
    }
    ch.pipeline().addLast(FrameConformance.VERTX_HANDLER, new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        WebSocketFrame frame = (WebSocketFrame) msg;
        delivered.add(frame.content().toString(StandardCharsets.UTF_8));
        frame.release();
      }
    });
    FrameConformance.install(ch.pipeline(), LIMIT);
    return ch;
  }

  private static ByteBuf buf(byte[] bytes) {
    return Unpooled.wrappedBuffer(bytes);
  }
}
