package io.switchboard.signaling.stun;

import io.switchboard.signaling.stun.BindingHandler.Outcome;
import io.switchboard.signaling.stun.BindingHandler.Result;
import io.switchboard.signaling.stun.StunBytes.Attr;
import org.ice4j.attribute.Attribute;
import org.ice4j.attribute.XorMappedAddressAttribute;
import org.ice4j.message.Message;
import org.ice4j.message.MessageFactory;
import org.ice4j.message.Request;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;

import static io.switchboard.signaling.stun.StunBytes.bindingRequest;
import static io.switchboard.signaling.stun.StunBytes.bytes;
import static io.switchboard.signaling.stun.StunBytes.hex;
import static org.assertj.core.api.Assertions.assertThat;

/** The socket-free core: golden bytes for answers, and what is answered, refused or dropped. */
class BindingHandlerTest {

  static final InetSocketAddress A1P1 = new InetSocketAddress("127.0.0.1", 3490);
  static final InetSocketAddress A1P2 = new InetSocketAddress("127.0.0.1", 3491);
  static final InetSocketAddress A2P1 = new InetSocketAddress("127.0.0.2", 3490);
  static final InetSocketAddress A2P2 = new InetSocketAddress("127.0.0.2", 3491);
  static final List<InetSocketAddress> TWO = List.of(A1P1, A1P2, A2P1, A2P2);
  static final InetSocketAddress CLIENT = new InetSocketAddress("127.0.0.1", 40000);

  final BindingHandler one = new BindingHandler(List.of(A1P1, A1P2));
  final BindingHandler two = new BindingHandler(TWO);

  @BeforeAll
  static void warmUp() {
    StunTestBase.routeJulToSlf4j();
    BindingHandler.warmUp();
  }

  @Test
  void goldenBindingResponse() {
    Outcome outcome = one.handle(bindingRequest().build(), CLIENT, 0);

    assertThat(outcome.result()).isEqualTo(Result.ANSWERED);
    assertThat(outcome.sendFrom()).isZero();
    byte[] expected = hex("""
      0101 0024 2112a442 0102030405060708090a0b0c
      0020 0008 0001 bd52 5e12a443
      8022 000b 5377697463686 26f617264 00
      8028 0004 00000000""");
    ByteBuffer.wrap(expected).putInt(expected.length - 4, StunBytes.crc(expected, expected.length - 8));
    // XOR-MAPPED-ADDRESS: port 40000 ^ 0x2112, 127.0.0.1 ^ magic cookie (RFC 5389 §15.2);
    // SOFTWARE padded; FINGERPRINT last. Nothing else with one address: no RFC 5780 attributes
    // (issue 12, finding 7: a 20-byte request got 68 bytes, now 56)
    assertThat(hex(outcome.response())).isEqualTo(hex(expected));
    assertThat(outcome.response()).hasSize(56);
  }

  @Test
  void answerDecodesWithIce4jAndEchoesTheTransactionId() throws Exception {
    Request request = MessageFactory.createBindingRequest();
    request.setTransactionID(bytes(9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2));
    InetSocketAddress ipv6Client = new InetSocketAddress("2001:db8::7", 5555);

    Outcome outcome = one.handle(request.encode(null), ipv6Client, 1);

    Message response = Message.decode(outcome.response(), 0, outcome.response().length);
    assertThat(response.getMessageType()).isEqualTo(Message.BINDING_SUCCESS_RESPONSE);
    assertThat(response.getTransactionID()).isEqualTo(request.getTransactionID());
    XorMappedAddressAttribute xor = (XorMappedAddressAttribute) response.getAttribute(Attribute.XOR_MAPPED_ADDRESS);
    assertThat(xor.getAddress(response.getTransactionID())).isEqualTo(ipv6Client);
    assertThat(response.getAttribute(Attribute.MAPPED_ADDRESS)).as("only with RFC 5780").isNull();
  }

  @Test
  void rfc5780GoldenAttributes() {
    Outcome outcome = two.handle(bindingRequest().changeRequest(true, true).build(), CLIENT, 0);

    assertThat(outcome.result()).isEqualTo(Result.ANSWERED);
    assertThat(outcome.sendFrom()).isEqualTo(3);
    assertThat(StunBytes.attributes(outcome.response()))
      .extracting(Attr::type)
      .containsExactly(0x0020, 0x0001, 0x802B, 0x802C, 0x8022, 0x8028);
    // RESPONSE-ORIGIN 127.0.0.2:3491, OTHER-ADDRESS 127.0.0.2:3491 (MAPPED-ADDRESS format)
    assertThat(hex(rawValue(outcome, StunWire.RESPONSE_ORIGIN))).isEqualTo("00010da37f000002");
    assertThat(hex(rawValue(outcome, StunWire.OTHER_ADDRESS))).isEqualTo("00010da37f000002");
  }

  /** RFC 5780 §6.1 Table 1, from every socket with every flag combination. */
  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2, 3})
  void changeRequestPicksTheSocketAndOtherAddressStaysCaCp(int arrivedOn) {
    for (boolean ip : new boolean[] {false, true}) {
      for (boolean port : new boolean[] {false, true}) {
        Outcome outcome = two.handle(bindingRequest().changeRequest(ip, port).build(), CLIENT, arrivedOn);

        int expectedFrom = arrivedOn ^ (ip ? 2 : 0) ^ (port ? 1 : 0);
        assertThat(outcome.result()).isEqualTo(Result.ANSWERED);
        assertThat(outcome.sendFrom()).as("ip=%s port=%s", ip, port).isEqualTo(expectedFrom);
        assertThat(StunWire.decodeAddress(rawValue(outcome, StunWire.RESPONSE_ORIGIN))).isEqualTo(TWO.get(expectedFrom));
        assertThat(StunWire.decodeAddress(rawValue(outcome, StunWire.OTHER_ADDRESS))).isEqualTo(TWO.get(arrivedOn ^ 3));
      }
    }
  }

  @Test
  void oneAddressHasNoOtherAddress() {
    Outcome outcome = one.handle(bindingRequest().build(), CLIENT, 0);

    assertThat(StunBytes.attributes(outcome.response())).extracting(Attr::type).doesNotContain(0x802C);
  }

  /** RFC 5780 §6: without a second address, any CHANGE-REQUEST (even port only, even no flags) is 420. */
  @ParameterizedTest
  @ValueSource(ints = {0, 2, 4, 6})
  void oneAddressRefusesChangeRequestWith420(int flags) {
    Outcome outcome = one.handle(bindingRequest().attribute(0x0003, bytes(0, 0, 0, flags)).build(), CLIENT, 1);

    assertThat(outcome.result()).isEqualTo(Result.ERROR);
    assertThat(outcome.sendFrom()).isEqualTo(1);
    assertError(outcome, 420, "0003");
  }

  @Test
  void unknownComprehensionRequiredAttributesGet420ListingEachOnce() {
    byte[] request = bindingRequest()
      .attribute(0x0027, bytes(0x12, 0x34, 0, 0)) // RESPONSE-PORT: optional in RFC 5780, not supported
      .attribute(0x0026, new byte[8])             // PADDING: not supported (it would amplify)
      .attribute(0x0027, bytes(0x12, 0x34, 0, 0))
      .attribute(0x8123)                          // unknown comprehension-optional: ignored
      .build();

    Outcome outcome = two.handle(request, CLIENT, 2);

    assertThat(outcome.result()).isEqualTo(Result.ERROR);
    assertThat(outcome.sendFrom()).isEqualTo(2);
    assertError(outcome, 420, "00270026");
  }

  /** RFC 5389 §15.9: an odd list is padded like any value, not by repeating an entry (RFC 3489). */
  @Test
  void unknownAttributesUseRfc5389Padding() {
    Outcome outcome = one.handle(bindingRequest().attribute(0x7FFF).build(), CLIENT, 0);

    int at = hex(outcome.response()).indexOf("000a0002");
    assertThat(at).isPositive();
    assertThat(hex(outcome.response()).substring(at, at + 16)).isEqualTo("000a00027fff0000");
  }

  @Test
  void understoodAndOptionalAttributesAreIgnored() {
    byte[] request = bindingRequest()
      .attribute(0x0006, "user:name".getBytes())   // USERNAME
      .attribute(0x0024, bytes(0x6e, 0, 0x1e, 0xff)) // PRIORITY
      .attribute(0x0025)                             // USE-CANDIDATE
      .attribute(0x802A, new byte[8])                // ICE-CONTROLLING
      .attribute(0x8022, "some client".getBytes())   // SOFTWARE
      .attribute(0xC001, bytes(1, 2, 3))             // unknown comprehension-optional
      .fingerprint()
      .build();

    assertThat(one.handle(request, CLIENT, 0).result()).isEqualTo(Result.ANSWERED);
  }

  /** RFC 8489 §14.5: attributes after MESSAGE-INTEGRITY (except FINGERPRINT) are ignored. */
  @Test
  void attributesAfterMessageIntegrityAreIgnored() {
    byte[] request = bindingRequest()
      .attribute(0x0006, "u".getBytes())
      .attribute(0x0008, new byte[20])
      .attribute(0x0027, bytes(0, 1, 0, 0))
      .fingerprint()
      .build();

    assertThat(one.handle(request, CLIENT, 0).result()).isEqualTo(Result.ANSWERED);
  }

  @Test
  void malformedChangeRequestIs400() {
    Outcome outcome = two.handle(bindingRequest().attribute(0x0003, new byte[8]).build(), CLIENT, 0);

    assertThat(outcome.result()).isEqualTo(Result.ERROR);
    assertError(outcome, 400, null);
  }

  /** RFC 8489 §14: only the first occurrence of an attribute counts. */
  @Test
  void firstChangeRequestWins() {
    byte[] request = bindingRequest().changeRequest(false, true).changeRequest(true, false).build();

    assertThat(two.handle(request, CLIENT, 0).sendFrom()).isEqualTo(1);
  }

  /** Issue 12, finding 7: with one address an answer carries only what a client reads. */
  @Test
  void oneAddressAnswersCarryNoRfc5780Attributes() {
    Outcome outcome = one.handle(bindingRequest().build(), CLIENT, 1);

    assertThat(StunBytes.attributes(outcome.response())).extracting(Attr::type)
      .containsExactly(0x0020, 0x8022, 0x8028);
  }

  @Test
  void sizeLimit() {
    // 20 + 4 + 1476 = 1500 bytes: answered; one more attribute byte (padded) is over the limit
    assertThat(one.handle(bindingRequest().attribute(0x8123, new byte[1476]).build(), CLIENT, 0).result())
      .isEqualTo(Result.ANSWERED);
    Outcome over = one.handle(bindingRequest().attribute(0x8123, new byte[1477]).build(), CLIENT, 0);
    assertThat(over.result()).isEqualTo(Result.DROPPED);
    assertThat(over.reason()).startsWith("oversized");
  }

  @Test
  void dropsWhatIsNotAWellFormedBindingRequest() {
    byte[] valid = bindingRequest().attribute(0x8022, bytes(1, 2, 3, 4)).build();
    assertDropped(new byte[0]);
    assertDropped(new byte[19]);
    assertDropped(copyWith(valid, 0, 0x40));                       // first two bits not zero
    assertDropped(bindingRequest().cookie(0x2112A443).build());    // wrong magic cookie
    assertDropped(copyWith(valid, 3, valid[3] + 1));               // length not a multiple of 4
    assertDropped(copyWith(valid, 3, valid[3] + 4));               // length says more than arrived
    assertDropped(copyWith(valid, 3, valid[3] - 4));               // length says less than arrived
    assertDropped(copyWith(valid, 23, 9));                         // attribute longer than the message
    assertDropped(StunBytes.message(0x0003).build());              // Allocate: unsupported method
    assertDropped(StunBytes.message(0x0011).build());              // Binding indication
    assertDropped(StunBytes.message(0x0101).build());              // Binding success response
    assertDropped(StunBytes.message(0x0111).build());              // Binding error response
    byte[] fingerprinted = bindingRequest().fingerprint().build();
    assertDropped(copyWith(fingerprinted, fingerprinted.length - 1, fingerprinted[fingerprinted.length - 1] ^ 1));
    assertDropped(bindingRequest().attribute(0x8028, new byte[4]).attribute(0x8022, bytes(1)).build()); // FINGERPRINT not last
    assertDropped(bindingRequest().attribute(0x0020).build());    // a 0-byte address ice4j cannot read
    assertDropped("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes());
  }

  private void assertDropped(byte[] datagram) {
    Outcome outcome = two.handle(datagram, CLIENT, 0);
    assertThat(outcome.result()).as("%s -> %s", hex(datagram), outcome.reason()).isEqualTo(Result.DROPPED);
    assertThat(outcome.response()).isNull();
    assertThat(outcome.unexpected()).isNull();
  }

  private static void assertError(Outcome outcome, int code, String unknownAttributesHex) {
    List<Attr> attributes = StunBytes.attributes(outcome.response());
    assertThat(StunWire.u16(outcome.response(), 0)).isEqualTo(0x0111);
    Attr error = attributes.stream().filter(a -> a.type() == 0x0009).findFirst().orElseThrow();
    assertThat((error.value()[2] & 7) * 100 + error.value()[3]).isEqualTo(code);
    if (unknownAttributesHex != null) {
      Attr unknown = attributes.stream().filter(a -> a.type() == 0x000A).findFirst().orElseThrow();
      assertThat(unknown.hexValue()).isEqualTo(unknownAttributesHex);
    }
    assertThat(attributes.get(attributes.size() - 1).type()).isEqualTo(0x8028);
  }

  private static byte[] rawValue(Outcome outcome, int type) {
    return StunBytes.attributes(outcome.response()).stream()
      .filter(a -> a.type() == type).findFirst().orElseThrow().value();
  }

  private static byte[] copyWith(byte[] bytes, int index, int value) {
    byte[] copy = bytes.clone();
    copy[index] = (byte) value;
    return copy;
  }
}
