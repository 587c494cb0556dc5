package io.switchboard.relay.http;

import io.switchboard.relay.limits.AddressLimits;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code /api/*} requests per client address: over the limit, 429 JSON {@code rate_limited} with
 * Retry-After. {@code /api/admin/} is limited by {@link AdminRoomsApi} itself.
 */
public final class ApiRateLimit {
  private ApiRateLimit() {
  }

  /** Mount before the API's routes. */
  public static void mount(Router router, AddressLimits limits) {
    router.route("/api/*").handler(ctx -> {
      if (ctx.normalizedPath().startsWith(AdminRoomsApi.PREFIX)) {
        // the admin API charges failed authentications only (an app's backend manages members in bulk)
        ctx.next();
        return;
      }
      AddressLimits.Refusal refusal = limits.admitApiRequest(clientKey(ctx, limits));
      if (refusal == null) {
        ctx.next();
      } else {
        JsonResponses.refuse(ctx, refusal);
      }
    });
  }

  /** The request's client address key, believing X-Forwarded-For only from a trusted proxy. */
  public static String clientKey(RoutingContext ctx, AddressLimits limits) {
    return limits.clientKey(ctx.request().remoteAddress().hostAddress(),
        ctx.request().headers().getAll("x-forwarded-for"));
  }
}
