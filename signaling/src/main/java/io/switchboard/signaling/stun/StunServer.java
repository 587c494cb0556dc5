package io.switchboard.signaling.stun;

import io.switchboard.signaling.limit.KeyedBuckets;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.util.NetUtil;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramPacket;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.net.SocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.BindException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The STUN service: UDP sockets on every (address x {port, altPort}) that answer Binding
 * requests with the sender's reflexive address (RFC 5389/8489), plus RFC 5780 behaviour
 * discovery when two addresses are configured. Unauthenticated, like public STUN servers.
 * <p>
 * A wildcard address is expanded at start into every local address (see
 * {@link #localAddresses}), each with its own pair of sockets on the same two ports: a socket
 * bound to the wildcard answers from whatever source address routing picks (e.g. the interface
 * address for a request sent to 127.0.0.1), and browsers ignore an answer from an address they
 * did not ask. Java has no IP_PKTINFO for datagram channels, so per-address sockets are the
 * portable way to answer from the address asked. Addresses added later are not served until a
 * restart.
 * <p>
 * Each source IP has a token bucket ({@link KeyedBuckets}); datagrams past it are dropped
 * unanswered, so the service cannot amplify a flood at a spoofed victim.
 * <p>
 * All sockets live on one event loop; each datagram is handled by {@link BindingHandler}, which
 * never throws, so nothing from the network can close a socket or reach Vert.x's exception
 * handler.
 */
public final class StunServer {

  private static final Logger LOG = LoggerFactory.getLogger(StunServer.class);
  private static final long WARN_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

  /** Binds that may pick a port taken on a later address are retried this often (ports set to 0). */
  private static final int EPHEMERAL_ATTEMPTS = 5;

  private final Vertx vertx;
  private final Context context;
  private final List<Group> groups;
  private final List<DatagramSocket> sockets;
  private final List<InetSocketAddress> endpoints;
  private final StunMetrics metrics;
  /** Enough for every client behind a busy site's NATs; ~130 bytes each, so ~1.3 MB at most. */
  static final int MAX_SOURCES = 10_000;

  private final KeyedBuckets<InetAddress> limiter;
  private final LongSupplier nanoClock;
  private final AtomicLong lastWarn = new AtomicLong(System.nanoTime() - WARN_INTERVAL_NANOS);
  private final AtomicLong suppressedWarnings = new AtomicLong();

  /**
   * The sockets of one concrete address (or, with RFC 5780, of both configured addresses), in
   * {@link BindingHandler}'s order, and the handler that knows their addresses.
   */
  private record Group(List<DatagramSocket> sockets, List<InetSocketAddress> bound, BindingHandler handler) {
  }

  private StunServer(Vertx vertx, Context context, List<Group> groups, List<InetSocketAddress> endpoints,
                     StunMetrics metrics, StunOptions options, LongSupplier nanoClock) {
    this.vertx = vertx;
    this.context = context;
    this.groups = List.copyOf(groups);
    this.sockets = groups.stream().flatMap(g -> g.sockets().stream()).toList();
    this.endpoints = List.copyOf(endpoints);
    this.metrics = metrics;
    this.limiter = new KeyedBuckets<>(options.getRatePerSource(), options.getBurstPerSource(), MAX_SOURCES);
    this.nanoClock = nanoClock;
  }

  /**
   * Warms ice4j up (off the event loop), then binds every socket; fails, with every socket it
   * had bound closed again, if one cannot be bound. With {@code enabled = false} it binds nothing
   * and succeeds with a server whose {@link #endpoints()} are empty.
   */
  public static Future<StunServer> start(Vertx vertx, StunOptions options, MeterRegistry registry) {
    StunOptions opts = new StunOptions(options);
    try {
      opts.validate();
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    StunMetrics metrics = new StunMetrics(registry);
    if (!opts.isEnabled()) {
      return Future.succeededFuture(new StunServer(vertx, null, List.of(), List.of(), metrics, opts, System::nanoTime));
    }
    Context context = vertx.getOrCreateContext();
    if (!context.isEventLoopContext()) {
      // called from a worker: its context would run the packet handlers on worker threads
      context = ((VertxInternal) vertx).createEventLoopContext();
    }
    Context eventLoop = context;
    return vertx.executeBlocking(() -> {
        BindingHandler.warmUp();
        return null;
      })
      .compose(v -> {
        Promise<StunServer> promise = Promise.promise();
        // sockets take the context they are created on: create them all on one event loop
        eventLoop.runOnContext(x -> bindAll(vertx, eventLoop, opts, metrics, EPHEMERAL_ATTEMPTS).onComplete(promise));
        return promise.future();
      });
  }

  private static Future<StunServer> bindAll(Vertx vertx, Context context, StunOptions options, StunMetrics metrics,
                                            int attempts) {
    List<InetAddress> configured = options.inetAddresses();
    List<List<InetAddress>> groupAddresses;
    if (configured.get(0).isAnyLocalAddress()) {
      List<InetAddress> local;
      try {
        local = localAddresses();
      } catch (IOException e) {
        return Future.failedFuture(e);
      }
      if (local.isEmpty()) {
        return Future.failedFuture(new IllegalStateException("STUN: no local address to serve " + configured.get(0)
          + " on (no interface is up)"));
      }
      groupAddresses = local.stream().map(List::of).toList();
    } else {
      groupAddresses = List.of(configured);
    }
    List<Group> groups = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (List<InetAddress> addresses : groupAddresses) {
      // every group takes the two ports the first one got (RFC 5780 §6: the same two ports on both
      // addresses; with a wildcard, one stun: URL port for every address)
      chain = chain.compose(v -> {
        Future<Void> bound = bindGroup(vertx, addresses,
            groups.isEmpty() ? options.getPort() : groups.get(0).bound().get(0).getPort(),
            groups.isEmpty() ? options.getAltPort() : groups.get(0).bound().get(1).getPort())
          .map(group -> {
            groups.add(group);
            return null;
          });
        if (groupAddresses.size() > 1 && addresses.get(0) instanceof Inet6Address) {
          // a wildcard's IPv6 address may not be bindable yet (duplicate address detection still
          // running after a network change): serve the others rather than refuse to start
          return bound.recover(e -> {
            LOG.warn("STUN: not serving {} ({}); requests sent to it go unanswered until a restart",
              addresses.get(0).getHostAddress(), e.toString());
            return Future.succeededFuture();
          });
        }
        return bound;
      });
    }
    return chain
      .compose(v -> groups.isEmpty() ? Future.failedFuture(new IllegalStateException(
        "STUN: no local address could be bound for " + configured.get(0))) : Future.succeededFuture())
      .map(v -> {
        List<InetSocketAddress> endpoints = new ArrayList<>();
        for (int i = 0; i < groups.get(0).bound().size(); i++) {
          // a wildcard keeps its configured address here: it names the service, not one socket
          InetAddress address = configured.get(i / 2);
          endpoints.add(new InetSocketAddress(address, groups.get(0).bound().get(i).getPort()));
        }
        StunServer server = new StunServer(vertx, context, groups, endpoints, metrics, options, System::nanoTime);
        for (Group group : groups) {
          for (int i = 0; i < group.sockets().size(); i++) {
            int index = i;
            group.sockets().get(i)
              .exceptionHandler(e -> LOG.debug("STUN socket {}: {}", group.bound().get(index), e.toString()))
              .handler(packet -> server.onPacket(group, index, packet));
          }
        }
        if (configured.get(0).isAnyLocalAddress()) {
          LOG.info("STUN listening on {} as {} (the local addresses found now; addresses added later are not "
            + "served until a restart)", endpoints, server.boundEndpoints());
        } else {
          LOG.info("STUN listening on {}", endpoints);
        }
        return server;
      })
      .recover(failure -> {
        List<DatagramSocket> bound = groups.stream().flatMap(g -> g.sockets().stream()).toList();
        Future<StunServer> closed = closeAll(vertx, context, bound).transform(x -> Future.failedFuture(failure));
        boolean ephemeral = options.getPort() == 0 || options.getAltPort() == 0;
        if (ephemeral && groupAddresses.size() > 1 && failure instanceof BindException && attempts > 1) {
          // a port the kernel chose on the first address may be taken on a later one: choose again
          return closed.recover(x -> bindAll(vertx, context, options, metrics, attempts - 1));
        }
        return closed;
      });
  }

  /**
   * Binds {@code addresses[0]:port}, {@code addresses[0]:altPort}, then the same on
   * {@code addresses[1]} if given; closes what it bound if one fails.
   */
  private static Future<Group> bindGroup(Vertx vertx, List<InetAddress> addresses, int port, int altPort) {
    List<DatagramSocket> sockets = new ArrayList<>();
    List<InetSocketAddress> bound = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (InetAddress address : addresses) {
      DatagramSocketOptions socketOptions = new DatagramSocketOptions().setIpV6(address instanceof Inet6Address);
      // ports 0: the later address takes the ports the first one got
      chain = chain
        .compose(v -> bind(vertx, socketOptions, address, bound.isEmpty() ? port : bound.get(0).getPort(), sockets, bound))
        .compose(v -> bind(vertx, socketOptions, address, bound.size() == 1 ? altPort : bound.get(1).getPort(),
          sockets, bound));
    }
    return chain
      .map(v -> new Group(List.copyOf(sockets), List.copyOf(bound), new BindingHandler(bound)))
      .recover(failure -> Future.join(sockets.stream().map(DatagramSocket::close).toList())
        .transform(x -> Future.failedFuture(failure)));
  }

  /**
   * The addresses a wildcard stands for, found now: every address of every interface that is up,
   * loopback first, except link-local IPv6 ones (they need a scope, and browsers do not gather
   * them). Both families for either wildcard: a browser probes STUN from its IPv6 sockets too
   * (to {@code localhost} that is {@code ::1}), and its candidate gathering waits for those
   * answers; without them it ends only when the requests time out, after the SDK's probe.
   */
  static List<InetAddress> localAddresses() throws IOException {
    List<InetAddress> loopback = new ArrayList<>();
    List<InetAddress> others = new ArrayList<>();
    for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (!nif.isUp()) {
        continue;
      }
      for (InetAddress address : Collections.list(nif.getInetAddresses())) {
        boolean wanted = address instanceof Inet4Address || !address.isLinkLocalAddress();
        if (wanted) {
          // no scope id: the socket binds the plain address
          InetAddress plain = InetAddress.getByAddress(address.getAddress());
          (plain.isLoopbackAddress() ? loopback : others).add(plain);
        }
      }
    }
    loopback.addAll(others);
    return loopback.stream().distinct().toList();
  }

  private static Future<Void> bind(Vertx vertx, DatagramSocketOptions options, InetAddress address, int port,
                                   List<DatagramSocket> sockets, List<InetSocketAddress> endpoints) {
    DatagramSocket socket = vertx.createDatagramSocket(options);
    return socket.listen(port, address.getHostAddress())
      .onFailure(e -> socket.close())
      .map(bound -> {
        sockets.add(bound);
        endpoints.add(new InetSocketAddress(address, bound.localAddress().port()));
        return null;
      });
  }

  /**
   * The service's addresses as configured, with the ports bound: A1:port, A1:altPort, then (with
   * two addresses) A2:port, A2:altPort. A wildcard stays a wildcard here (see
   * {@link #boundEndpoints()}). Empty when the service is disabled.
   */
  public List<InetSocketAddress> endpoints() {
    return endpoints;
  }

  /**
   * Every socket's address: {@link #endpoints()} when they are concrete, and for a wildcard each
   * local address with both ports (loopback first).
   */
  public List<InetSocketAddress> boundEndpoints() {
    return groups.stream().flatMap(g -> g.bound().stream()).toList();
  }

  /** Closes every socket; the ports are free again when the future completes. */
  public Future<Void> close() {
    return sockets.isEmpty() ? Future.succeededFuture() : closeAll(vertx, context, sockets);
  }

  private static Future<Void> closeAll(Vertx vertx, Context context, List<DatagramSocket> sockets) {
    return Future.join(sockets.stream().map(DatagramSocket::close).toList())
      .<Void>mapEmpty()
      .eventually(() -> {
        // NIO closes a selector-registered channel's file descriptor only when that selector next
        // runs, after the close future has completed. A timer set on the sockets' event loop runs
        // no earlier than the loop's next select, so after it the ports really are free again.
        Promise<Void> turn = Promise.promise();
        context.runOnContext(x -> vertx.setTimer(1, id -> turn.complete()));
        return turn.future();
      });
  }

  private void onPacket(Group group, int index, DatagramPacket packet) {
    try {
      SocketAddress sender = packet.sender();
      Buffer data = packet.data();
      InetAddress source = NetUtil.createInetAddressFromIpAddressString(sender.hostAddress());
      BindingHandler.Outcome outcome;
      if (source != null && !limiter.tryAcquire(source, nanoClock.getAsLong())) {
        // before anything else: a flood from one source costs a map look-up each, and no answer
        outcome = BindingHandler.Outcome.rateLimited();
      } else if (data.length() > BindingHandler.MAX_DATAGRAM) {
        outcome = BindingHandler.Outcome.drop("oversized (" + data.length() + " bytes)"); // not even copied
      } else if (source == null) {
        outcome = BindingHandler.Outcome.drop("sender address " + sender.hostAddress() + " is not an IP literal");
      } else {
        outcome = group.handler().handle(data.getBytes(), new InetSocketAddress(source, sender.port()), index);
      }
      metrics.count(outcome.result());
      if (outcome.response() != null) {
        group.sockets().get(outcome.sendFrom())
          .send(Buffer.buffer(outcome.response()), sender.port(), sender.hostAddress())
          .onFailure(e -> LOG.debug("STUN response to {} not sent: {}", sender, e.toString()));
      } else if (outcome.unexpected() != null) {
        warn("STUN datagram from " + sender + " dropped on an unexpected exception", outcome.unexpected());
      } else if (LOG.isDebugEnabled()) {
        LOG.debug("STUN datagram from {} dropped: {}", sender, outcome.reason());
      }
    } catch (RuntimeException e) {
      // BindingHandler never throws; this guards the few lines above it
      metrics.count(BindingHandler.Result.DROPPED);
      warn("STUN datagram dropped on an unexpected exception", e);
    }
  }

  /** At most one WARN a minute, so a flood of some packet we mishandle cannot flood the log. */
  private void warn(String message, Throwable e) {
    long now = System.nanoTime();
    long last = lastWarn.get();
    if (now - last >= WARN_INTERVAL_NANOS && lastWarn.compareAndSet(last, now)) {
      long suppressed = suppressedWarnings.getAndSet(0);
      LOG.warn("{} ({} similar warnings suppressed in the last minute)", message, suppressed, e);
    } else {
      suppressedWarnings.incrementAndGet();
      LOG.debug(message, e);
    }
  }
}
