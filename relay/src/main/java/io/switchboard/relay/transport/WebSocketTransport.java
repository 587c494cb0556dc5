package io.switchboard.relay.transport;

import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.switchboard.protocol.ErrorCode;
import io.switchboard.relay.RelayEngine;
import io.switchboard.relay.limits.AddressLimits;
import io.switchboard.relay.config.RelayOptions;
import io.switchboard.relay.session.OutboundQueue;
import io.switchboard.relay.session.Session;
import io.switchboard.signaling.limit.TokenBucket;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.internal.http.WebSocketInternal;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.security.SecureRandom;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Accepts WebSockets at {@value #PATH} and wires each one to a {@link Session} of the engine. */
public final class WebSocketTransport {
  public static final String PATH = "/ws";
  /** Frames past this multiple of the frame limit are not even buffered: Vert.x closes with 1009. */
  public static final int HARD_FRAME_LIMIT_FACTOR = 4;
  private static final Logger LOG = LoggerFactory.getLogger(WebSocketTransport.class);

  private final RelayEngine engine;
  private final RelayOptions options;
  private final LongSupplier nanoClock;
  private final String sessionPrefix;
  private final AddressLimits limits;
  private final AllowedOrigins origins;
  /** One for every connection: a fan-out's frame is encoded once for all its receivers. */
  private final LastEncoded lastEncoded = new LastEncoded();
  private long sessionCounter;

  /** @throws IllegalArgumentException when {@code allowedOrigins} is malformed */
  public WebSocketTransport(RelayEngine engine, RelayOptions options, AddressLimits limits, LongSupplier nanoClock) {
    this.engine = engine;
    this.origins = AllowedOrigins.parse(options.getAllowedOrigins());
    this.limits = limits;
    this.options = options;
    this.nanoClock = nanoClock;
    byte[] node = new byte[4];
    new SecureRandom().nextBytes(node);
    this.sessionPrefix = "s-" + java.util.HexFormat.of().formatHex(node) + "-";
  }

  /** Server options the WebSocket endpoint needs (sizes, permessage-deflate as {@code compression} says). */
  public static HttpServerOptions serverOptions(RelayOptions options) {
    int hardLimit = options.getMaxFrameBytes() * HARD_FRAME_LIMIT_FACTOR;
    // off: a browser's offer is declined, frames go plain (no zlib state per connection);
    // deflate-no-context: see connectionHandler
    boolean deflate = !"off".equals(options.getCompression());
    return new HttpServerOptions()
        .setHost(options.getHost())
        .setPort(options.getPort())
        .setCompressionSupported(true)
        // Vert.x 5.0.8 can send gzip-labelled plain bodies over h2c (eclipse-vertx/vert.x#5896);
        // browsers never use h2c, so HTTP/1.1 it is.
        .setHttp2ClearTextEnabled(false)
        // Everything that writes to a connection runs on the relay's one event loop. Strict mode lets
        // Vert.x skip the cross-thread outbound queue it otherwise gives every HTTP connection, whose
        // first chunk alone is ~4 KB of heap per WebSocket (a quarter of an idle one's cost);
        // an off-thread write would now throw instead of being queued.
        .setStrictThreadMode(true)
        .setPerMessageWebSocketCompressionSupported(deflate)
        .setPerFrameWebSocketCompressionSupported(false)
        .setMaxWebSocketFrameSize(hardLimit)
        .setMaxWebSocketMessageSize(hardLimit)
        // seconds: a dead peer never answers the close handshake; don't hold its socket 10 s
        .setWebSocketClosingTimeout(1);
  }

  /**
   * The public server's connection handler, or null when Vert.x's own negotiation is what
   * {@code compression} asks for. For {@code deflate-no-context} it swaps Vert.x's extension
   * handshaker for {@link NoContextDeflate} before the connection reads its upgrade request.
   */
  public static Handler<HttpConnection> connectionHandler(RelayOptions options) {
    if (!"deflate-no-context".equals(options.getCompression())) {
      return null;
    }
    int level = new HttpServerOptions().getWebSocketCompressionLevel();
    return connection -> NoContextDeflate.install(((ConnectionBase) connection).channel().pipeline(), level);
  }

  /**
   * The public server's request handler: {@code GET /ws} is upgraded here, everything else goes to
   * {@code router}. Not a route of the router, because vertx-web wraps the socket a routed request
   * upgrades to, and the RFC 6455 checks and the forced close need core's socket and its channel.
   */
  public Handler<HttpServerRequest> requestHandler(Router router) {
    return request -> {
      if (request.method() == HttpMethod.GET && PATH.equals(request.path())) {
        upgrade(request);
      } else {
        router.handle(request);
      }
    };
  }

  /**
   * {@code GET /ws}: the browser's origin (403 {@code forbidden} when not allowed), per-address
   * limits (429, or 503 while draining, with {@code Retry-After}), each refusal with a JSON body,
   * then the WebSocket handshake; a refusal through Vert.x's handshake hook could carry neither a
   * body nor headers.
   */
  private void upgrade(HttpServerRequest request) {
    if (engine.draining()) {
      refuse(request, new AddressLimits.Refusal(503, ErrorCode.SHUTTING_DOWN,
          "server is shutting down; reconnect later", 5));
      return;
    }
    if (!origins.allows(request.getHeader("origin"), request.getHeader("host"))) {
      // A page of another site could otherwise put its visitors on this relay under its own tokens.
      refuse(request, new AddressLimits.Refusal(403, ErrorCode.FORBIDDEN,
          "origin not allowed; add it to allowedOrigins (SWITCHBOARD_ALLOWED_ORIGINS)", 0));
      return;
    }
    String address = limits.clientKey(request.remoteAddress().hostAddress(), request.headers().getAll("x-forwarded-for"));
    AddressLimits.Refusal refusal = limits.admitConnection(address);
    if (refusal != null) {
      refuse(request, refusal);
      return;
    }
    request.toWebSocket().onComplete(ar -> {
      if (ar.succeeded()) {
        accept(ar.result(), address);
      } else {
        // Not an upgrade, or the handshake failed: Vert.x has answered (400) and no socket exists.
        limits.connectionClosed(address);
      }
    });
  }

  private static void refuse(HttpServerRequest request, AddressLimits.Refusal refusal) {
    if (refusal.retryAfterSeconds() > 0) {
      request.response().putHeader("retry-after", Long.toString(refusal.retryAfterSeconds()));
    }
    request.response().setStatusCode(refusal.status())
        .putHeader("content-type", "application/json")
        .putHeader("cache-control", "no-store")
        .end(new JsonObject().put("code", refusal.code().wire()).put("message", refusal.message()).encode());
  }

  private void accept(ServerWebSocket ws, String address) {
    long now = nanoClock.getAsLong();
    WebSocketConnection connection = new WebSocketConnection(ws, Vertx.currentContext(), lastEncoded,
        options.getMaxFrameBytes() * HARD_FRAME_LIMIT_FACTOR);
    Session session = new Session(sessionPrefix + Long.toString(++sessionCounter, 36), connection,
        new OutboundQueue(options.getOutboundQueueMaxChars()),
        new TokenBucket(options.getRateFramesPerSecond(), options.getRateBurst(), now),
        options.getAbuseMaxErrors(), now);
    connection.onClosing(() -> engine.closed(session));
    session.address(address);
    if (ws.authority() != null) {
      session.host(ws.authority().host());
    }
    // Vert.x keeps the upgrade request's headers for the socket's whole life; nothing reads them after
    // the handshake. A browser sends ~15 (user agent, cookies, languages…): a KB or more per connection.
    ws.headers().clear();
    engine.opened(session);
    ws.textMessageHandler(text -> engine.onText(session, text));
    ws.binaryMessageHandler(data -> engine.onBinary(session));
    ws.pongHandler(data -> engine.onPong(session));
    ws.drainHandler(v -> session.onDrain());
    FrameConformance.install(((WebSocketInternal) ws).channelHandlerContext().pipeline(),
        options.getMaxFrameBytes() * HARD_FRAME_LIMIT_FACTOR);
    ws.exceptionHandler(e -> {
      LOG.debug("socket {}: {}", session.id(), e.toString());
      if (e instanceof CorruptedWebSocketFrameException corrupted) {
        // a frame past the hard size limit (1009), bad UTF-8 (1007), reserved bits (1002): say why
        // instead of just dropping the TCP connection
        session.close((short) corrupted.closeStatus().code(), corrupted.closeStatus().reasonText());
      } else if (e instanceof TooLongFrameException) {
        // fragments adding up past the hard limit (FrameConformance's aggregator)
        session.close((short) WebSocketCloseStatus.MESSAGE_TOO_BIG.code(), WebSocketCloseStatus.MESSAGE_TOO_BIG.reasonText());
      }
    });
    ws.closeHandler(v -> {
      limits.connectionClosed(address);
      engine.closed(session);
    });
  }
}
