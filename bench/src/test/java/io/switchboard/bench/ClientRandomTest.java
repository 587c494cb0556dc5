package io.switchboard.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ClientRandomTest {
  @Test
  void neighbouringClientsGetUnrelatedSendPhases() {
    for (long seed : new long[] {0, 1, 1234, 0x5DEECE66DL, Long.MIN_VALUE}) {
      double[] firstDraws = new double[100];
      for (int idx = 0; idx < firstDraws.length; idx++) {
        firstDraws[idx] = Bench.clientRandom(seed, idx).nextDouble();
      }
      // fixed seeds: 100 uniform draws leave no tenth of the period empty (true draws miss one ~3e-4 of the time)
      boolean[] tenths = new boolean[10];
      Arrays.stream(firstDraws).forEach(d -> tenths[(int) (d * 10)] = true);
      assertThat(tenths).as("phases of seed %d: %s", seed, Arrays.toString(firstDraws)).doesNotContain(false);
    }
  }

  @Test
  void sameSeedAndClientRepeat() {
    assertThat(Bench.clientRandom(42, 7).nextLong()).isEqualTo(Bench.clientRandom(42, 7).nextLong());
  }
}
