package io.switchboard.relay.http;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;

/**
 * Serves the web client's bundle ({@code /sdk/switchboard.js}) and the demo pages from the
 * {@code webroot/} the web-client jar puts on the classpath.
 *
 * <p>Pages get a strict Content-Security-Policy: scripts only from this origin (no inline script,
 * no eval), so a message body that slipped into the DOM as HTML still could not run. They are also
 * cross-origin isolated (COOP + COEP) so the page can measure its own memory and get fine timers.
 * The SDK itself may be imported by apps on other origins: module scripts are fetched with CORS.
 */
public final class WebApp {
  static final String ROOT = "webroot";
  static final String CONTENT_SECURITY_POLICY = String.join("; ",
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "manifest-src 'self'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'");

  private WebApp() {
  }

  public static void mount(Router router) {
    // A static handler serves paths relative to its route's mount point: one per folder.
    router.route("/sdk/*").method(HttpMethod.GET).method(HttpMethod.HEAD)
        .handler(WebApp::sdkHeaders).handler(files(ROOT + "/sdk"));
    router.route("/*").method(HttpMethod.GET).method(HttpMethod.HEAD)
        .handler(WebApp::pageHeaders).handler(files(ROOT));
  }

  private static StaticHandler files(String root) {
    return StaticHandler.create(root)
        .setIndexPage("index.html")
        .setCachingEnabled(true)
        .setMaxAgeSeconds(0)
        .setDirectoryListing(false)
        .setIncludeHidden(false)
        .setSendVaryHeader(true);
  }

  private static void sdkHeaders(RoutingContext ctx) {
    ctx.response().headers()
        .set(HttpHeaders.ACCESS_CONTROL_ALLOW_ORIGIN, "*")
        .set("Cross-Origin-Resource-Policy", "cross-origin")
        .set("X-Content-Type-Options", "nosniff")
        .set(HttpHeaders.CACHE_CONTROL, "no-cache");
    ctx.next();
  }

  private static void pageHeaders(RoutingContext ctx) {
    ctx.response().headers()
        .set("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        .set("Cross-Origin-Opener-Policy", "same-origin")
        .set("Cross-Origin-Embedder-Policy", "require-corp")
        .set("Cross-Origin-Resource-Policy", "same-origin")
        .set("X-Content-Type-Options", "nosniff")
        .set("Referrer-Policy", "no-referrer")
        .set(HttpHeaders.CACHE_CONTROL, "no-cache");
    ctx.next();
  }
}
