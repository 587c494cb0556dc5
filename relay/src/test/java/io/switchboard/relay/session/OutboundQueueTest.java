package io.switchboard.relay.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.protocol.ServerFrame.Priority;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class OutboundQueueTest {
  /** A socket whose write buffer takes {@code room} frames until drained by the test. */
  static class TestSink implements OutboundQueue.Sink {
    final List<String> written = new ArrayList<>();
    int room;
    long pending;

    TestSink(int room) {
      this.room = room;
    }

    @Override
    public boolean full() {
      return room <= 0;
    }

    @Override
    public long pendingBytes() {
      return pending;
    }

    @Override
    public void write(String text) {
      written.add(text);
      room--;
    }
  }

  @Test
  void writesStraightThroughWhileTheSocketHasRoom() {
    OutboundQueue q = new OutboundQueue(100);
    TestSink sink = new TestSink(10);
    assertThat(q.offer("a", Priority.LIVE, sink)).isTrue();
    assertThat(sink.written).containsExactly("a");
    assertThat(q.queuedChars()).isZero();
  }

  @Test
  void controlOvertakesLiveWhichOvertakesBulk() {
    OutboundQueue q = new OutboundQueue(1000);
    TestSink sink = new TestSink(0);
    q.offer("page1", Priority.BULK, sink);
    q.offer("msg1", Priority.LIVE, sink);
    q.offer("page2", Priority.BULK, sink);
    q.offer("ack1", Priority.CONTROL, sink);
    q.offer("msg2", Priority.LIVE, sink);
    sink.room = 100;
    q.drain(sink);
    assertThat(sink.written).containsExactly("ack1", "msg1", "msg2", "page1", "page2");
  }

  @Test
  void refusesPastTheBoundAndKeepsWhatItHad() {
    OutboundQueue q = new OutboundQueue(10);
    TestSink sink = new TestSink(0);
    assertThat(q.offer("12345", Priority.LIVE, sink)).isTrue();
    assertThat(q.offer("12345", Priority.LIVE, sink)).isTrue();
    assertThat(q.offer("1", Priority.CONTROL, sink)).isFalse();
    assertThat(q.queuedChars()).isEqualTo(10);
  }

  @Test
  void drainStopsWhenTheSocketFillsAgain() {
    OutboundQueue q = new OutboundQueue(1000);
    TestSink sink = new TestSink(0);
    for (int i = 0; i < 5; i++) {
      q.offer("m" + i, Priority.LIVE, sink);
    }
    sink.room = 2;
    q.drain(sink);
    assertThat(sink.written).containsExactly("m0", "m1");
    assertThat(q.queuedChars()).isEqualTo(6);
    q.flushAll(sink);
    assertThat(sink.written).containsExactly("m0", "m1", "m2", "m3", "m4");
    assertThat(q.queuedChars()).isZero();
  }

  @Test
  void aWriteThatClosesTheConnectionStopsTheDrain() {
    OutboundQueue q = new OutboundQueue(1000);
    TestSink closing = new TestSink(0) {
      @Override
      public void write(String text) {
        super.write(text);
        q.clear(); // the socket failed on this write and the session closed
      }
    };
    for (int i = 0; i < 3; i++) {
      q.offer("m" + i, Priority.LIVE, closing);
    }
    closing.room = 100;
    q.drain(closing);
    assertThat(closing.written).containsExactly("m0");
    assertThat(q.queuedChars()).isZero();
  }

  @Test
  void queuesAgainAfterAClear() {
    OutboundQueue q = new OutboundQueue(1000);
    TestSink sink = new TestSink(0);
    q.offer("old", Priority.LIVE, sink);
    q.clear();
    q.drain(sink);
    q.offer("new", Priority.LIVE, sink);
    assertThat(q.queuedChars()).isEqualTo(3);
    sink.room = 10;
    q.drain(sink);
    assertThat(sink.written).containsExactly("new");
  }

  @Test
  void bytesTheSocketStillHoldsCountAgainstTheBound() {
    OutboundQueue q = new OutboundQueue(100);
    TestSink sink = new TestSink(0);
    sink.pending = 95; // a big frame written while the socket had room, not flushed yet
    assertThat(q.offer("12345", Priority.CONTROL, sink)).isTrue();
    assertThat(q.offer("1", Priority.CONTROL, sink)).as("95 in the socket + 5 queued + 1 > 100").isFalse();
    assertThat(q.held(sink)).isEqualTo(100);
  }

  @Test
  void aFrameBiggerThanTheBoundStillGoesToASocketWithNothingWaiting() {
    OutboundQueue q = new OutboundQueue(100);
    TestSink sink = new TestSink(1);
    assertThat(q.offer("x".repeat(500), Priority.BULK, sink)).isTrue();
    assertThat(sink.written).hasSize(1);
    sink.pending = 500;
    assertThat(q.offer("ack", Priority.CONTROL, sink)).as("nothing more while the socket holds 500").isFalse();
  }
}
