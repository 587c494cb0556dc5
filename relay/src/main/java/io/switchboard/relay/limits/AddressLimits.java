package io.switchboard.relay.limits;

import io.switchboard.signaling.limit.KeyedBuckets;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.switchboard.protocol.ErrorCode;
import io.switchboard.relay.config.LimitsOptions;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Every per-address limit of the public port in one place: who the client is (trusted proxies),
 * connections open, handshakes, HTTP API requests and room loads per second, and the global cap on
 * concurrent history reads. Time comes from the injected clock; runs on the relay's event loop.
 */
// Shared by every event loop of the public server: the public methods synchronize (none is on the
// chat path; a connection pays for them at its handshake and on room loads).
public final class AddressLimits {
  /** Why something was refused: HTTP status, stable code, message and {@code Retry-After} seconds. */
  public record Refusal(int status, ErrorCode code, String message, long retryAfterSeconds) {}

  private final LimitsOptions options;
  private final LongSupplier nanoClock;
  private final ClientAddresses addresses;
  private final ConnectionCounts connections = new ConnectionCounts();
  private final KeyedBuckets<String> handshakes;
  private final KeyedBuckets<String> httpRequests;
  private final KeyedBuckets<String> roomLoads;
  private final KeyedBuckets<String> turnCredentials;
  /** History reads that may wait for a slot: a burst of page loads waits milliseconds, a flood is refused. */
  public static final int HISTORY_READS_WAITING = 64;

  private final ConcurrencyGate historyReads;
  private final MeterRegistry registry;
  private final Map<String, Counter> refused = new HashMap<>();
  /** Addresses whose failed admin API authentications ran over the API limit, and until when (nanos). */
  private final Map<String, Long> adminLockedUntil;

  public AddressLimits(LimitsOptions options, LongSupplier nanoClock, MeterRegistry registry) {
    this.options = options;
    this.nanoClock = nanoClock;
    this.registry = registry;
    this.addresses = new ClientAddresses(options.trustedProxyList());
    int maxKeys = options.getMaxTrackedAddresses();
    this.handshakes = new KeyedBuckets<>(options.getHandshakesPerAddressPerSecond(), options.getHandshakeBurst(), maxKeys);
    this.httpRequests = new KeyedBuckets<>(options.getHttpRequestsPerAddressPerSecond(), options.getHttpBurst(), maxKeys);
    this.roomLoads = new KeyedBuckets<>(options.getRoomLoadsPerAddressPerSecond(), options.getRoomLoadBurst(), maxKeys);
    this.turnCredentials = new KeyedBuckets<>(options.getTurnCredentialsPerAddressPerMinute() / 60.0,
        options.getTurnCredentialBurst(), maxKeys);
    this.historyReads = new ConcurrencyGate(options.getMaxConcurrentHistoryReads(), HISTORY_READS_WAITING);
    this.adminLockedUntil = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
        return size() > maxKeys;
      }
    };
  }

  /** The limit key of a request's client (see {@link ClientAddresses}). */
  public String clientKey(String peerHost, List<String> forwardedFor) {
    return addresses.key(peerHost, forwardedFor);
  }

  /**
   * A WebSocket handshake from {@code key}: null when admitted, and then one connection is counted
   * for it until {@link #connectionClosed(String)}.
   */
  public synchronized Refusal admitConnection(String key) {
    if (!handshakes.tryAcquire(key, nanoClock.getAsLong())) {
      return refuse("handshake_rate", 429, "more than " + options.getHandshakesPerAddressPerSecond()
          + " WebSocket handshakes/s from this address", handshakes.retryAfterSeconds());
    }
    if (!connections.tryOpen(key, options.getMaxConnectionsPerAddress())) {
      // No token bucket to wait for: a connection of this address has to close first.
      return refuse("connections", 429, "at most " + options.getMaxConnectionsPerAddress()
          + " connections per address", 5);
    }
    return null;
  }

  public synchronized void connectionClosed(String key) {
    connections.closed(key);
  }

  /** An HTTP API request from {@code key}: null when admitted. */
  public synchronized Refusal admitApiRequest(String key) {
    if (httpRequests.tryAcquire(key, nanoClock.getAsLong())) {
      return null;
    }
    return refuse("http_rate", 429, "more than " + options.getHttpRequestsPerAddressPerSecond()
        + " API requests/s from this address", httpRequests.retryAfterSeconds());
  }

  /**
   * An admin API request from {@code key} whose credentials are about to be verified: refused while
   * the address is locked out by {@link #adminAttemptFailed}, so a flood of forged tokens costs no
   * signature checks.
   */
  public synchronized Refusal admitAdminAttempt(String key) {
    Long until = adminLockedUntil.get(key);
    if (until == null) {
      return null;
    }
    long left = until - nanoClock.getAsLong();
    if (left <= 0) {
      adminLockedUntil.remove(key);
      return null;
    }
    return refuse("admin_auth", 429, "too many failed admin API authentications from this address",
        Math.max(1, TimeUnit.NANOSECONDS.toSeconds(left + TimeUnit.SECONDS.toNanos(1) - 1)));
  }

  /**
   * A failed admin API authentication from {@code key}: it costs a token of the address's API bucket
   * (authenticated admin requests cost none); with the bucket empty the address is locked out of
   * admin authentication until it would have refilled.
   */
  public synchronized Refusal adminAttemptFailed(String key) {
    Refusal refusal = admitApiRequest(key);
    if (refusal != null) {
      adminLockedUntil.put(key, nanoClock.getAsLong() + TimeUnit.SECONDS.toNanos(refusal.retryAfterSeconds()));
    }
    return refusal;
  }

  /** Whether {@code key} may make the relay load one more room that is not in memory. */
  public synchronized boolean tryRoomLoad(String key) {
    if (roomLoads.tryAcquire(key, nanoClock.getAsLong())) {
      return true;
    }
    refused("room_load_rate").increment();
    return false;
  }

  /** Whether {@code key} may be issued one more new TURN credential (users reuse theirs meanwhile). */
  public synchronized boolean tryTurnCredential(String key) {
    if (turnCredentials.tryAcquire(key, nanoClock.getAsLong())) {
      return true;
    }
    refused("turn_credentials").increment();
    return false;
  }

  /**
   * Runs a history read now, or once one of the reads in progress is done (at most
   * {@link #HISTORY_READS_WAITING} wait); it must call {@link #historyReadDone()} when done.
   * @return null when it ran or waits, else the refusal
   */
  public Refusal startHistoryRead(Runnable read) {
    // a waiting read is let in by whichever loop's read finished: it still runs on its own loop
    Context caller = Vertx.currentContext();
    Runnable onCaller = caller == null ? read : () -> {
      if (Vertx.currentContext() == caller) {
        read.run();
      } else {
        caller.runOnContext(v -> read.run());
      }
    };
    synchronized (this) {
      if (historyReads.enter(onCaller)) {
        return null;
      }
      return refuse("history_reads", 503, "too many history reads at once; retry shortly", 1);
    }
  }

  public synchronized void historyReadDone() {
    historyReads.exit();
  }

  public synchronized int connections(String key) {
    return connections.count(key);
  }

  /** Addresses with per-address rate state (each bucket map is bounded by maxTrackedAddresses). */
  public synchronized int trackedAddresses() {
    return Math.max(Math.max(handshakes.size(), turnCredentials.size()), Math.max(httpRequests.size(), roomLoads.size()));
  }

  public String roomLoadMessage() {
    return "more than " + options.getRoomLoadsPerAddressPerSecond() + " room loads/s from this address; join later";
  }

  private Refusal refuse(String limit, int status, String message, long retryAfter) {
    refused(limit).increment();
    return new Refusal(status, status == 503 ? ErrorCode.OVERLOADED : ErrorCode.RATE_LIMITED, message, retryAfter);
  }

  private Counter refused(String limit) {
    return refused.computeIfAbsent(limit, l -> Counter.builder("switchboard.limits.refused")
        .description("Requests refused by a per-address or global limit, by limit").tag("limit", l)
        .register(registry));
  }
}
