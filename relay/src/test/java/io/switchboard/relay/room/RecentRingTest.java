package io.switchboard.relay.room;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.protocol.ServerFrame.Message;
import org.junit.jupiter.api.Test;

class RecentRingTest {
  private static Message m(long seq) {
    return new Message("r", seq, "c" + seq, "u", "b", 0);
  }

  @Test
  void keepsTheNewestCapacityMessages() {
    RecentRing ring = new RecentRing(4);
    for (long s = 1; s <= 10; s++) {
      ring.add(m(s));
    }
    assertThat(ring.firstSeq()).isEqualTo(7);
    assertThat(ring.get(6)).isNull();
    assertThat(ring.get(7).seq()).isEqualTo(7);
    assertThat(ring.get(11)).isNull();
    assertThat(ring.range(1, 100)).extracting(Message::seq).containsExactly(7L, 8L, 9L, 10L);
    assertThat(ring.range(8, 10)).extracting(Message::seq).containsExactly(8L, 9L);
  }

  @Test
  void startsAtTheFirstSeqItSees() {
    RecentRing ring = new RecentRing(4);
    ring.add(m(41));
    ring.add(m(42));
    assertThat(ring.firstSeq()).isEqualTo(41);
    assertThat(ring.get(40)).isNull();
    assertThat(ring.range(1, 43)).extracting(Message::seq).containsExactly(41L, 42L);
  }
}
