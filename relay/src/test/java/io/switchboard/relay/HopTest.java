package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.relay.room.Loop;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class HopTest {
  /** A loop on its own thread that counts how often it is woken. */
  private static final class CountingLoop implements Loop {
    final ExecutorService thread = Executors.newSingleThreadExecutor();
    final AtomicInteger wakeUps = new AtomicInteger();
    volatile Thread owner;

    CountingLoop() throws Exception {
      thread.submit(() -> owner = Thread.currentThread()).get();
    }

    @Override
    public boolean inLoop() {
      return Thread.currentThread() == owner;
    }

    @Override
    public void execute(Runnable task) {
      wakeUps.incrementAndGet();
      thread.execute(task);
    }
  }

  @Test
  void everyTaskRunsOnTheTargetInOrderAndABurstCostsFewerWakeUpsThanTasks() throws Exception {
    CountingLoop target = new CountingLoop();
    Hop hop = new Hop(target);
    int n = 100_000;
    List<Integer> seen = new ArrayList<>();
    AtomicInteger offLoop = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(1);
    for (int i = 0; i < n; i++) {
      int value = i;
      hop.execute(() -> {
        if (!target.inLoop()) {
          offLoop.incrementAndGet();
        }
        seen.add(value);
        if (value == n - 1) {
          done.countDown();
        }
      });
    }
    assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(offLoop).hasValue(0);
    assertThat(seen).hasSize(n);
    for (int i = 0; i < n; i++) {
      assertThat(seen.get(i)).isEqualTo(i);
    }
    assertThat(target.wakeUps.get()).isLessThan(n);
    target.thread.shutdown();
  }

  @Test
  void aTaskForTheCallersOwnLoopRunsAtOnce() throws Exception {
    CountingLoop target = new CountingLoop();
    Hop hop = new Hop(target);
    List<String> order = new ArrayList<>();
    target.thread.submit(() -> {
      hop.execute(() -> order.add("hop"));
      order.add("after");
    }).get();
    assertThat(order).containsExactly("hop", "after");
    assertThat(target.wakeUps).hasValue(0);
    target.thread.shutdown();
  }
}
