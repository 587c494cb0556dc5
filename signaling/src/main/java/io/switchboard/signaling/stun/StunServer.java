package io.switchboard.signaling.stun;

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

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The STUN service: UDP sockets on every (address x {port, altPort}) that answer Binding
 * requests with the sender's reflexive address (RFC 5389/8489), plus RFC 5780 behaviour
 * discovery when two addresses are configured. Unauthenticated, like public STUN servers.
 * <p>
 * All sockets live on one event loop; each datagram is handled by {@link BindingHandler}, which
 * never throws, so nothing from the network can close a socket or reach Vert.x's exception
 * handler.
 */
public final class StunServer {

  private static final Logger LOG = LoggerFactory.getLogger(StunServer.class);
  private static final long WARN_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

  private final Vertx vertx;
  private final Context context;
  private final List<DatagramSocket> sockets;
  private final List<InetSocketAddress> endpoints;
  private final BindingHandler handler;
  private final StunMetrics metrics;
  private final AtomicLong lastWarn = new AtomicLong(System.nanoTime() - WARN_INTERVAL_NANOS);
  private final AtomicLong suppressedWarnings = new AtomicLong();

  private StunServer(Vertx vertx, Context context, List<DatagramSocket> sockets, List<InetSocketAddress> endpoints,
                     StunMetrics metrics) {
    this.vertx = vertx;
    this.context = context;
    this.sockets = List.copyOf(sockets);
    this.endpoints = List.copyOf(endpoints);
    this.handler = endpoints.isEmpty() ? null : new BindingHandler(endpoints);
    this.metrics = metrics;
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
      return Future.succeededFuture(new StunServer(vertx, null, List.of(), List.of(), metrics));
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
        eventLoop.runOnContext(x -> bindAll(vertx, eventLoop, opts, metrics).onComplete(promise));
        return promise.future();
      });
  }

  private static Future<StunServer> bindAll(Vertx vertx, Context context, StunOptions options, StunMetrics metrics) {
    List<InetAddress> addresses = options.inetAddresses();
    DatagramSocketOptions socketOptions = new DatagramSocketOptions()
      .setIpV6(addresses.get(0) instanceof Inet6Address);
    List<DatagramSocket> sockets = new ArrayList<>();
    List<InetSocketAddress> endpoints = new ArrayList<>();
    Future<Void> chain = bind(vertx, socketOptions, addresses.get(0), options.getPort(), sockets, endpoints)
      .compose(v -> bind(vertx, socketOptions, addresses.get(0), options.getAltPort(), sockets, endpoints));
    if (addresses.size() == 2) {
      // RFC 5780 §6: the same two ports on both addresses, so ephemeral ports are taken from A1
      chain = chain
        .compose(v -> bind(vertx, socketOptions, addresses.get(1), endpoints.get(0).getPort(), sockets, endpoints))
        .compose(v -> bind(vertx, socketOptions, addresses.get(1), endpoints.get(1).getPort(), sockets, endpoints));
    }
    return chain
      .map(v -> {
        StunServer server = new StunServer(vertx, context, sockets, endpoints, metrics);
        for (int i = 0; i < sockets.size(); i++) {
          int index = i;
          sockets.get(i)
            .exceptionHandler(e -> LOG.debug("STUN socket {}: {}", server.endpoints.get(index), e.toString()))
            .handler(packet -> server.onPacket(index, packet));
        }
        LOG.info("STUN listening on {}", server.endpoints);
        return server;
      })
      .recover(failure -> closeAll(vertx, context, sockets).transform(x -> Future.failedFuture(failure)));
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
   * The bound addresses: A1:port, A1:altPort, then (with two addresses) A2:port, A2:altPort.
   * Empty when the service is disabled.
   */
  public List<InetSocketAddress> endpoints() {
    return endpoints;
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

  private void onPacket(int index, DatagramPacket packet) {
    try {
      SocketAddress sender = packet.sender();
      Buffer data = packet.data();
      InetAddress source = NetUtil.createInetAddressFromIpAddressString(sender.hostAddress());
      BindingHandler.Outcome outcome;
      if (data.length() > BindingHandler.MAX_DATAGRAM) {
        outcome = BindingHandler.Outcome.drop("oversized (" + data.length() + " bytes)"); // not even copied
      } else if (source == null) {
        outcome = BindingHandler.Outcome.drop("sender address " + sender.hostAddress() + " is not an IP literal");
      } else {
        outcome = handler.handle(data.getBytes(), new InetSocketAddress(source, sender.port()), index);
      }
      metrics.count(outcome.result());
      if (outcome.response() != null) {
        sockets.get(outcome.sendFrom())
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
