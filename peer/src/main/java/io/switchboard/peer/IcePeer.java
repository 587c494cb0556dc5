package io.switchboard.peer;

import java.beans.PropertyChangeEvent;
import java.beans.PropertyChangeListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.ice4j.Transport;
import org.ice4j.TransportAddress;
import org.ice4j.ice.CandidatePair;
import org.ice4j.ice.CandidateType;
import org.ice4j.ice.Component;
import org.ice4j.ice.IceMediaStream;
import org.ice4j.ice.IceProcessingState;
import org.ice4j.ice.KeepAliveStrategy;
import org.ice4j.ice.LocalCandidate;
import org.ice4j.ice.RemoteCandidate;
import org.ice4j.ice.harvest.StunCandidateHarvester;
import org.ice4j.ice.harvest.TurnCandidateHarvester;
import org.ice4j.security.LongTermCredential;
import org.ice4j.socket.MultiplexingDatagramSocket;
import org.ice4j.socket.SocketClosedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ICE endpoint: an ice4j agent with one stream and one UDP component, plus a tiny datagram
 * channel over the selected pair once ICE completes.
 *
 * <pre>{@code
 * IcePeer a = IcePeer.create(new IcePeerOptions().setAllowedAddresses(List.of("127.0.0.1")).setControlling(true));
 * IcePeer b = IcePeer.create(new IcePeerOptions().setAllowedAddresses(List.of("127.0.0.1")));
 * IceDescription da = a.localDescription(), db = b.localDescription(); // blocking: gathers
 * // ... exchange da / db through signaling (toJson / fromJson) ...
 * CompletableFuture<IceResult> ra = a.connect(db), rb = b.connect(da);
 * b.onMessage(bytes -> ...);
 * ra.join(); rb.join();
 * a.send("hello".getBytes(UTF_8));
 * }</pre>
 *
 * <p>Threads: {@link #localDescription()} blocks while gathering (up to ice4j's harvest timeout,
 * 15 s, when a STUN/TURN server does not answer); call it off event loops. Futures complete on
 * ice4j's or this class's internal threads and {@link #onMessage} handlers run on the peer's reader
 * thread: hand work elsewhere rather than blocking there. Trickle ICE is not implemented (the peer
 * gathers fully, then describes itself once); nothing here prevents adding it.
 *
 * <p>Delivery: ice4j drops application packets from addresses it has not validated yet, so a side
 * should send once both {@link #connect} futures completed (tests do exactly that). UDP does not
 * retransmit: {@link #send} is at most once; on loopback nothing is lost.
 */
public final class IcePeer implements AutoCloseable {

  /**
   * Largest payload {@link #send} accepts. ice4j's merging socket reads into 1500-byte buffers and
   * silently truncates anything longer; 1200 leaves room for our 1-byte header and TURN framing.
   */
  public static final int MAX_PAYLOAD_BYTES = 1200;
  /** Samples and per-attempt timeout of {@link #rtt()}. */
  public static final int DEFAULT_RTT_SAMPLES = 5;
  public static final Duration DEFAULT_RTT_ATTEMPT_TIMEOUT = Duration.ofSeconds(1);
  /** Attempts (first send plus retransmissions) per RTT sample before giving up. */
  public static final int RTT_ATTEMPTS = 3;

  // Frame types: first byte of every datagram on the channel. 0xF0.. can be neither STUN (0-3),
  // DTLS (20-63), TURN ChannelData (64-79) nor RTP/RTCP (128-191) in RFC 7983's demultiplexing.
  private static final byte DATA = (byte) 0xF0;
  private static final byte PING = (byte) 0xF1;
  private static final byte PONG = (byte) 0xF2;

  private static final String STREAM_NAME = "data";
  private static final int MAX_DATAGRAM = 1500;

  /** Timers for connect timeouts and RTT retransmissions, shared; its one thread ends when idle. */
  private static final ScheduledThreadPoolExecutor TIMER = newTimer();

  private final Logger log;
  private final IcePeerOptions options;
  private final PeerAgent agent;
  private final Object lock = new Object();
  private final PropertyChangeListener stateListener = this::onIceStateChange;
  private final Map<Long, Ping> pings = new ConcurrentHashMap<>();
  private final AtomicLong pingIds = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();

  // written under lock; read by ice4j's and the timer's threads too
  private volatile Component component;
  // guarded by lock
  private IceDescription localDescription;
  private CompletableFuture<IceResult> connectFuture;
  private ScheduledFuture<?> connectTimeout;
  private long connectStartNanos;
  private Thread reader;

  private volatile boolean closed;
  private volatile MultiplexingDatagramSocket dataSocket;
  private volatile Consumer<byte[]> messageHandler;

  private IcePeer(IcePeerOptions options) {
    this.options = options;
    this.log = LoggerFactory.getLogger(IcePeer.class.getName() + "." + options.getName());
    this.agent = new PeerAgent(options.isRelayOnly());
    agent.setControlling(options.isControlling());
    agent.setUseDynamicPorts(false); // never ice4j's all-interfaces host harvester
    List<InetAddress> addresses = options.getAllowedAddresses().stream()
        .map(a -> IpLiteral.parse(a, "allowed address"))
        .toList();
    agent.addCandidateHarvester(new AllowedAddressHarvester(addresses));
    try {
      addServerHarvesters();
    } catch (RuntimeException e) {
      agent.free();
      throw e;
    }
  }

  /**
   * Creates a peer; sockets are bound and servers contacted only by {@link #localDescription()}.
   *
   * @throws IllegalArgumentException if the options are incomplete (no allowed address, relay-only
   *     without a usable TURN server)
   */
  public static IcePeer create(IcePeerOptions options) {
    Objects.requireNonNull(options, "options");
    IcePeerOptions copy = new IcePeerOptions(options);
    copy.validate();
    Ice4jSetup.ensure();
    return new IcePeer(copy);
  }

  public String name() {
    return options.getName();
  }

  /**
   * Gathers (the first time; blocking) and returns this peer's ICE credentials and candidates. In
   * relay-only mode only relay candidates are listed. At most {@link IceDescription#MAX_CANDIDATES},
   * highest priority first.
   *
   * @throws IceException {@link IceException.Reason#GATHERING_FAILED} if a socket cannot be bound,
   *     {@link IceException.Reason#CLOSED} after {@link #close()}
   */
  public IceDescription localDescription() {
    synchronized (lock) {
      requireOpen();
      if (localDescription == null) {
        gather();
      }
      return localDescription;
    }
  }

  private void gather() {
    long start = System.nanoTime();
    IceMediaStream stream = agent.createMediaStream(STREAM_NAME);
    try {
      component = agent.createComponent(stream, KeepAliveStrategy.SELECTED_ONLY, true);
    } catch (IOException | RuntimeException e) {
      Throwable cause = e instanceof UncheckedIOException u ? u.getCause() : e;
      throw new IceException(IceException.Reason.GATHERING_FAILED, cause.getMessage(), cause);
    }
    List<String> lines = new ArrayList<>();
    for (LocalCandidate candidate : component.getLocalCandidates()) { // sorted, highest priority first
      if (candidate.getTransport() != Transport.UDP
          || (options.isRelayOnly() && candidate.getType() != CandidateType.RELAYED_CANDIDATE)) {
        continue;
      }
      if (lines.size() == IceDescription.MAX_CANDIDATES) {
        break;
      }
      lines.add(toIceCandidate(candidate).toSdp());
    }
    localDescription = new IceDescription(agent.getLocalUfrag(), agent.getLocalPassword(), lines);
    log.info("gathered {} candidate(s) in {} ms: {}", lines.size(), (System.nanoTime() - start) / 1_000_000, lines);
    if (lines.isEmpty()) {
      log.warn("no candidates to offer (relayOnly={}, iceServers={})", options.isRelayOnly(), options.getIceServers());
    }
  }

  /**
   * Starts ICE against {@code remote}: sets the remote credentials and candidates, then runs
   * connectivity checks. Gathers first if {@link #localDescription()} was not called. Call once.
   *
   * <p>Remote candidates this peer cannot use are skipped: component ≠ 1, non-UDP, an address
   * family (IPv4/IPv6) none of our candidates has, and in relay-only mode anything but relay
   * candidates.
   *
   * @return completes with the selected pair when ICE completes; fails with an
   *     {@link IceException}: {@link IceException.Reason#ICE_FAILED} when every pair failed,
   *     {@link IceException.Reason#TIMEOUT} after {@link IcePeerOptions#getConnectTimeoutMs()},
   *     {@link IceException.Reason#NO_LOCAL_CANDIDATES} / {@link IceException.Reason#NO_REMOTE_CANDIDATES}
   *     at once when there is nothing to pair, {@link IceException.Reason#CLOSED} on close
   * @throws IllegalStateException if called twice
   */
  public CompletableFuture<IceResult> connect(IceDescription remote) {
    Objects.requireNonNull(remote, "remote");
    CompletableFuture<IceResult> result;
    synchronized (lock) {
      requireOpen();
      if (connectFuture != null) {
        throw new IllegalStateException("connect() was already called on " + name());
      }
      connectFuture = new CompletableFuture<>();
      connectStartNanos = System.nanoTime();
      IceDescription local;
      try {
        local = localDescription();
      } catch (IceException e) {
        connectFuture.completeExceptionally(e);
        return connectFuture;
      }
      if (local.candidates().isEmpty()) {
        return fail(IceException.Reason.NO_LOCAL_CANDIDATES, "this peer has no candidates to offer"
            + (options.isRelayOnly() ? " (relay-only: did the TURN allocation fail?)" : ""));
      }
      IceMediaStream stream = component.getParentStream();
      stream.setRemoteUfrag(remote.ufrag());
      stream.setRemotePassword(remote.pwd());
      Set<Boolean> localFamilies = local.parsedCandidates().stream()
          .map(c -> IpLiteral.isIpv6(c.address().getAddress()))
          .collect(Collectors.toSet());
      int added = 0;
      for (IceCandidate candidate : remote.parsedCandidates()) {
        String skip = skipReason(candidate, localFamilies);
        if (skip != null) {
          log.debug("skipping remote candidate ({}): {}", skip, candidate);
          continue;
        }
        component.addRemoteCandidate(new RemoteCandidate(
            new TransportAddress(candidate.address(), Transport.UDP), component,
            CandidateType.parse(candidate.type()), candidate.foundation(), candidate.priority(), null, remote.ufrag()));
        added++;
      }
      if (added == 0) {
        return fail(IceException.Reason.NO_REMOTE_CANDIDATES, "the remote description has no usable candidate ("
            + remote.candidates().size() + " offered" + (options.isRelayOnly() ? ", relay-only accepts relay only" : "")
            + "): " + remote.candidates());
      }
      long timeoutMs = options.getConnectTimeoutMs();
      connectTimeout = TIMER.schedule(
          () -> fail(IceException.Reason.TIMEOUT, "ICE did not complete within " + timeoutMs + " ms (state "
              + agent.getState() + ", " + component.getRemoteCandidateCount() + " remote candidate(s))"),
          timeoutMs, TimeUnit.MILLISECONDS);
      agent.addStateChangeListener(stateListener);
      log.info("connecting as {} to {} remote candidate(s)", options.isControlling() ? "controlling" : "controlled", added);
      result = connectFuture;
    }
    // Outside our lock: ice4j fires state changes (which take our lock) while holding its own locks.
    if (!closed) {
      agent.startConnectivityEstablishment();
    }
    return result;
  }

  private String skipReason(IceCandidate candidate, Set<Boolean> localIpv6) {
    if (!localIpv6.contains(IpLiteral.isIpv6(candidate.address().getAddress()))) {
      return "no local candidate of its address family";
    }
    if (candidate.component() != 1) {
      return "component " + candidate.component();
    }
    if (!"udp".equals(candidate.transport())) {
      return "not udp";
    }
    if (options.isRelayOnly() && !candidate.isRelay()) {
      return "relay-only";
    }
    return null;
  }

  private void onIceStateChange(PropertyChangeEvent event) {
    if (!(event.getNewValue() instanceof IceProcessingState state)) {
      return;
    }
    log.debug("ICE state {}", state);
    switch (state) {
      case COMPLETED, TERMINATED -> onIceCompleted();
      case FAILED -> fail(IceException.Reason.ICE_FAILED, "every candidate pair failed ("
          + component.getRemoteCandidateCount() + " remote, " + component.getLocalCandidateCount() + " local candidate(s))");
      default -> { }
    }
  }

  private void onIceCompleted() {
    CandidatePair pair = component.getSelectedPair();
    IceResult result;
    synchronized (lock) {
      if (closed || connectFuture == null || connectFuture.isDone()) {
        return;
      }
      if (pair == null) {
        log.debug("ICE completed without a selected pair yet");
        return;
      }
      LocalCandidate local = pair.getLocalCandidate();
      RemoteCandidate remote = pair.getRemoteCandidate();
      boolean relayed = local.getType() == CandidateType.RELAYED_CANDIDATE
          || remote.getType() == CandidateType.RELAYED_CANDIDATE;
      result = new IceResult(
          relayed ? IceResult.TURN : IceResult.DIRECT,
          local.getType().toString(),
          remote.getType().toString(),
          (System.nanoTime() - connectStartNanos) / 1_000_000,
          socketAddress(local.getTransportAddress()),
          socketAddress(remote.getTransportAddress()));
      startReader();
      if (connectTimeout != null) {
        connectTimeout.cancel(false);
      }
    }
    log.info("ICE completed in {} ms: {} {} -> {} {} ({})", result.setupMs(), result.localType(), result.local(),
        result.remoteType(), result.remote(), result.path());
    connectFuture.complete(result);
  }

  private CompletableFuture<IceResult> fail(IceException.Reason reason, String message) {
    CompletableFuture<IceResult> future;
    synchronized (lock) {
      future = connectFuture;
      if (connectTimeout != null) {
        connectTimeout.cancel(false);
      }
    }
    if (future != null && future.completeExceptionally(new IceException(reason, "[" + name() + "] " + message))) {
      log.info("connect failed: {} {}", reason, message);
    }
    return future;
  }

  /** Whether ICE completed and the channel is open. */
  public boolean isConnected() {
    return dataSocket != null && !closed;
  }

  /**
   * Sets the handler for messages from the remote peer; may be called before {@link #connect}.
   * Each {@link #send} on the other side arrives here at most once, as a fresh array.
   */
  public IcePeer onMessage(Consumer<byte[]> handler) {
    this.messageHandler = handler;
    return this;
  }

  /**
   * Sends one datagram over the selected pair.
   *
   * @throws IllegalArgumentException if {@code payload} is null or longer than {@value #MAX_PAYLOAD_BYTES}
   * @throws IceException {@link IceException.Reason#NOT_CONNECTED} before ICE completed,
   *     {@link IceException.Reason#CLOSED} after close
   * @throws UncheckedIOException if the socket refuses the datagram
   */
  public void send(byte[] payload) {
    if (payload == null || payload.length > MAX_PAYLOAD_BYTES) {
      throw new IllegalArgumentException("payload must be 0-" + MAX_PAYLOAD_BYTES + " bytes");
    }
    byte[] frame = new byte[payload.length + 1];
    frame[0] = DATA;
    System.arraycopy(payload, 0, frame, 1, payload.length);
    sendFrame(frame);
  }

  private void sendFrame(byte[] frame) {
    MultiplexingDatagramSocket socket = dataSocket;
    if (closed) {
      throw new IceException(IceException.Reason.CLOSED, name() + " is closed");
    }
    if (socket == null) {
      throw new IceException(IceException.Reason.NOT_CONNECTED, name() + ": ICE has not completed");
    }
    try {
      socket.send(new DatagramPacket(frame, frame.length));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The median of {@value #DEFAULT_RTT_SAMPLES} ping/pong round trips, each retried up to {@value #RTT_ATTEMPTS} times. */
  public CompletableFuture<Duration> rtt() {
    return rtt(DEFAULT_RTT_SAMPLES, DEFAULT_RTT_ATTEMPT_TIMEOUT);
  }

  /**
   * Measures round trips over the selected pair: {@code samples} sequential pings, each answered by
   * the remote peer's reader thread with a pong. A ping unanswered after {@code attemptTimeout} is
   * sent again under a new id (a late pong for the old id is ignored), up to {@value #RTT_ATTEMPTS}
   * attempts; then the future fails with {@link IceException.Reason#RTT_TIMEOUT}. It cannot hang.
   *
   * @return the median sample
   */
  public CompletableFuture<Duration> rtt(int samples, Duration attemptTimeout) {
    if (samples < 1 || samples > 1000) {
      throw new IllegalArgumentException("samples must be 1-1000");
    }
    if (attemptTimeout == null || attemptTimeout.isNegative() || attemptTimeout.isZero()) {
      throw new IllegalArgumentException("attemptTimeout must be positive");
    }
    RttRun run = new RttRun(samples, attemptTimeout.toNanos());
    try {
      sendPing(run);
    } catch (RuntimeException e) {
      run.result.completeExceptionally(e);
    }
    return run.result;
  }

  private void sendPing(RttRun run) {
    long id = pingIds.incrementAndGet();
    Ping ping = new Ping(run, System.nanoTime());
    pings.put(id, ping);
    ping.timeout = TIMER.schedule(() -> onPingTimeout(id), run.attemptTimeoutNanos, TimeUnit.NANOSECONDS);
    if (closed) { // close() may have swept pings just before the put
      onClosedPing(id);
      return;
    }
    sendFrame(ByteBuffer.allocate(9).put(PING).putLong(id).array());
  }

  private void onPingTimeout(long id) {
    Ping ping = pings.remove(id);
    if (ping == null) {
      return; // answered meanwhile
    }
    RttRun run = ping.run;
    if (++run.attempts >= RTT_ATTEMPTS) {
      run.result.completeExceptionally(new IceException(IceException.Reason.RTT_TIMEOUT,
          name() + ": no pong after " + RTT_ATTEMPTS + " attempts of " + run.attemptTimeoutNanos / 1_000_000 + " ms"));
      return;
    }
    retry(run);
  }

  private void onPong(long id) {
    long now = System.nanoTime();
    Ping ping = pings.remove(id);
    if (ping == null) {
      return; // late pong of a retransmitted ping, or an unknown id
    }
    ping.timeout.cancel(false);
    RttRun run = ping.run;
    run.samples[run.taken++] = now - ping.sentNanos;
    run.attempts = 0;
    if (run.taken == run.samples.length) {
      long[] sorted = run.samples.clone();
      Arrays.sort(sorted);
      run.result.complete(Duration.ofNanos(sorted[sorted.length / 2]));
      return;
    }
    retry(run);
  }

  private void retry(RttRun run) {
    try {
      sendPing(run);
    } catch (RuntimeException e) {
      run.result.completeExceptionally(e);
    }
  }

  private void onClosedPing(long id) {
    Ping ping = pings.remove(id);
    if (ping != null) {
      ping.timeout.cancel(false);
      ping.run.result.completeExceptionally(new IceException(IceException.Reason.CLOSED, name() + " is closed"));
    }
  }

  /** Datagrams received that were not ours (unknown type, or data while no handler was set). */
  public long droppedDatagrams() {
    return dropped.get();
  }

  private void startReader() {
    if (reader != null) {
      return;
    }
    dataSocket = component.getSocket();
    reader = new Thread(this::readLoop, "switchboard-peer-rx-" + name());
    reader.setDaemon(true);
    reader.start();
  }

  private void readLoop() {
    MultiplexingDatagramSocket socket = dataSocket;
    byte[] buffer = new byte[MAX_DATAGRAM];
    DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
    while (!closed) {
      packet.setData(buffer, 0, buffer.length);
      try {
        socket.receive(packet);
      } catch (SocketClosedException e) {
        break;
      } catch (IOException e) {
        if (closed || socket.isClosed()) {
          break;
        }
        log.warn("receive failed: {}", e.toString());
        continue;
      }
      try {
        onDatagram(packet.getData(), packet.getOffset(), packet.getLength());
      } catch (RuntimeException e) {
        log.warn("message handler failed", e);
      }
    }
    log.debug("reader stopped");
  }

  private void onDatagram(byte[] data, int offset, int length) {
    if (length < 1) {
      dropped.incrementAndGet();
      return;
    }
    byte type = data[offset];
    if (type == DATA) {
      Consumer<byte[]> handler = messageHandler;
      if (handler == null) {
        dropped.incrementAndGet();
        return;
      }
      handler.accept(Arrays.copyOfRange(data, offset + 1, offset + length));
    } else if (type == PING && length == 9) {
      byte[] pong = Arrays.copyOfRange(data, offset, offset + length);
      pong[0] = PONG;
      try {
        sendFrame(pong);
      } catch (RuntimeException e) {
        log.debug("cannot answer ping: {}", e.toString());
      }
    } else if (type == PONG && length == 9) {
      onPong(ByteBuffer.wrap(data, offset + 1, 8).getLong());
    } else {
      dropped.incrementAndGet();
    }
  }

  /**
   * Stops ICE, frees the agent's sockets (deallocating TURN relays) and stops the reader thread.
   * Pending futures fail with {@link IceException.Reason#CLOSED}. Idempotent.
   */
  @Override
  public void close() {
    Thread readerThread;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      readerThread = reader;
    }
    fail(IceException.Reason.CLOSED, "closed before ICE completed");
    for (Long id : List.copyOf(pings.keySet())) {
      onClosedPing(id);
    }
    agent.removeStateChangeListener(stateListener);
    try {
      // Agent.free() shuts the STUN stack down before it frees the streams, so the TURN Refresh
      // with lifetime 0 that frees a relay allocation could not be sent anymore and the allocation
      // would linger on the server until it expires. Freeing the stream first sends it.
      IceMediaStream stream = agent.getStream(STREAM_NAME);
      if (stream != null) {
        agent.removeStream(stream);
      }
      agent.free(); // closes the remaining sockets, stops checks and keep-alives
    } catch (RuntimeException e) {
      log.warn("freeing the ice4j agent failed", e);
    }
    MultiplexingDatagramSocket socket = dataSocket;
    if (socket != null) {
      socket.close();
    }
    if (readerThread != null && readerThread != Thread.currentThread()) {
      try {
        readerThread.join(2_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    log.debug("closed");
  }

  private void requireOpen() {
    if (closed) {
      throw new IceException(IceException.Reason.CLOSED, name() + " is closed");
    }
  }

  private void addServerHarvesters() {
    for (IceServer server : options.getIceServers()) {
      for (IceServer.Url url : server.parsedUrls()) {
        if (!url.isSupported()) {
          log.warn("ignoring {}:{}:{} transport={}: ice4j here does STUN and TURN over UDP only",
              url.scheme(), url.host(), url.port(), url.transport());
          continue;
        }
        if (options.isRelayOnly() && !url.isTurn()) {
          continue; // relay-only: server-reflexive candidates would be of no use
        }
        // Literals never touch DNS; a host name is resolved here, once, like any configured server name.
        TransportAddress address = new TransportAddress(url.host(), url.port(), Transport.UDP);
        if (address.isUnresolved()) {
          throw new IllegalArgumentException("cannot resolve ice server host " + url.host());
        }
        if (url.isTurn()) {
          agent.addCandidateHarvester(new TurnCandidateHarvester(
              address, new LongTermCredential(server.username(), server.credential())));
        } else {
          agent.addCandidateHarvester(new StunCandidateHarvester(address));
        }
      }
    }
  }

  private static IceCandidate toIceCandidate(LocalCandidate candidate) {
    TransportAddress related = candidate.getType() == CandidateType.HOST_CANDIDATE ? null : candidate.getRelatedAddress();
    return new IceCandidate(
        candidate.getFoundation(),
        candidate.getParentComponent().getComponentID(),
        "udp",
        candidate.getPriority(),
        socketAddress(candidate.getTransportAddress()),
        candidate.getType().toString(),
        related == null ? null : socketAddress(related));
  }

  private static InetSocketAddress socketAddress(TransportAddress address) {
    return new InetSocketAddress(address.getAddress(), address.getPort());
  }

  private static ScheduledThreadPoolExecutor newTimer() {
    ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "switchboard-peer-timer");
      t.setDaemon(true);
      return t;
    });
    timer.setRemoveOnCancelPolicy(true);
    timer.setKeepAliveTime(1, TimeUnit.SECONDS);
    timer.allowCoreThreadTimeOut(true);
    return timer;
  }

  /** One rtt() call; fields are touched by one thread at a time (sends, then the pong or the timeout). */
  private static final class RttRun {
    final CompletableFuture<Duration> result = new CompletableFuture<>();
    final long[] samples;
    final long attemptTimeoutNanos;
    volatile int taken;
    volatile int attempts;

    RttRun(int samples, long attemptTimeoutNanos) {
      this.samples = new long[samples];
      this.attemptTimeoutNanos = attemptTimeoutNanos;
    }
  }

  private static final class Ping {
    final RttRun run;
    final long sentNanos;
    volatile ScheduledFuture<?> timeout;

    Ping(RttRun run, long sentNanos) {
      this.run = run;
      this.sentNanos = sentNanos;
    }
  }
}
