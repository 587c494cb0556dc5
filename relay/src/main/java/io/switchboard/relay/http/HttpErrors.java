package io.switchboard.relay.http;

import io.switchboard.protocol.ErrorCode;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Every HTTP error is JSON {@code {"code","message"}} with the same stable codes as error frames. */
public final class HttpErrors {
  private HttpErrors() {
  }

  static void send(RoutingContext ctx, int status, ErrorCode code, String message) {
    if (ctx.response().ended()) {
      return;
    }
    ctx.response().setStatusCode(status)
        .putHeader("content-type", "application/json")
        .putHeader("cache-control", "no-store")
        .end(new JsonObject().put("code", code.wire()).put("message", message).encode());
  }

  /** The router's fallbacks: unknown paths, wrong methods and handler failures answer JSON too. */
  public static void install(io.vertx.ext.web.Router router) {
    router.errorHandler(404, ctx -> send(ctx, 404, ErrorCode.NOT_FOUND, "no such endpoint"));
    router.errorHandler(405, ctx -> send(ctx, 405, ErrorCode.BAD_REQUEST, "method not allowed"));
    router.errorHandler(500, ctx -> send(ctx, 500, ErrorCode.INTERNAL, "internal error"));
  }
}
