package io.switchboard.bench.jmh;

import io.switchboard.bench.ChatText;
import io.switchboard.protocol.ClientFrame;
import io.switchboard.protocol.FrameEncoder;
import io.switchboard.protocol.FrameParser;
import io.switchboard.protocol.Limits;
import io.switchboard.protocol.ServerFrame;
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
 * The relay's per-frame protocol work: {@code FrameParser.parse} of a client {@code send} and
 * {@code FrameEncoder.encode} of the {@code msg} every receiver gets, with the bench's chat lines
 * (Korean and English, 10-200 characters; {@code long} = a 4 KB body).
 *
 * <pre>java -cp bench/target/switchboard-bench.jar org.openjdk.jmh.Main FrameCodecBench</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FrameCodecBench {
  @Param({"chat", "long"})
  public String body;

  private final FrameParser parser = new FrameParser(Limits.defaults());
  private String[] sends;
  private ServerFrame[] msgs;
  private int i;

  @Setup
  public void setUp() {
    ChatText text = new ChatText(7, 256);
    Random r = new Random(7);
    sends = new String[256];
    msgs = new ServerFrame[256];
    for (int k = 0; k < sends.length; k++) {
      String b = body.equals("long") ? longBody(text, r) : text.next(r);
      String cid = "b" + k + "." + k + "." + (1_000_000_000L + k);
      sends[k] = new io.vertx.core.json.JsonObject().put("t", "send").put("room", "lobby").put("cid", cid)
          .put("body", b).encode();
      msgs[k] = new ServerFrame.Msg(new ServerFrame.Message("lobby", 1000 + k, cid, "u-ab12", b, 1764043200123L + k));
    }
  }

  private static String longBody(ChatText text, Random r) {
    StringBuilder sb = new StringBuilder();
    while (sb.length() < 4096) {
      sb.append(text.next(r)).append(' ');
    }
    sb.setLength(4096);
    if (Character.isHighSurrogate(sb.charAt(4095))) {
      sb.setLength(4095); // never a lone surrogate: the parser would refuse the frame
    }
    return sb.toString();
  }

  @Benchmark
  public ClientFrame parseSend() {
    return parser.parse(sends[i++ & 255]);
  }

  @Benchmark
  public String encodeMsg() {
    return FrameEncoder.encode(msgs[i++ & 255]);
  }
}
