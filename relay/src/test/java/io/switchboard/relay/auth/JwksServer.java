package io.switchboard.relay.auth;

import io.switchboard.relay.TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test fixture: a real JWKS endpoint over HTTP on 127.0.0.1 (port chosen by the OS) serving the
 * public halves of generated keys. Counts requests, can rotate to a new kid, add keys, fail (503)
 * and set the response's Cache-Control.
 */
public final class JwksServer implements AutoCloseable {
  public static final String PATH = "/auth/v1/.well-known/jwks.json";

  private final List<TokenMinter> keys = new CopyOnWriteArrayList<>();
  private final AtomicInteger requests = new AtomicInteger();
  private final HttpServer server;
  private volatile boolean failing;
  private volatile String cacheControl = "public, max-age=600";
  private int rotations;

  private JwksServer(HttpServer server) {
    this.server = server;
  }

  /** Starts with one ES256 key (kid {@code es-1}) and one RS256 key (kid {@code rs-1}). */
  public static JwksServer start(Vertx vertx) {
    return start(vertx, TokenMinter.es256("es-1"), TokenMinter.rs256("rs-1"));
  }

  public static JwksServer start(Vertx vertx, TokenMinter... initial) {
    HttpServer http = vertx.createHttpServer();
    JwksServer jwks = new JwksServer(http);
    jwks.keys.addAll(List.of(initial));
    http.requestHandler(req -> {
      jwks.requests.incrementAndGet();
      if (jwks.failing) {
        req.response().setStatusCode(503).end("down");
      } else if (!PATH.equals(req.path())) {
        req.response().setStatusCode(404).end();
      } else {
        req.response().putHeader("content-type", "application/json")
            .putHeader("cache-control", jwks.cacheControl)
            .end(TokenMinter.jwks(jwks.keys.toArray(TokenMinter[]::new)).encode());
      }
    });
    TestClient.sync(http.listen(0, "127.0.0.1"), 10);
    return jwks;
  }

  public String url() {
    return "http://127.0.0.1:" + server.actualPort() + PATH;
  }

  /** Requests served so far (failed ones included). */
  public int requests() {
    return requests.get();
  }

  /** The first key served with this alg. */
  public TokenMinter key(String alg) {
    return keys.stream().filter(k -> k.alg().equals(alg)).findFirst().orElseThrow();
  }

  /** Replaces every key with a new ES256 key under a new kid, and returns it. */
  public synchronized TokenMinter rotate() {
    TokenMinter next = TokenMinter.es256("es-rotated-" + (++rotations));
    keys.clear();
    keys.add(next);
    return next;
  }

  public void add(TokenMinter key) {
    keys.add(key);
  }

  public void failing(boolean failing) {
    this.failing = failing;
  }

  public void cacheControl(String value) {
    this.cacheControl = value;
  }

  public JsonObject body() {
    return TokenMinter.jwks(keys.toArray(TokenMinter[]::new));
  }

  @Override
  public void close() {
    TestClient.sync(server.close(), 10);
  }
}
