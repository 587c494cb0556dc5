package io.switchboard.signaling.stun;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.switchboard.signaling.stun.BindingHandler.Outcome;
import io.switchboard.signaling.stun.BindingHandler.Result;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzzing of the socket-free STUN handler (Jazzer), complementing
 * {@link BindingHandlerFuzzTest}'s 250,000 seeded mutations: the same promises (never throws, no
 * unforeseen exception, input untouched, every answer a well-formed response to that transaction
 * and not much larger than the request), with the fuzzer steering into branches random mutation
 * misses. Seeds (valid Binding requests, the mutator's shapes) in {@code BindingHandlerJazzerTestInputs/};
 * fuzz for real with
 * {@code JAZZER_FUZZ=1 JAZZER_MAX_DURATION=10m ./mvnw -pl signaling test -Dtest=BindingHandlerJazzerTest}.
 */
class BindingHandlerJazzerTest {
  private static BindingHandler two;
  private static BindingHandler one;

  @BeforeAll
  static void warmUp() {
    StunTestBase.routeJulToSlf4j();
    BindingHandler.warmUp();
    two = new BindingHandler(BindingHandlerTest.TWO);
    one = new BindingHandler(List.of(BindingHandlerTest.A1P1, BindingHandlerTest.A1P2));
  }

  /** First byte: bit 0 = two addresses (RFC 5780), bits 1-2 = the socket it arrived on; the rest: the datagram. */
  @FuzzTest(maxDuration = "5s")
  void answersOnlyWithWellFormedResponses(byte[] raw) {
    if (raw.length == 0) {
      return;
    }
    boolean rfc5780 = (raw[0] & 1) != 0;
    int arrivedOn = ((raw[0] >> 1) & 3) % (rfc5780 ? 4 : 2);
    byte[] input = Arrays.copyOfRange(raw, 1, raw.length);
    byte[] untouched = input.clone();
    Outcome outcome = (rfc5780 ? two : one).handle(input, BindingHandlerTest.CLIENT, arrivedOn);
    String context = StunBytes.hex(input);
    if (outcome.unexpected() != null) {
      throw new AssertionError("unforeseen exception for " + context, outcome.unexpected());
    }
    if (!Arrays.equals(input, untouched)) {
      throw new AssertionError("the handler modified its input " + context);
    }
    if (outcome.result() == Result.DROPPED) {
      if (outcome.response() != null) {
        throw new AssertionError("a drop with a response for " + context);
      }
      return;
    }
    BindingHandlerFuzzTest.assertWellFormedAnswer(input, outcome, context);
  }
}
