package io.switchboard.signaling.stun;

import io.netty.util.NetUtil;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramPacket;
import io.vertx.core.datagram.DatagramSocket;
import org.ice4j.StunException;
import org.ice4j.attribute.Attribute;
import org.ice4j.attribute.AttributeFactory;
import org.ice4j.attribute.ErrorCodeAttribute;
import org.ice4j.attribute.OptionalAttribute;
import org.ice4j.attribute.UnknownAttributesAttribute;
import org.ice4j.attribute.XorMappedAddressAttribute;
import org.ice4j.message.Message;
import org.ice4j.message.MessageFactory;
import org.ice4j.message.Request;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;

/**
 * A small STUN client on a Vert.x {@link DatagramSocket}: Binding requests with RFC 5389
 * retransmission (RTO 500 ms, doubled after each try), answers matched by transaction id.
 * <p>
 * The probe takes over the socket's packet handler; datagrams that are not an answer to one of
 * its transactions are ignored. Answers are accepted from any address, since a CHANGE-REQUEST
 * answer comes from another server socket by design.
 */
public final class StunProbe {

  /** RFC 5389 §7.2.1's initial RTO. */
  public static final long DEFAULT_RTO_MS = 500;
  /** Tries per transaction: sent at 0, 0.5, 1.5 and 3.5 s, given up at 7.5 s. */
  public static final int DEFAULT_TRANSMISSIONS = 4;

  private static final SecureRandom RANDOM = new SecureRandom();

  /**
   * One Binding answer: the XOR-MAPPED-ADDRESS, RESPONSE-ORIGIN and OTHER-ADDRESS (both null when
   * absent), and {@code from}, where the answer's datagram actually came from (RESPONSE-ORIGIN
   * differs from it behind a NAT in front of the server).
   */
  public record Binding(InetSocketAddress mapped, InetSocketAddress responseOrigin, InetSocketAddress otherAddress,
                        InetSocketAddress from) {
  }

  /** The server answered with a Binding error response. */
  public static final class ErrorResponseException extends RuntimeException {

    private final int code;
    private final List<Integer> unknownAttributes;

    ErrorResponseException(int code, String reason, List<Integer> unknownAttributes) {
      super("STUN error " + code + (reason == null ? "" : " (" + reason + ")")
        + (unknownAttributes.isEmpty() ? "" : ", unknown attributes " + unknownAttributes));
      this.code = code;
      this.unknownAttributes = List.copyOf(unknownAttributes);
    }

    public int code() {
      return code;
    }

    /** UNKNOWN-ATTRIBUTES of a 420, empty otherwise. */
    public List<Integer> unknownAttributes() {
      return unknownAttributes;
    }
  }

  private final Vertx vertx;
  private final DatagramSocket socket;
  private final long rtoMs;
  private final int transmissions;
  private final Map<ByteBuffer, Transaction> pending = new ConcurrentHashMap<>();

  public StunProbe(Vertx vertx, DatagramSocket socket) {
    this(vertx, socket, DEFAULT_RTO_MS, DEFAULT_TRANSMISSIONS);
  }

  public StunProbe(Vertx vertx, DatagramSocket socket, long rtoMs, int transmissions) {
    if (rtoMs < 1 || transmissions < 1) {
      throw new IllegalArgumentException("rtoMs and transmissions must be >= 1");
    }
    this.vertx = vertx;
    this.socket = socket;
    this.rtoMs = rtoMs;
    this.transmissions = transmissions;
    socket.handler(this::onPacket);
  }

  /** The XOR-MAPPED-ADDRESS {@code server} reports for this socket. */
  public Future<InetSocketAddress> mappedAddress(InetSocketAddress server) {
    return bind(server).map(Binding::mapped);
  }

  public Future<Binding> bind(InetSocketAddress server) {
    return bind(server, false, false);
  }

  /**
   * One Binding transaction; with a change flag set the request carries CHANGE-REQUEST (RFC 5780
   * §7.2), which only a two-address server honours (a single-address one answers 420). Fails with
   * {@link ErrorResponseException} on an error response, {@link TimeoutException} when no answer
   * came.
   */
  public Future<Binding> bind(InetSocketAddress server, boolean changeIp, boolean changePort) {
    byte[] transactionId = new byte[12];
    RANDOM.nextBytes(transactionId);
    Request request = MessageFactory.createBindingRequest();
    try {
      request.setTransactionID(transactionId);
    } catch (StunException e) {
      return Future.failedFuture(e);
    }
    if (changeIp || changePort) {
      request.putAttribute(AttributeFactory.createChangeRequestAttribute(changeIp, changePort));
    }
    request.putAttribute(AttributeFactory.createSoftwareAttribute(BindingHandler.SOFTWARE.getBytes(StandardCharsets.US_ASCII)));
    request.putAttribute(AttributeFactory.createFingerprintAttribute());
    Transaction tx = new Transaction(ByteBuffer.wrap(transactionId), server, Buffer.buffer(request.encode(null)));
    pending.put(tx.key, tx);
    transmit(tx, 0);
    return tx.promise.future();
  }

  /**
   * RFC 5780 §4.3 against a two-address server: test I at {@code server}, test II at the
   * OTHER-ADDRESS's IP with {@code server}'s port, test III at OTHER-ADDRESS if needed. Fails with
   * {@link IllegalStateException} when the server announces no OTHER-ADDRESS.
   */
  public Future<MappingBehaviour> mappingBehaviour(InetSocketAddress server) {
    return bind(server).compose(test1 -> {
      InetSocketAddress other = test1.otherAddress();
      if (other == null) {
        return Future.failedFuture(new IllegalStateException(
          server + " sent no OTHER-ADDRESS (a single-address server): compare its two ports instead"));
      }
      return bind(new InetSocketAddress(other.getAddress(), server.getPort())).compose(test2 ->
        test2.mapped().equals(test1.mapped())
          ? Future.succeededFuture(MappingBehaviour.ENDPOINT_INDEPENDENT)
          : bind(other).map(test3 -> MappingBehaviour.rfc5780(test1.mapped(), test2.mapped(), test3.mapped())));
    });
  }

  /** Against a single-address server: compares the mappings seen by its port and its alt port. */
  public Future<MappingBehaviour> mappingBehaviour(InetSocketAddress server, InetSocketAddress altPort) {
    return bind(server).compose(first -> bind(altPort)
      .map(second -> MappingBehaviour.acrossPorts(first.mapped(), second.mapped())));
  }

  private void transmit(Transaction tx, int attempt) {
    if (pending.get(tx.key) != tx) {
      return;
    }
    if (attempt == transmissions) {
      if (pending.remove(tx.key, tx)) {
        tx.promise.tryFail(new TimeoutException("no STUN answer from " + tx.server + " after " + transmissions + " tries"));
      }
      return;
    }
    // The timer first: an answer can arrive (on the socket's thread) before send() returns to a
    // caller on another thread, and must find the timer it cancels.
    tx.timer = vertx.setTimer(rtoMs << attempt, id -> transmit(tx, attempt + 1));
    // a failed send is a lost packet: the next timer retransmits
    socket.send(tx.request, tx.server.getPort(), tx.server.getAddress().getHostAddress());
  }

  private void onPacket(DatagramPacket packet) {
    byte[] data = packet.data().getBytes();
    if (data.length < StunWire.HEADER_LENGTH || data.length > BindingHandler.MAX_DATAGRAM) {
      return;
    }
    int type = StunWire.u16(data, 0);
    if (type != StunWire.BINDING_SUCCESS && type != StunWire.BINDING_ERROR) {
      return;
    }
    ByteBuffer key = ByteBuffer.wrap(data, 8, 12).slice();
    Transaction tx = pending.get(key);
    if (tx == null) {
      return;
    }
    Message response;
    try {
      response = Message.decode(data, 0, data.length);
    } catch (StunException | RuntimeException e) {
      return; // not a valid answer: a retransmission may still bring one
    }
    if (!pending.remove(key, tx)) {
      return;
    }
    vertx.cancelTimer(tx.timer);
    InetAddress from = NetUtil.createInetAddressFromIpAddressString(packet.sender().hostAddress());
    complete(tx, type, response, new InetSocketAddress(from, packet.sender().port()));
  }

  private static void complete(Transaction tx, int type, Message response, InetSocketAddress from) {
    for (Attribute attribute : response.getAttributes()) {
      if (attribute.getAttributeType() < 0x8000 && attribute instanceof OptionalAttribute) {
        // RFC 5389 §7.3.3/§7.3.4: an unknown comprehension-required attribute fails the transaction
        tx.promise.tryFail(new IllegalStateException(String.format(
          "answer from %s carries unknown attribute 0x%04x", tx.server, (int) attribute.getAttributeType())));
        return;
      }
    }
    if (type == StunWire.BINDING_ERROR) {
      ErrorCodeAttribute error = (ErrorCodeAttribute) response.getAttribute(Attribute.ERROR_CODE);
      List<Integer> unknown = new ArrayList<>();
      if (response.getAttribute(Attribute.UNKNOWN_ATTRIBUTES) instanceof UnknownAttributesAttribute list) {
        for (Iterator<Character> it = list.getAttributes(); it.hasNext(); ) {
          unknown.add((int) it.next());
        }
      }
      tx.promise.tryFail(error == null
        ? new IllegalStateException("error response from " + tx.server + " without ERROR-CODE")
        : new ErrorResponseException(error.getErrorCode(), error.getReasonPhrase(), unknown));
      return;
    }
    if (!(response.getAttribute(Attribute.XOR_MAPPED_ADDRESS) instanceof XorMappedAddressAttribute xor)) {
      tx.promise.tryFail(new IllegalStateException("answer from " + tx.server + " without XOR-MAPPED-ADDRESS"));
      return;
    }
    InetSocketAddress mapped = xor.getAddress(response.getTransactionID());
    tx.promise.tryComplete(new Binding(new InetSocketAddress(mapped.getAddress(), mapped.getPort()),
      address(response, StunWire.RESPONSE_ORIGIN), address(response, StunWire.OTHER_ADDRESS), from));
  }

  private static InetSocketAddress address(Message response, char type) {
    return response.getAttribute(type) instanceof OptionalAttribute raw ? StunWire.decodeAddress(raw.getBody()) : null;
  }

  private static final class Transaction {
    final ByteBuffer key;
    final InetSocketAddress server;
    final Buffer request;
    final Promise<Binding> promise = Promise.promise();
    volatile long timer;

    Transaction(ByteBuffer key, InetSocketAddress server, Buffer request) {
      this.key = key;
      this.server = server;
      this.request = request;
    }
  }
}
