package io.switchboard.relay.room;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MessageOrderTest {
  private final List<String> ran = new ArrayList<>();
  private final MessageOrder order = new MessageOrder(3);

  @Test
  void stepsRunAtOnceWhileNothingWaits() {
    assertThat(order.submit(() -> ran.add("a"))).isTrue();
    assertThat(order.submit(() -> ran.add("b"))).isTrue();
    assertThat(ran).containsExactly("a", "b");
  }

  @Test
  void aSuspendedStepHoldsLaterOnesUntilItResumes() {
    order.submit(() -> {
      ran.add("lookup");
      order.suspend();
    });
    order.submit(() -> ran.add("second"));
    order.submit(() -> ran.add("third"));
    assertThat(ran).containsExactly("lookup");
    assertThat(order.held()).isEqualTo(2);
    order.resume();
    assertThat(ran).containsExactly("lookup", "second", "third");
    assertThat(order.held()).isZero();
  }

  @Test
  void aHeldStepThatSuspendsAgainStopsTheDrainInOrder() {
    order.submit(order::suspend);
    order.submit(() -> {
      ran.add("second looks up");
      order.suspend();
    });
    order.submit(() -> ran.add("third"));
    order.resume();
    assertThat(ran).containsExactly("second looks up");
    order.resume();
    assertThat(ran).containsExactly("second looks up", "third");
  }

  @Test
  void refusesStepsBeyondItsBound() {
    order.submit(order::suspend);
    for (int i = 0; i < 3; i++) {
      assertThat(order.submit(() -> ran.add("held"))).isTrue();
    }
    assertThat(order.submit(() -> ran.add("too many"))).isFalse();
    order.resume();
    assertThat(ran).containsExactly("held", "held", "held");
  }

  @Test
  void rejectsANonPositiveBound() {
    assertThatThrownBy(() -> new MessageOrder(0)).isInstanceOf(IllegalArgumentException.class);
  }
}
