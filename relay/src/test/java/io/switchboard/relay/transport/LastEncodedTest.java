package io.switchboard.relay.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class LastEncodedTest {
  private final LastEncoded cache = new LastEncoded();

  @Test
  void theSameInstanceIsEncodedOnce() {
    String frame = "{\"t\":\"msg\",\"body\":\"안녕하세요 😀\"}";
    byte[] first = cache.utf8(frame);
    assertThat(first).isEqualTo(frame.getBytes(StandardCharsets.UTF_8));
    assertThat(cache.utf8(frame)).isSameAs(first);
  }

  /** Matched by identity: an equal text gets correct bytes, another text never the last one's. */
  @Test
  void anotherTextNeverGetsTheLastOnesBytes() {
    String a = "{\"t\":\"msg\",\"seq\":1}";
    String sameContent = new String(a.toCharArray());
    String b = "{\"t\":\"msg\",\"seq\":2}";
    byte[] bytesOfA = cache.utf8(a);
    assertThat(cache.utf8(sameContent)).isEqualTo(bytesOfA).isNotSameAs(bytesOfA);
    assertThat(new String(cache.utf8(b), StandardCharsets.UTF_8)).isEqualTo(b);
    assertThat(new String(cache.utf8(a), StandardCharsets.UTF_8)).isEqualTo(a);
    assertThat(cache.utf8("")).isEmpty();
    // a lone surrogate encodes as String.getBytes does ('?'), not differently on a hit
    String lone = "x\uD800y";
    assertThat(cache.utf8(lone)).isEqualTo(lone.getBytes(StandardCharsets.UTF_8));
    assertThat(cache.utf8(lone)).isEqualTo(lone.getBytes(StandardCharsets.UTF_8));
  }

  /** Shared by event loops: each thread's answer is always its own text's bytes. */
  @Test
  void threadsSharingItOnlyEverGetTheirOwnTextsBytes() throws Exception {
    AtomicInteger wrong = new AtomicInteger();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      int id = t;
      threads.add(new Thread(() -> {
        for (int i = 0; i < 20_000; i++) {
          String text = "t" + id + "-" + i;
          for (int k = 0; k < 3; k++) {
            if (!new String(cache.utf8(text), StandardCharsets.UTF_8).equals(text)) {
              wrong.incrementAndGet();
            }
          }
        }
      }));
    }
    threads.forEach(Thread::start);
    for (Thread t : threads) {
      t.join(10_000);
    }
    assertThat(wrong).hasValue(0);
  }
}
