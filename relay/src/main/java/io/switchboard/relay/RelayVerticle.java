package io.switchboard.relay;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.relay.access.AccessControl;
import io.switchboard.relay.access.AccessStore;
import io.switchboard.relay.access.CachedAccessControl;
import io.switchboard.relay.access.Visibility;
import io.switchboard.relay.auth.Authenticator;
import io.switchboard.relay.auth.CompositeAuthenticator;
import io.switchboard.relay.auth.ConfinedAuthenticator;
import io.switchboard.relay.auth.Secrets;
import io.switchboard.relay.cluster.ClusterApi;
import io.switchboard.relay.cluster.ClusterView;
import io.switchboard.relay.cluster.forward.Forwarder;
import io.switchboard.relay.config.RelayOptions;
import io.switchboard.relay.http.AdminApi;
import io.switchboard.relay.http.AdminRoomsApi;
import io.switchboard.relay.http.ApiRateLimit;
import io.switchboard.relay.http.HistoryApi;
import io.switchboard.relay.http.JsonResponses;
import io.switchboard.relay.http.WebApp;
import io.switchboard.relay.config.P2pOptions;
import io.switchboard.relay.limits.AddressLimits;
import io.switchboard.relay.metrics.EventLoopLag;
import io.switchboard.relay.metrics.RelayMetrics;
import io.switchboard.relay.p2p.ConfiguredIceServers;
import io.switchboard.relay.p2p.IceServers;
import io.switchboard.relay.p2p.PeerCoordinator;
import io.switchboard.relay.startup.StartMessages;
import io.switchboard.signaling.steer.OutcomeStats;
import io.switchboard.signaling.steer.SteeringOptions;
import io.switchboard.signaling.steer.SteeringPolicy;
import io.switchboard.signaling.stun.StunOptions;
import io.switchboard.signaling.stun.StunServer;
import io.switchboard.signaling.turn.CredentialCache;
import io.switchboard.signaling.turn.TurnCredentials;
import io.switchboard.signaling.turn.TurnOptions;
import io.switchboard.signaling.turn.TurnSecret;
import io.switchboard.relay.store.BatchWriter;
import io.switchboard.relay.store.CursorStore;
import io.switchboard.relay.store.CursorWriter;
import io.switchboard.relay.store.Database;
import io.switchboard.relay.store.MessageStore;
import io.switchboard.relay.store.RoomLeases;
import io.switchboard.relay.transport.WebSocketTransport;
import io.vertx.core.CompositeFuture;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VerticleBase;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wiring only: starts storage and the STUN service, builds the engine, listens on the public port
 * ({@code /ws}, {@code /api}, {@code /api/admin/}, the web client at {@code /}) and the admin port ({@code /health}, {@code /ready}, {@code /metrics},
 * {@code /steering}, {@code /cluster}). A single instance: the engine's shards live on this verticle's event loop and
 * on {@code eventLoops - 1} others, each with its own copy of the public server on the shared port.
 */
public final class RelayVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(RelayVerticle.class);

  private static final long LAG_PROBE_MS = 100;

  private final RelayOptions options;
  private final PrometheusMeterRegistry registry;
  /** Wall clock (epoch ms) for token expiry; tests move it. */
  private final LongSupplier wallClock;
  // this process start's id in the rooms it claims: a restart on the same data is another owner
  private final String incarnation = RoomLeases.newIncarnation();
  private Database database;
  private RoomLeases leases;
  private CachedAccessControl access;
  private RelayEngine engine;
  /** The one authenticator of this relay (sockets and HTTP bearers): its JWKS cache is shared. */
  private Authenticator authenticator;
  private RelayMetrics metrics;
  private AddressLimits limits;
  private StunServer stun;
  private static final AtomicInteger RELAYS = new AtomicInteger();
  private volatile boolean stopping;
  private final int sharedRandomPort = -1 - RELAYS.getAndIncrement() % 65_000;
  /** One per shard loop, sharing the port. */
  private final List<HttpServer> publicServers = new CopyOnWriteArrayList<>();
  private HttpServer adminServer;
  private ClusterView cluster;
  private RoomMoves moves;

  public RelayVerticle(RelayOptions options, PrometheusMeterRegistry registry) {
    this(options, registry, System::currentTimeMillis);
  }

  public RelayVerticle(RelayOptions options, PrometheusMeterRegistry registry, LongSupplier wallClock) {
    this.options = new RelayOptions(options);
    this.registry = registry;
    this.wallClock = wallClock;
  }

  @Override
  public Future<?> start() {
    limits = new AddressLimits(options.getLimits(), System::nanoTime, registry);
    cluster = ClusterView.attach(vertx, context, incarnation, registry);
    Path dataDir = Path.of(options.getStore().getDataDir());
    return Database.start(vertx, options.getStore())
        .compose(db -> {
          database = db;
          boolean configured = options.getSecret() != null && !options.getSecret().isBlank();
          // clustered: every relay must accept the guest tokens of the others (a client fails over)
          return vertx.isClustered() && !configured ? Secrets.shared(db.pool())
              : vertx.executeBlocking(() -> Secrets.loadOrCreate(options.getSecret(), dataDir));
        })
        .compose(secret -> startP2p(dataDir).map(peers -> {
          MessageStore store = new MessageStore(database.pool());
          access = new CachedAccessControl(context, new AccessStore(database.pool()),
              Visibility.parse(options.getDefaultRoomVisibility()), options.getAccessCacheEntries(), registry);
          // the embedded Postgres is this process's alone, so any other owner of a room is dead
          // the rooms of a member that left the cluster are taken over at once (the fence keeps it safe)
          leases = new RoomLeases(database.pool(), incarnation, options.getStore().getLeaseMs(), database.embedded(),
              cluster::departed);
          BatchWriter writer = new BatchWriter(vertx, database.pool(), incarnation, options.getStore(), registry);
          database.startRetention(options.getResumeMaxReplay(), registry);
          // sockets on every loop check tokens; the JWKS cache stays on this one
          authenticator = new ConfinedAuthenticator((ContextInternal) context,
              CompositeAuthenticator.create(vertx, options.getAuth(), secret, wallClock));
          CursorWriter cursors = new CursorWriter(new CursorStore(database.pool()));
          io.micrometer.core.instrument.Gauge.builder("switchboard.read.cursors.pending", cursors,
              CursorWriter::pendingCount).description("Read cursor moves waiting to be written").register(registry);
          engine = new RelayEngine(options, authenticator, store, writer, cursors, leases, metrics, peers, limits,
              System::nanoTime, wallClock, access, shardContexts());
          moves = new RoomMoves(engine, cluster);
          cluster.addListener(moves);
          return store;
        }))
        .compose(this::forwardAcrossCluster)
        .compose(store -> Future.all(listenPublic(store), listenAdmin(store)))
        .onSuccess(v -> startTimers())
        // Stop whatever got up (Postgres, STUN, a listening server) and say which port was taken.
        .recover(failure -> stop().transform(x -> vertx.executeBlocking(
            () -> PortConflicts.explain(failure, PortConflicts.configured(options)), false))
            .compose(explained -> Future.<CompositeFuture>failedFuture(explained)))
        .onSuccess(v -> LOG.info("{}; {} event loops, STUN {}",
            StartMessages.ready(options.getHost(), port(), options.getAdminHost(), adminPort(),
                StartMessages.database(options.getStore().getDatabaseUrl(), dataDir)),
            engine.shards(), stun == null ? "off" : stun.endpoints()));
  }

  /** Clustered: room ops of rooms other relays sequence go there over the event bus (before any client comes). */
  private Future<MessageStore> forwardAcrossCluster(MessageStore store) {
    if (!cluster.clustered()) {
      return Future.succeededFuture(store);
    }
    return Forwarder.start(vertx, cluster, engine.forwarding(), registry).map(forwarder -> {
      engine.forwardWith(forwarder);
      return store;
    });
  }

  /** The STUN service and TURN credentials when P2P is on; the coordinator either way. */
  private Future<PeerCoordinator> startP2p(Path dataDir) {
    P2pOptions p2p = options.getP2p();
    metrics = new RelayMetrics(registry);
    SteeringOptions steering = p2p.steeringOptions();
    if (!p2p.isEnabled()) {
      IceServers none = new ConfiguredIceServers(p2p.getPublicHost(), List.of(), List.of(), null, address -> false);
      return Future.succeededFuture(coordinator(steering, none));
    }
    StunOptions stunOptions = p2p.stunOptions();
    TurnOptions turnOptions = p2p.turnOptions();
    Future<TurnCredentials> turn = !turnOptions.isEnabled() ? Future.succeededFuture(null)
        : vertx.executeBlocking(() -> new TurnCredentials(TurnSecret.loadOrCreate(turnOptions.getSecret(), dataDir),
            turnOptions.getTtlSeconds(), Clock.systemUTC()));
    return turn.compose(credentials -> StunServer.start(vertx, stunOptions, registry).map(server -> {
      stun = server;
      List<Integer> ports = server.endpoints().stream().limit(2).map(InetSocketAddress::getPort).toList();
      CredentialCache turnCache = credentials == null ? null
          : new CredentialCache(credentials, Clock.systemUTC(), options.getLimits().getMaxTrackedAddresses());
      return coordinator(steering, new ConfiguredIceServers(p2p.getPublicHost(), ports, turnOptions.getUrls(), turnCache,
          limits::tryTurnCredential));
    }));
  }

  private PeerCoordinator coordinator(SteeringOptions steering, IceServers iceServers) {
    SteeringPolicy policy = new SteeringPolicy(steering, iceServers.turnConfigured(), new OutcomeStats(steering));
    return new PeerCoordinator(options.getP2p(), policy, iceServers, metrics, System::currentTimeMillis,
        options.getOutboundQueueMaxChars());
  }

  private void startTimers() {
    // every shard's loop into the one timer: a tail on any loop shows
    for (ContextInternal loop : engine.contexts()) {
      EventLoopLag lag = new EventLoopLag(registry, System::nanoTime);
      loop.runOnContext(v -> probeLag(loop, lag));
    }
    engine.startTimers();
  }

  /**
   * One event-loop context per shard ({@code eventLoops}): this verticle's own first (the batch
   * writer, access cache and JWKS cache live there), then contexts on other loops of the Vert.x
   * instance. With fewer loops than shards, shards share loops (still correct, less parallel).
   */
  private List<ContextInternal> shardContexts() {
    ContextInternal own = (ContextInternal) context;
    VertxInternal vx = (VertxInternal) vertx;
    List<EventLoop> others = new ArrayList<>();
    for (EventExecutor executor : vx.eventLoopGroup()) {
      if (executor != own.nettyEventLoop()) {
        others.add((EventLoop) executor);
      }
    }
    List<ContextInternal> contexts = new ArrayList<>();
    contexts.add(own);
    for (int i = 1; i < options.effectiveEventLoops(); i++) {
      EventLoop loop = others.isEmpty() ? own.nettyEventLoop() : others.get((i - 1) % others.size());
      contexts.add(vx.contextBuilder().withThreadingModel(ThreadingModel.EVENT_LOOP).withEventLoop(loop).build());
    }
    return contexts;
  }

  /** A one-shot timer re-armed each time, so each firing measures its own lateness. */
  private void probeLag(ContextInternal loop, EventLoopLag lag) {
    if (stopping) {
      return; // the shards' loops outlive the deployment: its undeploy cancels nothing there
    }
    lag.armed(TimeUnit.MILLISECONDS.toNanos(LAG_PROBE_MS));
    loop.setTimer(LAG_PROBE_MS, id -> {
      lag.fired();
      probeLag(loop, lag);
    });
  }

  /**
   * The public server once per shard loop, all on one port: Vert.x shares the socket and hands each
   * new connection to the next loop in turn, where its session then lives.
   */
  private Future<?> listenPublic(MessageStore store) {
    List<Future<HttpServer>> listening = new ArrayList<>();
    for (ContextInternal loop : engine.contexts()) {
      Promise<HttpServer> listened = ((ContextInternal) context).promise();
      loop.runOnContext(v -> listenPublicOn(store).onComplete(listened));
      listening.add(listened.future());
    }
    return Future.all(listening);
  }

  private Future<HttpServer> listenPublicOn(MessageStore store) {
    WebSocketTransport transport = new WebSocketTransport(engine, options, limits, System::nanoTime);
    Router router = Router.router(vertx);
    ApiRateLimit.mount(router, limits);
    new AdminRoomsApi(authenticator, access, limits, options.getAdminToken(), options.getAuth().jwtConfigured())
        .mount(router);
    new HistoryApi(engine.rooms(), engine.history(), store, leases, options.getMaxHistoryLimit(), limits,
        authenticator, access, options.getAuth().guestsAllowed()).mount(router);
    WebApp.mount(router);
    JsonResponses.install(router);
    HttpServerOptions serverOptions = WebSocketTransport.serverOptions(options);
    if (serverOptions.getPort() == 0 && engine.shards() > 1) {
      // Vert.x: servers asking for the same negative port share one random port; this relay's own
      // number, so another relay in the same Vert.x instance never shares it
      serverOptions.setPort(sharedRandomPort);
    }
    HttpServer server = vertx.createHttpServer(serverOptions).requestHandler(transport.requestHandler(router));
    Handler<HttpConnection> onConnection = WebSocketTransport.connectionHandler(options);
    if (onConnection != null) {
      server.connectionHandler(onConnection);
    }
    publicServers.add(server);
    return server.listen();
  }

  private Future<HttpServer> listenAdmin(MessageStore store) {
    Router admin = new AdminApi(vertx, engine, store, registry, database::healthProblem, options.getAdminToken()).router();
    ClusterApi.mount(admin, cluster);
    adminServer = vertx.createHttpServer(new HttpServerOptions().setHost(options.getAdminHost())
            .setPort(options.getAdminPort()).setCompressionSupported(true).setHttp2ClearTextEnabled(false))
        .requestHandler(admin);
    return adminServer.listen();
  }

  /**
   * Graceful: in a cluster hand every room over first, then drain the engine (acks and 1001 closes
   * go out), then close servers and storage.
   */
  @Override
  public Future<?> stop() {
    stopping = true;
    // in a cluster the rooms go to the other members first, so their remote members only rejoin;
    // half the grace at most, leaving the rest for the plain drain within Main's shutdown budget
    Future<?> moved = moves == null || !cluster.clustered() ? Future.succeededFuture()
        : moves.drain(options.getShutdownGraceMs() / 2);
    Future<Void> drained = engine == null ? Future.succeededFuture() : moved.transform(ar -> engine.drain());
    return drained
        .andThen(done -> {
          if (engine != null) {
            engine.stopTimers();
          }
        })
        .eventually(() -> Future.join(publicServers.stream().map(HttpServer::close).toList()))
        .eventually(() -> adminServer == null ? Future.succeededFuture() : adminServer.close())
        .eventually(() -> stun == null ? Future.succeededFuture() : stun.close())
        .eventually(() -> database == null ? Future.succeededFuture() : database.close())
        .onComplete(ar -> LOG.info("relay stopped"));
  }

  public int port() {
    return publicServers.get(0).actualPort();
  }

  public int adminPort() {
    return adminServer.actualPort();
  }

  /** The STUN service's bound endpoints (primary first); empty when P2P is off. */
  public List<InetSocketAddress> stunEndpoints() {
    return stun == null ? List.of() : stun.endpoints();
  }

  public RelayEngine engine() {
    return engine;
  }

  /** Rooms' visibility and members' roles; changes made here reach connected users at once. */
  public AccessControl access() {
    return access;
  }

  /** This relay's view of the cluster (a cluster of one when not clustered). */
  public ClusterView cluster() {
    return cluster;
  }

  public Database database() {
    return database;
  }

  public String incarnation() {
    return incarnation;
  }
}
