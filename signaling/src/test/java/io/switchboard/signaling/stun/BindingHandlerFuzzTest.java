package io.switchboard.signaling.stun;

import io.switchboard.signaling.stun.BindingHandler.Outcome;
import io.switchboard.signaling.stun.BindingHandler.Result;
import org.ice4j.message.Message;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import static io.switchboard.signaling.stun.StunBytes.hex;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The socket-free handler over 250,000 hostile inputs: it must never throw, never hit an
 * exception it did not foresee, and everything it answers must be a well-formed Binding response
 * to that very transaction, never much larger than the request (no amplification).
 * Reproduce a failure with {@code -Dstun.fuzz.seed=<the seed printed>}.
 */
class BindingHandlerFuzzTest {

  static final long SEED = Long.getLong("stun.fuzz.seed", System.nanoTime());
  static final InetSocketAddress CLIENT = new InetSocketAddress("127.0.0.1", 40000);

  @BeforeAll
  static void warmUp() {
    StunTestBase.routeJulToSlf4j();
    BindingHandler.warmUp();
  }

  @Test
  void neverThrowsAndAnswersOnlyWithWellFormedResponses() {
    StunMutator mutator = new StunMutator(SEED);
    BindingHandler handler = new BindingHandler(BindingHandlerTest.TWO);
    BindingHandler single = new BindingHandler(List.of(BindingHandlerTest.A1P1, BindingHandlerTest.A1P2));
    Map<Result, Integer> results = new EnumMap<>(Result.class);

    for (int i = 0; i < 250_000; i++) {
      byte[] input = i < 200_000 ? mutator.mutateSeed() : mutator.randomDatagram(2000);
      byte[] untouched = input.clone();
      int arrivedOn = i & 3;
      Outcome outcome = (i & 4) == 0 ? handler.handle(input, CLIENT, arrivedOn) : single.handle(input, CLIENT, arrivedOn & 1);

      results.merge(outcome.result(), 1, Integer::sum);
      String context = "seed " + SEED + ", input #" + i + ": " + hex(input);
      assertThat(outcome.unexpected()).as(context).isNull();
      assertThat(input).as("the handler must not modify its input; " + context).isEqualTo(untouched);
      if (outcome.result() == Result.DROPPED) {
        assertThat(outcome.response()).as(context).isNull();
      } else {
        assertWellFormedAnswer(input, outcome, context);
      }
    }
    System.out.printf("BindingHandlerFuzzTest seed %d: %s%n", SEED, results);
    // the seeds are valid requests: plenty of mutations stay answerable, plenty do not
    assertThat(results.get(Result.ANSWERED)).isGreaterThan(5_000);
    assertThat(results.get(Result.DROPPED)).isGreaterThan(100_000);
    assertThat(results.get(Result.ERROR)).isGreaterThan(1_000);
  }

  static void assertWellFormedAnswer(byte[] request, Outcome outcome, String context) {
    byte[] response = outcome.response();
    assertThat(outcome.sendFrom()).as(context).isBetween(0, 3);
    assertThat(StunWire.frame(response, response.length)).as(context).isNotNull();
    assertThat(StunWire.u16(response, 0)).as(context)
      .isEqualTo(outcome.result() == Result.ANSWERED ? 0x0101 : 0x0111);
    assertThat(Arrays.copyOfRange(response, 8, 20)).as(context).isEqualTo(Arrays.copyOfRange(request, 8, 20));
    assertThat(response.length).as("amplification; " + context).isLessThanOrEqualTo(request.length + 80);
    try {
      Message.decode(response, 0, response.length); // checks our FINGERPRINT too
    } catch (Exception e) {
      throw new AssertionError("ice4j cannot decode our answer; " + context, e);
    }
  }
}
