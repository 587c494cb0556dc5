package io.switchboard.relay.http;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import java.util.function.Supplier;

/**
 * The live dashboard on the admin port. {@code /dashboard} is a static page (HTML, the uPlot
 * bundle, CSS from the web-client jar's {@code adminroot/}) with no data in it, so it is served
 * before the admin guard: a browser cannot send a bearer header when it navigates. The page asks
 * for the admin token and sends it with its requests for {@code /dashboard/data} (and
 * {@code /cluster}), which are behind the guard like every other admin endpoint.
 *
 * <p>A sampler reads the meters once a second, whether or not a page is open, so every page sees
 * the same per-second rates and a scrape of {@code /dashboard/data} costs a copy of JSON.
 */
public final class Dashboard {
  /** Not "dashboard": Vert.x looks in the working directory first, and web-client/ has the sources there. */
  static final String ROOT = "adminroot";
  static final long SAMPLE_MS = 1000;
  /** Scripts, styles, data only from this origin; no inline script or style, no eval. */
  static final String CONTENT_SECURITY_POLICY = String.join("; ",
      "default-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'");

  private final DashboardSampler sampler;
  private final Supplier<JsonObject> steering;

  private Dashboard(DashboardSampler sampler, Supplier<JsonObject> steering) {
    this.sampler = sampler;
    this.steering = steering;
  }

  /**
   * Starts sampling on the caller's context (a verticle's: its undeploy cancels the timer).
   *
   * @param steering P2P outcomes per NAT class pair, read on that same context
   */
  public static Dashboard start(Vertx vertx, DashboardSampler sampler, Supplier<JsonObject> steering) {
    sampler.sample(); // the first has no rates yet; the page's first fetch then has one to show
    vertx.setPeriodic(SAMPLE_MS, id -> sampler.sample());
    return new Dashboard(sampler, steering);
  }

  /** The page's files; mount before the admin guard (the data route goes on to it). */
  public static void mountPage(Router router) {
    StaticHandler files = StaticHandler.create(ROOT)
        .setIndexPage("index.html")
        .setCachingEnabled(true)
        .setMaxAgeSeconds(0)
        .setDirectoryListing(false)
        .setIncludeHidden(false);
    router.route("/dashboard").method(HttpMethod.GET).method(HttpMethod.HEAD)
        .handler(ctx -> {
          if (ctx.request().path().equals("/dashboard")) { // the page's relative links need the slash
            ctx.redirect("/dashboard/");
          } else {
            ctx.next();
          }
        });
    router.route("/dashboard/*").method(HttpMethod.GET).method(HttpMethod.HEAD).handler(ctx -> {
      if (ctx.normalizedPath().equals("/dashboard/data")) {
        ctx.next();
        return;
      }
      pageHeaders(ctx);
      files.handle(ctx);
    });
  }

  /** The data; mount after the admin guard. */
  public void mountData(Router router) {
    router.get("/dashboard/data").handler(this::data);
  }

  /** {@code ?after=SEQ}: only newer samples (the page polls with its last one). */
  private void data(RoutingContext ctx) {
    long after;
    try {
      String param = ctx.request().getParam("after");
      after = param == null ? 0 : Long.parseLong(param);
    } catch (NumberFormatException e) {
      JsonResponses.error(ctx, 400, io.switchboard.protocol.ErrorCode.BAD_REQUEST, "after: a sample number");
      return;
    }
    JsonResponses.json(ctx, 200, new JsonObject().put("samples", sampler.after(after))
        .put("steering", steering.get()));
  }

  private static void pageHeaders(RoutingContext ctx) {
    ctx.response().headers()
        .set("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        .set("X-Content-Type-Options", "nosniff")
        .set("Referrer-Policy", "no-referrer")
        .set(HttpHeaders.CACHE_CONTROL, "no-cache");
  }
}
