package io.switchboard.relay.http;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.relay.RelayEngine;
import io.switchboard.relay.store.MessageStore;
import io.switchboard.signaling.steer.OutcomeStats;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.function.Supplier;

/**
 * The private port: {@code /health} (the process is fit to go on: 503 when an embedded Postgres
 * died and could not be restarted), {@code /ready} (database reachable, not draining), {@code /metrics},
 * {@code /steering} (P2P outcome rates per NAT class pair), {@code /dashboard} (live charts, see
 * {@link Dashboard}). With an {@code adminToken}, everything
 * but {@code /health}, {@code /ready} (which orchestrators probe without credentials) and the
 * dashboard's static page (it holds no data) needs {@code Authorization: Bearer <adminToken>}.
 */
public final class AdminApi {
  private static final long READY_TIMEOUT_MS = 2000;
  private static final long READY_CHECK_MS = 5000;
  static final String READY = "switchboard.ready";
  private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private final Vertx vertx;
  private final RelayEngine engine;
  private final MessageStore store;
  private final PrometheusMeterRegistry registry;
  private final Supplier<String> healthProblem;
  private final String adminToken;
  /** The last readiness check's answer, for alerting (Prometheus cannot probe /ready itself). */
  private volatile boolean lastReady;

  /**
   * @param healthProblem why the process should be restarted, or null (e.g. {@code Database::healthProblem})
   * @param adminToken the bearer token guarding the port; null: unguarded (loopback by default)
   */
  public AdminApi(Vertx vertx, RelayEngine engine, MessageStore store, PrometheusMeterRegistry registry,
      Supplier<String> healthProblem, String adminToken) {
    this.vertx = vertx;
    this.adminToken = adminToken;
    this.engine = engine;
    this.store = store;
    this.registry = registry;
    this.healthProblem = healthProblem;
    Gauge.builder(READY, this, api -> api.lastReady ? 1 : 0)
        .description("1 while /ready answers 200 (checked every 5 s and on each probe), else 0").register(registry);
  }

  public Router router() {
    Router router = Router.router(vertx);
    router.get("/health").handler(this::health);
    router.get("/ready").handler(this::ready);
    Dashboard.mountPage(router);
    if (adminToken != null) {
      // after the probes' routes, which end their requests: they never reach this guard
      router.route().handler(this::guard);
    }
    router.get("/metrics").handler(this::metrics);
    router.get("/steering").handler(ctx -> JsonResponses.json(ctx, 200, steering()));
    Dashboard.start(vertx, new DashboardSampler(registry, System::currentTimeMillis, System::nanoTime), this::steering)
        .mountData(router);
    checkReady();
    vertx.setPeriodic(READY_CHECK_MS, id -> checkReady());
    JsonResponses.install(router);
    return router;
  }

  private void guard(RoutingContext ctx) {
    if (Bearer.matches(Bearer.token(ctx), adminToken)) {
      ctx.next();
    } else {
      Bearer.unauthorized(ctx, "send Authorization: Bearer <adminToken> (SWITCHBOARD_ADMIN_TOKEN)");
    }
  }

  /** Outcome statistics per NAT class pair and steered mode; runs on the engine's event loop. */
  private JsonObject steering() {
    JsonArray pairs = new JsonArray();
    for (OutcomeStats.ModeStats s : engine.peers().stats()) {
      JsonObject totals = new JsonObject();
      s.totals().forEach((path, n) -> totals.put(path.wire(), n));
      OutcomeStats.Rate recent = s.recent();
      pairs.add(new JsonObject().put("pair", s.pair()).put("steered", s.steered().wire()).put("totals", totals)
          .put("recent", new JsonObject().put("samples", recent.samples()).put("successes", recent.successes())
              .put("rate", recent.samples() == 0 ? null : recent.value())));
    }
    return new JsonObject().put("pairs", pairs);
  }

  /**
   * Rendering every meter takes milliseconds (3–5 ms for the ~190 series of a test run);
   * on the event loop that would hold up every connection's frames once per scrape.
   */
  private void metrics(RoutingContext ctx) {
    vertx.executeBlocking(registry::scrape, false)
        .onSuccess(text -> ctx.response().putHeader("content-type", PROMETHEUS_TEXT).end(text))
        .onFailure(ctx::fail);
  }

  private void health(RoutingContext ctx) {
    String problem = healthProblem.get();
    if (problem == null) {
      JsonResponses.json(ctx, 200, new JsonObject().put("status", "up"));
    } else {
      JsonResponses.json(ctx, 503, new JsonObject().put("status", "down").put("reason", problem));
    }
  }

  private void ready(RoutingContext ctx) {
    readiness().onComplete(ar -> {
      lastReady = ar.result().getString("status").equals("ready");
      JsonResponses.json(ctx, lastReady ? 200 : 503, ar.result());
    });
  }

  private void checkReady() {
    readiness().onComplete(ar -> lastReady = ar.result().getString("status").equals("ready"));
  }

  /** {@code /ready}'s body; never fails. */
  private Future<JsonObject> readiness() {
    if (engine.draining()) {
      return Future.succeededFuture(new JsonObject().put("status", "draining"));
    }
    return store.ping().timeout(READY_TIMEOUT_MS, java.util.concurrent.TimeUnit.MILLISECONDS)
        .map(v -> new JsonObject().put("status", "ready"))
        .otherwise(e -> new JsonObject().put("status", "not_ready")
            .put("reason", "database unreachable: " + e.getMessage()));
  }

}
