package io.switchboard.signaling.stun;

import org.ice4j.StunException;
import org.ice4j.Transport;
import org.ice4j.TransportAddress;
import org.ice4j.attribute.AttributeFactory;
import org.ice4j.attribute.ErrorCodeAttribute;
import org.ice4j.message.Message;
import org.ice4j.message.MessageFactory;
import org.ice4j.message.Request;
import org.ice4j.message.Response;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The STUN service without sockets: one datagram in, one {@link Outcome} out (a response and the
 * socket to send it from, or a reason to drop). Everything from the network is hostile, so
 * {@link #handle} never throws and never reads past the datagram.
 * <p>
 * Sockets are numbered as {@link StunServer#endpoints()} lists them: 0 = A1:P1, 1 = A1:P2,
 * 2 = A2:P1, 3 = A2:P2. Changing the port flips bit 0 of the index, changing the IP flips bit 1
 * (RFC 5780 §6.1, Table 1).
 */
final class BindingHandler {

  /**
   * Datagrams longer than this are dropped unparsed. RFC 5389 §7.1 wants messages that fit the
   * path MTU (576 bytes when unknown): no legitimate request comes near an Ethernet frame.
   */
  static final int MAX_DATAGRAM = 1500;

  /** RFC 5389 §7.3.1.1: a server SHOULD add SOFTWARE. Short on purpose (amplification). */
  static final String SOFTWARE = "Switchboard";

  /**
   * Comprehension-required attributes a Binding request may carry that this server understands
   * (and, being unauthenticated, ignores): RFC 8489's own, and ICE's (RFC 8445 §16.1) for agents
   * that send checks here. CHANGE-REQUEST is understood only with two addresses. Any other type
   * below 0x8000 gets 420 (RFC 5389 §7.3.1) - including RFC 5780's PADDING and RESPONSE-PORT,
   * whose support is optional (§5 tells clients to expect 420).
   */
  private static final Set<Character> UNDERSTOOD = Set.of(
    (char) 0x0001, // MAPPED-ADDRESS (unexpected in a request: ignored)
    (char) 0x0006, // USERNAME
    (char) 0x0008, // MESSAGE-INTEGRITY
    (char) 0x0009, // ERROR-CODE
    (char) 0x000A, // UNKNOWN-ATTRIBUTES
    (char) 0x0014, // REALM
    (char) 0x0015, // NONCE
    (char) 0x001C, // MESSAGE-INTEGRITY-SHA256
    (char) 0x001D, // PASSWORD-ALGORITHM
    (char) 0x001E, // USERHASH
    (char) 0x0020, // XOR-MAPPED-ADDRESS
    (char) 0x0024, // PRIORITY
    (char) 0x0025  // USE-CANDIDATE
  );

  enum Result {
    /** RATE_LIMITED is decided before the handler, by the server's per-source limit. */
    ANSWERED, ERROR, DROPPED, RATE_LIMITED;

    /** The metric tag value. */
    String tag() {
      return name().toLowerCase();
    }
  }

  /**
   * What to do with one datagram: send {@code response} from socket {@code sendFrom}, or drop it
   * ({@code response == null}) for {@code reason}. {@code unexpected} marks a drop caused by an
   * exception we did not foresee: worth a (rate-limited) warning, since it means a bug here or in
   * ice4j rather than a bad packet.
   */
  record Outcome(Result result, byte[] response, int sendFrom, String reason, Throwable unexpected) {

    static Outcome drop(String reason) {
      return new Outcome(Result.DROPPED, null, -1, reason, null);
    }

    static Outcome rateLimited() {
      return new Outcome(Result.RATE_LIMITED, null, -1, "over the per-source rate", null);
    }
  }

  private final List<InetSocketAddress> endpoints;
  private final boolean rfc5780;

  /** {@code endpoints}: 2 (one address) or 4 (two addresses), in {@link StunServer#endpoints()} order. */
  BindingHandler(List<InetSocketAddress> endpoints) {
    if (endpoints.size() != 2 && endpoints.size() != 4) {
      throw new IllegalArgumentException("need 2 or 4 endpoints, got " + endpoints);
    }
    this.endpoints = List.copyOf(endpoints);
    this.rfc5780 = endpoints.size() == 4;
  }

  /**
   * Loads ice4j's codec classes and its configuration (jitsi config, read on the first encode:
   * 0.3-0.8 s). Blocks: call it off the event loop.
   */
  static void warmUp() {
    InetSocketAddress local = new InetSocketAddress(InetAddress.getLoopbackAddress(), 9);
    BindingHandler handler = new BindingHandler(List.of(local, local));
    Request request = MessageFactory.createBindingRequest();
    try {
      request.setTransactionID(new byte[12]);
    } catch (StunException e) {
      throw new IllegalStateException(e);
    }
    Outcome outcome = handler.handle(request.encode(null), local, 0);
    if (outcome.result() != Result.ANSWERED) {
      throw new IllegalStateException("STUN codec warm-up failed: " + outcome.reason(), outcome.unexpected());
    }
  }

  /** Handles {@code datagram} from {@code source} that arrived on socket {@code arrivedOn}. Never throws. */
  Outcome handle(byte[] datagram, InetSocketAddress source, int arrivedOn) {
    try {
      return decide(datagram, source, arrivedOn);
    } catch (RuntimeException | LinkageError e) {
      return new Outcome(Result.DROPPED, null, -1, "unexpected " + e, e);
    }
  }

  private Outcome decide(byte[] datagram, InetSocketAddress source, int arrivedOn) {
    int length = datagram.length;
    if (length > MAX_DATAGRAM) {
      return Outcome.drop("oversized (" + length + " bytes)");
    }
    List<StunWire.Tlv> attributes = StunWire.frame(datagram, length);
    if (attributes == null) {
      // RFC 5389 §7.3: a message that breaks the rules of §6 is silently discarded
      return Outcome.drop("not a well-framed STUN message");
    }
    char type = (char) StunWire.u16(datagram, 0);
    if (type != StunWire.BINDING_REQUEST) {
      // RFC 5389 §7.3: an unsupported method (Allocate, ...) or a class we do not serve
      // (indications, responses) is silently discarded
      return Outcome.drop(String.format("message type 0x%04x is not a Binding request", (int) type));
    }

    Message decoded;
    try {
      // also checks FINGERPRINT's CRC (RFC 5389 §7.3: a wrong one is silently discarded)
      decoded = Message.decode(datagram, 0, length);
    } catch (StunException e) {
      return Outcome.drop("ice4j rejected it: " + e.getMessage());
    } catch (RuntimeException e) {
      // a well-framed message whose attribute values ice4j cannot read (e.g. a 0-byte address)
      return Outcome.drop("ice4j could not decode it: " + e);
    }
    if (!(decoded instanceof Request request)) {
      return Outcome.drop("ice4j did not decode a request");
    }

    List<Character> unknown = new ArrayList<>();
    StunWire.Tlv changeRequest = null;
    boolean afterIntegrity = false;
    for (StunWire.Tlv attribute : attributes) {
      char t = attribute.type();
      if (afterIntegrity && t != StunWire.FINGERPRINT) {
        continue; // RFC 8489 §14.5/§14.6: attributes after MESSAGE-INTEGRITY are ignored
      }
      if (t == StunWire.MESSAGE_INTEGRITY || t == StunWire.MESSAGE_INTEGRITY_SHA256) {
        afterIntegrity = true;
      }
      if (t == StunWire.CHANGE_REQUEST && rfc5780) {
        if (changeRequest == null) {
          changeRequest = attribute; // RFC 8489 §14: only the first occurrence counts
        }
      } else if (t < 0x8000 && !UNDERSTOOD.contains(t) && !unknown.contains(t)) {
        // Without a second address CHANGE-REQUEST lands here: RFC 5780 §6 "If a server cannot
        // allocate the same ports on two different IP address, then it [...] MUST respond with a
        // 420 (Unknown Attribute) to any Request with a CHANGE-REQUEST attribute" (and §6.1) -
        // even one asking only for a port change.
        unknown.add(t);
      }
    }
    if (!unknown.isEmpty()) {
      Response response = MessageFactory.createBindingErrorResponse(ErrorCodeAttribute.UNKNOWN_ATTRIBUTE, "Unknown Attribute");
      response.putAttribute(StunWire.unknownAttributes(unknown));
      return error(request, response, arrivedOn);
    }

    int sendFrom = arrivedOn;
    if (changeRequest != null) {
      if (changeRequest.length() != 4) {
        return error(request, MessageFactory.createBindingErrorResponse(
          ErrorCodeAttribute.BAD_REQUEST, "CHANGE-REQUEST must be 4 bytes"), arrivedOn);
      }
      int flags = datagram[changeRequest.valueOffset() + 3];
      if ((flags & StunWire.CHANGE_IP) != 0) {
        sendFrom ^= 2;
      }
      if ((flags & StunWire.CHANGE_PORT) != 0) {
        sendFrom ^= 1;
      }
    }
    return answer(request, source, arrivedOn, sendFrom);
  }

  private Outcome answer(Request request, InetSocketAddress source, int arrivedOn, int sendFrom) {
    TransportAddress mapped = new TransportAddress(source.getAddress(), source.getPort(), Transport.UDP);
    Response response = MessageFactory.createBindingResponse(request, mapped);
    if (rfc5780) {
      // RFC 5780 §6.1: "The server MUST include both MAPPED-ADDRESS and XOR-MAPPED-ADDRESS", plus
      // RESPONSE-ORIGIN and OTHER-ADDRESS (Ca:Cp, "regardless of the value of the CHANGE-REQUEST
      // flags"). Without a second address they serve no test a client can run, and every byte
      // past XOR-MAPPED-ADDRESS is amplification a spoofed request gets for free: left out.
      response.putAttribute(AttributeFactory.createMappedAddressAttribute(mapped));
      response.putAttribute(StunWire.addressAttribute(StunWire.RESPONSE_ORIGIN, endpoints.get(sendFrom)));
      response.putAttribute(StunWire.addressAttribute(StunWire.OTHER_ADDRESS, endpoints.get(arrivedOn ^ 3)));
    }
    return new Outcome(Result.ANSWERED, encode(request, response), sendFrom, null, null);
  }

  private Outcome error(Request request, Response response, int arrivedOn) {
    return new Outcome(Result.ERROR, encode(request, response), arrivedOn, null, null);
  }

  private static byte[] encode(Request request, Response response) {
    try {
      response.setTransactionID(request.getTransactionID());
    } catch (StunException e) {
      throw new IllegalStateException("ice4j refused the transaction id it decoded", e);
    }
    // our own SOFTWARE keeps ice4j from adding its default ("ice4j.org")
    response.putAttribute(AttributeFactory.createSoftwareAttribute(SOFTWARE.getBytes(StandardCharsets.US_ASCII)));
    response.putAttribute(AttributeFactory.createFingerprintAttribute());
    // the StunStack argument is only read by MESSAGE-INTEGRITY, which an unauthenticated server
    // never adds; FINGERPRINT's CRC needs only the bytes
    return response.encode(null);
  }
}
