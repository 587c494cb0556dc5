package io.switchboard.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class FrameFieldsTest {
  @Test
  void readsAMsgFrameAndSkipsItsBody() {
    FrameFields f = FrameFields.ofObject("{\"t\":\"msg\",\"room\":\"r1\",\"seq\":42,\"cid\":\"c-9\","
        + "\"from\":{\"id\":\"u1\",\"name\":\"Ann\",\"seq\":7},\"body\":\"안녕 \\\"hi\\\" {not json}\",\"ts\":1700000000123}");
    assertThat(f.t).isEqualTo("msg");
    assertThat(f.room).isEqualTo("r1");
    assertThat(f.seq).as("a nested seq must not overwrite the frame's").isEqualTo(42);
    assertThat(f.cid).isEqualTo("c-9");
    assertThat(f.ts).isEqualTo(1700000000123L);
    assertThat(f.id).as("a nested id is not the frame's").isNull();
  }

  @Test
  void readsAcksPongsErrorsAndWelcome() {
    FrameFields ack = FrameFields.ofObject("{\"t\":\"ack\",\"cid\":\"c1\",\"seq\":3,\"stored\":true}");
    assertThat(ack.stored).isTrue();
    assertThat(FrameFields.ofObject("{\"t\":\"ack\",\"cid\":\"c1\",\"stored\":false}").stored).isFalse();
    assertThat(FrameFields.ofObject("{\"t\":\"pong\",\"id\":\"p17\"}").id).isEqualTo("p17");
    assertThat(FrameFields.ofObject("{\"t\":\"pong\",\"id\":17}").id).isEqualTo(17L);
    FrameFields err = FrameFields.ofObject("{\"t\":\"error\",\"code\":\"storage_unavailable\",\"ref\":\"c5\",\"message\":\"x\"}");
    assertThat(err.code).isEqualTo("storage_unavailable");
    assertThat(err.ref).isEqualTo("c5");
    assertThat(FrameFields.ofObject("{\"t\":\"welcome\",\"heartbeatMs\":15000,\"ice\":[{\"urls\":[\"stun:x\"]}]}").heartbeatMs)
        .isEqualTo(15000L);
    FrameFields bare = FrameFields.ofObject("{\"t\":\"msg\"}");
    assertThat(bare.seq).isEqualTo(-1);
    assertThat(bare.ts).isNull();
    assertThat(bare.stored).isNull();
  }

  @Test
  void readsSocketIoEvents() {
    FrameFields.Event msg = FrameFields.ofSocketIoEvent(
        "[\"msg\",{\"room\":\"r\",\"seq\":5,\"cid\":\"c\",\"from\":\"abc\",\"body\":\"x\",\"ts\":12}]");
    assertThat(msg.name()).isEqualTo("msg");
    assertThat(msg.fields().seq).isEqualTo(5);
    assertThat(msg.fields().ts).isEqualTo(12L);
    FrameFields.Event echoed = FrameFields.ofSocketIoEvent("[\"echoed\",\"p3\"]");
    assertThat(echoed.text()).isEqualTo("p3");
    assertThat(echoed.fields()).isNull();
    assertThat(FrameFields.ofSocketIoEvent("[\"joined\",\"r\",{\"extra\":[1,2]}]").name()).isEqualTo("joined");
  }

  @Test
  void rejectsWhatIsNotAFrame() {
    for (String bad : new String[] {"", "[]", "\"msg\"", "{\"t\":\"msg\"", "{\"t\":\"msg\"} x", "{\"t\":}"}) {
      assertThatThrownBy(() -> FrameFields.ofObject(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
    }
    for (String bad : new String[] {"{}", "[1]", "[\"msg\",{\"a\":1}"}) {
      assertThatThrownBy(() -> FrameFields.ofSocketIoEvent(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
    }
  }
}
