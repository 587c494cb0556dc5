package io.switchboard.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ChatAccountingTest {
  private static final long MS = 1_000_000L;

  @Test
  void cidCarriesTheSendTime() {
    String cid = ChatAccounting.cid(7, 42, -123456789L);
    assertThat(cid).matches("[A-Za-z0-9._:-]{1,64}");
    assertThat(ChatAccounting.sendNanosOf(cid)).isEqualTo(-123456789L);
    assertThat(ChatAccounting.sendNanosOf(ChatAccounting.cid(99999, Long.MAX_VALUE, Long.MIN_VALUE)))
        .isEqualTo(Long.MIN_VALUE);
    assertThat(ChatAccounting.sendNanosOf("0b7e4c1a-3f7d-4a53")).isNull();
    assertThat(ChatAccounting.sendNanosOf("b1.2.")).isNull();
  }

  @Test
  void droppedMessageCountsAsLostAndDuplicateAsDuplicated() {
    ChatAccounting acc = new ChatAccounting();
    acc.window(0, 1000 * MS);
    ChatAccounting.Receiver bob = acc.receiver();
    ChatAccounting.Receiver carol = acc.receiver();

    // alice sends three messages to a room of three: 6 deliveries expected
    String m1 = ChatAccounting.cid(0, 1, 10 * MS);
    String m2 = ChatAccounting.cid(0, 2, 20 * MS);
    String m3 = ChatAccounting.cid(0, 3, 30 * MS);
    acc.sent(10 * MS, 2, 100);
    acc.sent(20 * MS, 2, 100);
    acc.sent(30 * MS, 2, 100);

    bob.msg("r", 1, m1, 11 * MS);
    bob.msg("r", 2, m2, 22 * MS);
    bob.msg("r", 3, m3, 33 * MS);
    carol.msg("r", 1, m1, 12 * MS);
    // carol never gets seq 2 (dropped); she gets seq 3 twice (duplicate)
    carol.msg("r", 3, m3, 34 * MS);
    assertThat(carol.msg("r", 3, m3, 35 * MS)).isFalse();

    ChatAccounting.Snapshot s = acc.snapshot();
    assertThat(s.sent()).isEqualTo(3);
    assertThat(s.expected()).isEqualTo(6);
    assertThat(s.delivered()).isEqualTo(5);
    assertThat(s.lost()).isEqualTo(1);
    assertThat(s.duplicated()).isEqualTo(1);
    assertThat(acc.complete()).isFalse();

    // one latency per unique measured delivery: 1, 2, 3, 2, 4 ms
    assertThat(s.deliveryLatency().getTotalCount()).isEqualTo(5);
    assertThat(s.deliveryLatency().getMaxValue()).isBetween(4 * MS - MS / 100, 4 * MS + MS / 100);
    assertThat(s.deliveryLatency().getMinValue()).isBetween(MS - MS / 100, MS + MS / 100);
  }

  @Test
  void sameSeqInAnotherRoomIsNotADuplicate() {
    ChatAccounting acc = new ChatAccounting();
    ChatAccounting.Receiver rx = acc.receiver();
    assertThat(rx.msg("a", 1, ChatAccounting.cid(1, 1, 0), 1)).isTrue();
    assertThat(rx.msg("b", 1, ChatAccounting.cid(2, 1, 0), 1)).isTrue();
    assertThat(acc.snapshot().duplicated()).isZero();
  }

  @Test
  void warmupMessagesAreNotMeasuredButDuplicatesStillCount() {
    ChatAccounting acc = new ChatAccounting();
    acc.window(100 * MS, 200 * MS);
    ChatAccounting.Receiver rx = acc.receiver();
    String warm = ChatAccounting.cid(0, 1, 50 * MS);
    String late = ChatAccounting.cid(0, 3, 250 * MS);
    String real = ChatAccounting.cid(0, 2, 150 * MS);
    acc.sent(50 * MS, 1, 10);
    acc.sent(150 * MS, 1, 10);
    acc.sent(250 * MS, 1, 10);
    rx.msg("r", 1, warm, 51 * MS);
    rx.msg("r", 1, warm, 52 * MS);
    rx.msg("r", 2, real, 151 * MS);
    rx.msg("r", 3, late, 251 * MS);

    ChatAccounting.Snapshot s = acc.snapshot();
    assertThat(s.sentTotal()).isEqualTo(3);
    assertThat(s.sent()).isEqualTo(1);
    assertThat(s.expected()).isEqualTo(1);
    assertThat(s.delivered()).isEqualTo(1);
    assertThat(s.deliveredTotal()).isEqualTo(3);
    assertThat(s.lost()).isZero();
    assertThat(s.duplicated()).isEqualTo(1);
    assertThat(s.deliveryLatency().getTotalCount()).isEqualTo(1);
  }

  @Test
  void refusalsLeaveSentAndExpectedAndAreCountedApartInTheWindow() {
    ChatAccounting acc = new ChatAccounting();
    acc.window(100 * MS, 200 * MS);
    acc.sent(50 * MS, 9, 10);
    acc.sent(150 * MS, 9, 10);
    acc.sent(160 * MS, 9, 10);
    acc.rejected(ChatAccounting.cid(0, 1, 50 * MS), 9); // during warm-up
    acc.rejected(ChatAccounting.cid(0, 2, 150 * MS), 9); // measured
    acc.rejected("not-a-bench-cid", 9);

    ChatAccounting.Snapshot s = acc.snapshot();
    assertThat(s.rejected()).isEqualTo(2);
    assertThat(s.rejectedMeasured()).isEqualTo(1);
    assertThat(s.sent()).isEqualTo(1);
    assertThat(s.expected()).isEqualTo(9);
  }

  @Test
  void acksRecordStoredLatencyOnlyAndCompleteTheRun() {
    ChatAccounting acc = new ChatAccounting();
    acc.window(0, 1000 * MS);
    String cid = ChatAccounting.cid(0, 1, 10 * MS);
    acc.sent(10 * MS, 1, 10);
    acc.receiver().msg("r", 1, cid, 11 * MS);
    acc.ack(cid, false, 12 * MS);
    assertThat(acc.complete()).isFalse();
    acc.ack(cid, true, 17 * MS);
    acc.error("rate_limited");
    acc.error("rate_limited");

    ChatAccounting.Snapshot s = acc.snapshot();
    assertThat(s.acked()).isEqualTo(1);
    assertThat(s.ackedNotStored()).isEqualTo(1);
    assertThat(s.ackLatency().getTotalCount()).isEqualTo(1);
    assertThat(s.ackLatency().getMaxValue()).isBetween(7 * MS - MS / 100, 7 * MS + MS / 100);
    assertThat(s.errors()).containsEntry("rate_limited", 2L);
    assertThat(acc.complete()).isTrue();
  }

  @Test
  void chatTextIsValidAndWithinBounds() {
    ChatText text = new ChatText(1, 500);
    boolean korean = false;
    boolean english = false;
    for (String body : text.pool()) {
      assertThat(body.length()).isBetween(ChatText.MIN_CHARS, ChatText.MAX_CHARS);
      assertThat(body).doesNotContain("\u0000");
      for (int i = 0; i < body.length(); i++) {
        char c = body.charAt(i);
        if (Character.isHighSurrogate(c)) {
          assertThat(Character.isLowSurrogate(body.charAt(++i))).isTrue();
        } else {
          assertThat(Character.isLowSurrogate(c)).isFalse();
        }
      }
      korean |= body.chars().anyMatch(c -> c >= 0xAC00 && c <= 0xD7A3);
      english |= body.chars().anyMatch(c -> c >= 'a' && c <= 'z');
    }
    assertThat(korean).isTrue();
    assertThat(english).isTrue();
    assertThat(LoadDriver.utf8Length("a한😂")).isEqualTo(1 + 3 + 4);
  }
}
