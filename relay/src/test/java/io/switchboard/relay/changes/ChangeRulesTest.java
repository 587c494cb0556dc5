package io.switchboard.relay.changes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.switchboard.protocol.ProtocolException;
import io.switchboard.protocol.ServerFrame.Reaction;
import io.switchboard.relay.access.Role;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The change rules as plain data: each refusal, each no-op, and the state each change leaves. */
class ChangeRulesTest {
  private static final long T = 1_764_043_200_000L;
  private static final long DAY = 86_400_000L;

  private static ChangeRules.State message(String sender, ChangeRules.ReactionRow... reactions) {
    return new ChangeRules.State(42, sender, T, "hi", null, false, List.of(reactions));
  }

  private static String code(Runnable r) {
    try {
      r.run();
      return null;
    } catch (ProtocolException e) {
      return e.code().wire();
    }
  }

  @Test
  void theAuthorEditsAndDeletesWithinTheWindowOnly() {
    ChangeRules.Outcome edited = ChangeRules.apply(message("ann"), new Change.Edit("hi!"), "ann", null, T + DAY, DAY);
    assertThat(edited.changed()).isTrue();
    assertThat(edited.state().body()).isEqualTo("hi!");
    assertThat(edited.state().editedMillis()).isEqualTo(T + DAY);
    assertThat(code(() -> ChangeRules.apply(message("ann"), new Change.Edit("x"), "ann", null, T + DAY + 1, DAY)))
        .isEqualTo("forbidden");
    assertThat(code(() -> ChangeRules.apply(message("ann"), new Change.Delete(), "ann", Role.MEMBER, T + DAY + 1, DAY)))
        .isEqualTo("forbidden");
    assertThat(ChangeRules.apply(message("ann"), new Change.Edit("x"), "ann", null, T + 100 * DAY, 0).changed())
        .as("0: no limit").isTrue();
    assertThat(code(() -> ChangeRules.apply(message("ann"), new Change.Edit("x"), "bob", Role.OWNER, T, DAY)))
        .as("an owner may not edit another's message").isEqualTo("forbidden");
    assertThat(code(() -> ChangeRules.apply(message("ann"), new Change.Delete(), "bob", Role.MEMBER, T, DAY)))
        .isEqualTo("forbidden");
  }

  @Test
  void anOwnerDeletesAnyMessageAtAnyTimeAndDeleteErasesBodyAndReactions() {
    ChangeRules.Outcome gone = ChangeRules.apply(message("ann", new ChangeRules.ReactionRow("bob", "👍")),
        new Change.Delete(), "olga", Role.OWNER, T + 365 * DAY, DAY);
    assertThat(gone.changed()).isTrue();
    assertThat(gone.state().deleted()).isTrue();
    assertThat(gone.state().body()).isNull();
    assertThat(gone.state().reactions()).isEmpty();
    assertThat(ChangeRules.apply(gone.state(), new Change.Delete(), "ann", null, T, DAY).changed())
        .as("deleting twice changes nothing").isFalse();
    assertThat(code(() -> ChangeRules.apply(gone.state(), new Change.Edit("x"), "ann", null, T, DAY))).isEqualTo("forbidden");
    assertThat(code(() -> ChangeRules.apply(gone.state(), new Change.React("👍", true), "ann", null, T, DAY)))
        .isEqualTo("forbidden");
  }

  @Test
  void reactionsAreIdempotentAndAtMostTwentyDistinctEmoji() {
    ChangeRules.State s = message("ann");
    s = ChangeRules.apply(s, new Change.React("👍", true), "bob", null, T, DAY).state();
    assertThat(ChangeRules.apply(s, new Change.React("👍", true), "bob", null, T, DAY).changed()).isFalse();
    assertThat(ChangeRules.apply(s, new Change.React("🎉", false), "bob", null, T, DAY).changed()).isFalse();
    for (int i = 1; i < 20; i++) {
      s = ChangeRules.apply(s, new Change.React(new String(Character.toChars(0x1F600 + i)), true), "bob", null, T, DAY)
          .state();
    }
    ChangeRules.State full = s;
    assertThat(code(() -> ChangeRules.apply(full, new Change.React("🦄", true), "cid", null, T, DAY))).isEqualTo("too_large");
    assertThat(ChangeRules.apply(full, new Change.React("👍", true), "cid", null, T, DAY).changed())
        .as("an emoji already there is no 21st").isTrue();
    ChangeRules.State less = ChangeRules.apply(full, new Change.React("👍", false), "bob", null, T, DAY).state();
    assertThat(ChangeRules.apply(less, new Change.React("🦄", true), "cid", null, T, DAY).changed()).isTrue();
  }

  @Test
  void aggregateKeepsFirstReactionOrderExactCountsAndFiftyUsers() {
    List<ChangeRules.ReactionRow> rows = new ArrayList<>();
    rows.add(new ChangeRules.ReactionRow("u0", "❤️"));
    for (int i = 0; i < 60; i++) {
      rows.add(new ChangeRules.ReactionRow("v" + i, "👍"));
    }
    rows.add(new ChangeRules.ReactionRow("u1", "❤️"));
    List<Reaction> out = ChangeRules.aggregate(rows);
    assertThat(out).extracting(Reaction::emoji).containsExactly("❤️", "👍");
    assertThat(out.get(0).users()).containsExactly("u0", "u1");
    assertThat(out.get(1).count()).isEqualTo(60);
    assertThat(out.get(1).users()).hasSize(50).startsWith("v0", "v1").endsWith("v49");
  }

  @Test
  void aRefusalIsAProtocolException() {
    assertThatThrownBy(() -> ChangeRules.apply(message("ann"), new Change.Edit("x"), "bob", null, T, DAY))
        .isInstanceOf(ProtocolException.class).hasMessageContaining("only its author may edit message 42");
  }
}
