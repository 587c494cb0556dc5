package io.switchboard.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.relay.FailoverInvariants.Epoch;
import io.switchboard.relay.FailoverInvariants.Msg;
import io.switchboard.relay.FailoverInvariants.Verdict;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The failover test's judge, fed with each broken promise it must name (and a takeover it must allow). */
class FailoverInvariantsTest {
  private static final Msg A1 = new Msg("u-a", "a1", "first");
  private static final Msg A2 = new Msg("u-a", "a2", "second");
  private static final Msg B1 = new Msg("u-b", "b1", "other");
  /** Room r: epoch e1 from 0, then a takeover e2 whose since is 1 (seqs above 1 may be given again). */
  private static final Map<String, List<Epoch>> EPOCHS = Map.of("r", List.of(new Epoch("e1", 0), new Epoch("e2", 1)));

  private static NavigableMap<Long, Msg> seqs(Msg... messages) {
    NavigableMap<Long, Msg> m = new TreeMap<>();
    for (int i = 0; i < messages.length; i++) {
      m.put(i + 1L, messages[i]);
    }
    return m;
  }

  private static Verdict check(FailoverInvariants judge, NavigableMap<Long, Msg> db, NavigableMap<Long, Msg> view) {
    return judge.check(Map.of("r", db), EPOCHS, Map.of("c", Map.of("r", Map.entry(0L, view))),
        Map.of("u-a", Map.of("a1", "r"), "u-b", Map.of("b1", "r")));
  }

  @Test
  void aConsistentRunHasNoViolation() {
    FailoverInvariants judge = new FailoverInvariants();
    judge.saw("c", "r", "e1", 1, A1);
    judge.saw("c", "r", "e1", 2, A2); // lost with A, seq 2 given to b1 in e2: allowed, reported
    judge.saw("c", "r", "e2", 2, B1);
    judge.ackedStored("u-a", "r", "a1", 1);
    Verdict v = check(judge, seqs(A1, B1), seqs(A1, B1));
    assertThat(v.violations()).isEmpty();
    assertThat(v.diverged()).hasSize(1).first().asString().contains("a2");
  }

  @Test
  void aStoredAckWithoutItsRow() {
    FailoverInvariants judge = new FailoverInvariants();
    judge.ackedStored("u-a", "r", "a2", 2);
    assertThat(check(judge, seqs(A1, B1), seqs(A1, B1)).violations()).singleElement().asString()
        .contains("acked stored:true");
  }

  @Test
  void oneSeqNamingTwoMessagesInOneEpoch() {
    FailoverInvariants judge = new FailoverInvariants();
    judge.saw("c", "r", "e2", 2, B1);
    judge.saw("d", "r", "e2", 2, A2);
    assertThat(check(judge, seqs(A1, B1), seqs(A1, B1)).violations()).anyMatch(s -> s.contains("names two messages"));
  }

  @Test
  void aSeqAtOrBelowTheTakeoverPointThatChangedIsAViolationNotADivergence() {
    FailoverInvariants judge = new FailoverInvariants();
    judge.saw("c", "r", "e1", 1, A2); // seq 1 is at the new epoch's since: it must never change
    Verdict v = check(judge, seqs(A1, B1), seqs(A1, B1));
    assertThat(v.violations()).singleElement().asString().contains("the database has");
    assertThat(v.diverged()).isEmpty();
  }

  @Test
  void aViewThatKeptALostMessageOrMissesOne() {
    assertThat(check(new FailoverInvariants(), seqs(A1, B1), seqs(A1, A2)).violations()).singleElement().asString()
        .contains("view of (r, 2)");
    assertThat(check(new FailoverInvariants(), seqs(A1, B1), seqs(A1)).violations()).singleElement().asString()
        .contains("view of (r, 2) is null");
  }

  @Test
  void aMessageWrittenButNeverStored() {
    Verdict v = new FailoverInvariants().check(Map.of("r", seqs(A1)), EPOCHS, Map.of(),
        Map.of("u-a", Map.of("a1", "r", "a2", "r")));
    assertThat(v.violations()).singleElement().asString().contains("a2 in r is stored 0 times");
  }
}
