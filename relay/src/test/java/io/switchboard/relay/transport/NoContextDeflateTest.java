package io.switchboard.relay.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtensionData;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketServerExtension;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketServerExtensionHandler;
import io.netty.handler.codec.http.websocketx.extensions.compression.PerMessageDeflateServerExtensionHandshaker;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NoContextDeflateTest {
  /** Chromium's offer: {@code permessage-deflate; client_max_window_bits}. */
  private static WebSocketExtensionData chromiumOffer() {
    Map<String, String> params = new HashMap<>();
    params.put("client_max_window_bits", null);
    return new WebSocketExtensionData("permessage-deflate", params);
  }

  @Test
  void nettyAloneGrantsNoContextOnlyWhenAsked() {
    // why NoContextDeflate exists: with both Vert.x switches on, a browser's offer keeps context
    WebSocketServerExtension plain = new PerMessageDeflateServerExtensionHandshaker(6, true, 15, true, true)
        .handshakeExtension(chromiumOffer());
    assertThat(plain.newReponseData().parameters()).doesNotContainKeys(
        "server_no_context_takeover", "client_no_context_takeover");
  }

  @Test
  void aBrowsersOfferIsAnsweredWithoutContextTakeoverBothWays() {
    WebSocketServerExtension ext = new NoContextDeflate(6).handshakeExtension(chromiumOffer());
    assertThat(ext).isNotNull();
    assertThat(ext.newReponseData().name()).isEqualTo("permessage-deflate");
    assertThat(ext.newReponseData().parameters()).containsKeys("server_no_context_takeover", "client_no_context_takeover")
        .doesNotContainKey("server_max_window_bits");
  }

  @Test
  void otherExtensionsAndUnknownParametersAreStillDeclined() {
    assertThat(new NoContextDeflate(6).handshakeExtension(new WebSocketExtensionData("x-webkit-deflate-frame", Map.of())))
        .isNull();
    assertThat(new NoContextDeflate(6).handshakeExtension(
        new WebSocketExtensionData("permessage-deflate", Map.of("server_max_window_bits", "99")))).isNull();
  }

  @Test
  void installReplacesVertxsHandlerAndFailsLoudlyWithoutIt() {
    EmbeddedChannel ch = new EmbeddedChannel();
    ch.pipeline().addLast(NoContextDeflate.VERTX_EXTENSION_HANDLER,
        new WebSocketServerExtensionHandler(new PerMessageDeflateServerExtensionHandshaker()));
    var before = ch.pipeline().get(NoContextDeflate.VERTX_EXTENSION_HANDLER);
    NoContextDeflate.install(ch.pipeline(), 6);
    assertThat(ch.pipeline().get(NoContextDeflate.VERTX_EXTENSION_HANDLER)).isNotNull().isNotSameAs(before);

    assertThatThrownBy(() -> NoContextDeflate.install(new EmbeddedChannel().pipeline(), 6))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining(NoContextDeflate.VERTX_EXTENSION_HANDLER);
  }
}
