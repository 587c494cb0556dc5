package io.switchboard.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ServerSamplerTest {
  @Test
  void cpuTicksAreReadAfterACommandWithSpacesAndParentheses() {
    String stat = "4242 (C2 Compiler) x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 56 0 0 20 0 30 0 77 0 0";
    assertThat(ServerSampler.cpuTicksOfStat(stat)).isEqualTo(1234 + 56);
  }

  @Test
  void findsThisJvmsJitCompilerThreadsAndNothingForAnUnknownName() {
    long self = ProcessHandle.current().pid();
    // warm something up so both tiers have compiled at least once
    long sink = 0;
    for (int i = 0; i < 2_000_000; i++) {
      sink += Integer.toString(i).hashCode();
    }
    assertThat(sink).isNotZero();
    assertThat(ServerSampler.readThreadCpuTicks(self, ServerSampler.JIT_THREADS)).isGreaterThan(0);
    assertThat(ServerSampler.readThreadCpuTicks(self, List.of("no such thread"))).isEqualTo(-1);
    assertThat(ServerSampler.readThreadCpuTicks(-5, ServerSampler.JIT_THREADS)).isEqualTo(-1);
  }
}
