package io.switchboard.relay.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process's resident set size ({@code switchboard_process_resident_memory_bytes}): heap, the
 * JVM's own memory and what lives off the heap (per-connection zlib state, Netty buffers), which
 * no JVM meter shows. Read from {@code /proc/self/status} (Linux); NaN elsewhere.
 */
public final class ProcessMemory {
  public static final String RSS = "switchboard.process.resident.memory";
  private static final Path STATUS = Path.of("/proc/self/status");

  private ProcessMemory() {
  }

  public static void register(MeterRegistry registry) {
    Gauge.builder(RSS, ProcessMemory::residentBytes).baseUnit("bytes")
        .description("Resident set size of the relay process (Linux /proc/self/status VmRSS)").register(registry);
  }

  /** VmRSS in bytes, or NaN when the platform has no /proc. */
  static double residentBytes() {
    try {
      for (String line : Files.readAllLines(STATUS)) {
        if (line.startsWith("VmRSS:")) {
          return parseKb(line) * 1024.0;
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or /proc hidden: the gauge says "unknown" rather than failing a scrape
    }
    return Double.NaN;
  }

  /** {@code "VmRSS:\t  123456 kB"} → 123456. */
  static long parseKb(String line) {
    String value = line.substring(line.indexOf(':') + 1).trim();
    return Long.parseLong(value.substring(0, value.indexOf(' ')).trim());
  }
}
