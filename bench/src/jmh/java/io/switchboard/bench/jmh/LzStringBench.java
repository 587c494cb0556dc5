package io.switchboard.bench.jmh;

import io.switchboard.bench.ChatText;
import io.switchboard.protocol.LzString;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * LZ-String batches: a batch of {@code n} chat lines (Korean and English) joined as the client
 * would batch them, compressed with {@code LzString.compressToBase64} and decompressed with
 * {@code LzString.decompressFromBase64(s, maxChars)} (npm lz-string 1.5.0 compatible API).
 *
 * <pre>java -cp bench/target/switchboard-bench.jar org.openjdk.jmh.Main LzStringBench</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class LzStringBench {
  @Param({"10", "50", "200"})
  public int n;

  private String batch;
  private String compressed;

  @Setup
  public void setUp() {
    ChatText text = new ChatText(11, 512);
    Random r = new Random(11);
    StringBuilder sb = new StringBuilder("[");
    for (int k = 0; k < n; k++) {
      if (k > 0) {
        sb.append(',');
      }
      sb.append(new io.vertx.core.json.JsonObject().put("seq", 1000 + k).put("from", "u-ab12")
          .put("body", text.next(r)).put("ts", 1764043200123L + k).encode());
    }
    batch = sb.append(']').toString();
    compressed = LzString.compressToBase64(batch);
  }

  @Benchmark
  public String compressBatch() {
    return LzString.compressToBase64(batch);
  }

  @Benchmark
  public String decompressBatch() {
    return LzString.decompressFromBase64(compressed, 1 << 20);
  }
}
