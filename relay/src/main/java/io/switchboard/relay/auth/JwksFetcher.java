package io.switchboard.relay.auth;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** GETs a JWKS URL with Vert.x's web client: 200 with a JSON object, and the response's max-age. */
public final class JwksFetcher implements Supplier<Future<JwksCache.Fetched>> {
  private static final Pattern MAX_AGE = Pattern.compile("(?:^|[,\\s])(?:s-)?max-age\\s*=\\s*\"?(\\d+)");
  private static final Pattern NO_CACHE = Pattern.compile("(?:^|[,\\s])no-(?:cache|store)(?:$|[,\\s=])");
  private static final long TIMEOUT_MS = 5_000;
  private static final int MAX_BYTES = 256 * 1024;

  // kept in a field: Vert.x 5 closes an unreferenced client when it is garbage-collected
  private final WebClient client;
  private final String url;

  public JwksFetcher(Vertx vertx, String url) {
    this.client = WebClient.create(vertx, new WebClientOptions().setUserAgent("switchboard-relay")
        .setConnectTimeout((int) TIMEOUT_MS).setFollowRedirects(false));
    this.url = url;
  }

  @Override
  public Future<JwksCache.Fetched> get() {
    return client.getAbs(url).timeout(TIMEOUT_MS).send().compose(resp -> {
      if (resp.statusCode() != 200) {
        return Future.failedFuture("HTTP " + resp.statusCode());
      }
      if (resp.body() == null || resp.body().length() > MAX_BYTES) {
        return Future.failedFuture("empty or larger than " + MAX_BYTES + " bytes");
      }
      return Future.succeededFuture(new JwksCache.Fetched(new JsonObject(resp.body()),
          maxAgeMs(resp.getHeader("Cache-Control"))));
    });
  }

  /** The Cache-Control lifetime in ms: 0 for no-cache/no-store, negative when none is given. */
  static long maxAgeMs(String cacheControl) {
    if (cacheControl == null) {
      return -1;
    }
    String cc = cacheControl.toLowerCase(java.util.Locale.ROOT);
    if (NO_CACHE.matcher(cc).find()) {
      return 0;
    }
    Matcher m = MAX_AGE.matcher(cc);
    if (!m.find()) {
      return -1;
    }
    try {
      return Math.multiplyExact(Long.parseLong(m.group(1)), 1000L);
    } catch (ArithmeticException | NumberFormatException e) {
      return -1;
    }
  }
}
