package io.switchboard.relay.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class ProcessMemoryTest {
  @Test
  void parsesVmRssInKilobytes() {
    assertThat(ProcessMemory.parseKb("VmRSS:\t  123456 kB")).isEqualTo(123456);
  }

  /** Off-heap memory, which no JVM heap meter shows, is what the gauge is for. */
  @Test
  void gaugeFollowsOffHeapMemory() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    ProcessMemory.register(registry);
    double before = registry.get(ProcessMemory.RSS).gauge().value();
    assertThat(before).as("Linux: /proc/self/status").isGreaterThan(10 * 1024 * 1024);
    ByteBuffer buffer = ByteBuffer.allocateDirect(64 * 1024 * 1024);
    for (int i = 0; i < buffer.capacity(); i += 4096) {
      buffer.put(i, (byte) 1); // touch every page: resident now
    }
    double after = registry.get(ProcessMemory.RSS).gauge().value();
    assertThat(after - before).isGreaterThan(48 * 1024 * 1024);
    assertThat(buffer.get(4096)).isEqualTo((byte) 1);
  }
}
