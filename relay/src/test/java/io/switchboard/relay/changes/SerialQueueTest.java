package io.switchboard.relay.changes;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A room's changes run one at a time, in submission order, and only so many wait. */
class SerialQueueTest {
  @Test
  void aStepStartsOnlyWhenThePreviousOneCompletedEvenWhenItFailed() {
    SerialQueue queue = new SerialQueue(10);
    List<String> log = new ArrayList<>();
    Promise<Void> first = Promise.promise();
    Promise<Void> second = Promise.promise();
    queue.submit(() -> {
      log.add("1");
      return first.future();
    });
    queue.submit(() -> {
      log.add("2");
      return second.future();
    });
    queue.submit(() -> {
      log.add("3");
      throw new IllegalStateException("a step that throws does not stop the queue");
    });
    queue.submit(() -> {
      log.add("4");
      return Future.succeededFuture();
    });
    assertThat(log).containsExactly("1");
    first.complete();
    assertThat(log).containsExactly("1", "2");
    second.fail("storage down");
    assertThat(log).containsExactly("1", "2", "3", "4");
  }

  @Test
  void pastItsBoundASubmitIsRefusedAndNothingIsQueued() {
    SerialQueue queue = new SerialQueue(2);
    Promise<Void> running = Promise.promise();
    List<String> log = new ArrayList<>();
    assertThat(queue.submit(() -> running.future())).isTrue();
    assertThat(queue.submit(() -> {
      log.add("a");
      return Future.succeededFuture();
    })).isTrue();
    assertThat(queue.submit(() -> {
      log.add("b");
      return Future.succeededFuture();
    })).isTrue();
    assertThat(queue.submit(() -> {
      log.add("refused");
      return Future.succeededFuture();
    })).isFalse();
    running.complete();
    assertThat(log).containsExactly("a", "b");
  }
}
