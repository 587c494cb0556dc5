package io.switchboard.relay.http;

import io.switchboard.protocol.ErrorCode;
import io.switchboard.relay.limits.AddressLimits;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** JSON answers: every HTTP error is {@code {"code","message"}} with the same stable codes as error frames. */
public final class JsonResponses {
  private static final Logger LOG = LoggerFactory.getLogger(JsonResponses.class);
  private JsonResponses() {
  }

  static void error(RoutingContext ctx, int status, ErrorCode code, String message) {
    json(ctx, status, new JsonObject().put("code", code.wire()).put("message", message));
  }

  /** A refusal by a limit: its status and code, and when to try again ({@code Retry-After}, seconds). */
  public static void refuse(RoutingContext ctx, AddressLimits.Refusal refusal) {
    ctx.response().putHeader("retry-after", Long.toString(refusal.retryAfterSeconds()));
    error(ctx, refusal.status(), refusal.code(), refusal.message());
  }

  /** Tokens cannot be checked now (the JWKS is unreachable): 503, try the same token again shortly. */
  static void authUnavailable(RoutingContext ctx, String message) {
    ctx.response().putHeader("retry-after", "5");
    error(ctx, 503, ErrorCode.AUTH_UNAVAILABLE, message);
  }

  /** A JSON answer that no cache keeps (errors, health, readiness). */
  static void json(RoutingContext ctx, int status, JsonObject body) {
    if (ctx.response().ended()) {
      return;
    }
    ctx.response().setStatusCode(status)
        .putHeader("content-type", "application/json")
        .putHeader("cache-control", "no-store")
        .end(body.encode());
  }

  /** The router's fallbacks: unknown paths, wrong methods and handler failures answer JSON too. */
  public static void install(io.vertx.ext.web.Router router) {
    router.errorHandler(404,  ctx -> error(ctx, 404, ErrorCode.NOT_FOUND, "no such endpoint"));
    router.errorHandler(405,  ctx -> error(ctx, 405, ErrorCode.BAD_REQUEST, "method not allowed"));
    router.errorHandler(500,  ctx -> {
      // the client learns nothing more; the log has to say what broke
      LOG.error("{} {} failed", ctx.request().method(), ctx.normalizedPath(), ctx.failure());
      error(ctx, 500, ErrorCode.INTERNAL, "internal error");
    });
  }
}
