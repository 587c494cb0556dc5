package io.switchboard.relay.changes;

import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.Limits;
import io.switchboard.protocol.ProtocolException;
import io.switchboard.protocol.ServerFrame.Reaction;
import io.switchboard.relay.access.Role;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Who may change what, as plain data: a message's current state in, its next state (or a refusal)
 * out. Edit and delete: the author within the edit window of the message's time; a room owner
 * may delete any message at any time (but not edit it). Nothing but a repeated delete may touch
 * a deleted message. A reaction already there (or one taken back that is not) changes nothing.
 */
public final class ChangeRules {
  private ChangeRules() {}

  /** One user's reaction, in the order reactions were made. */
  public record ReactionRow(String user, String emoji) {}

  /** A message's mutable state and what the rules need to know about it. */
  public record State(long seq, String sender, long tsMillis, String body, Long editedMillis, boolean deleted,
      List<ReactionRow> reactions) {
    public State {
      reactions = List.copyOf(reactions);
    }
  }

  /** The next state; {@code changed} false when the change was already in effect (no new rev). */
  public record Outcome(State state, boolean changed) {}

  /**
   * @param role         the changer's role in the room (null: a public room's default); readers never get here
   * @param editWindowMs 0: no limit
   */
  public static Outcome apply(State s, Change change, String user, Role role, long nowMillis, long editWindowMs) {
    if (change instanceof Change.Delete) {
      if (s.deleted()) {
        return new Outcome(s, false);
      }
      if (role != Role.OWNER) {
        requireAuthor(s, user, "delete");
        requireWithinWindow(s, nowMillis, editWindowMs, "deleted");
      }
      return new Outcome(new State(s.seq(), s.sender(), s.tsMillis(), null, s.editedMillis(), true, List.of()), true);
    }
    if (s.deleted()) {
      throw new ProtocolException(ErrorCode.FORBIDDEN, "message " + s.seq() + " was deleted");
    }
    if (change instanceof Change.Edit edit) {
      requireAuthor(s, user, "edit");
      requireWithinWindow(s, nowMillis, editWindowMs, "edited");
      return new Outcome(new State(s.seq(), s.sender(), s.tsMillis(), edit.body(), nowMillis, false, s.reactions()), true);
    }
    Change.React react = (Change.React) change;
    ReactionRow row = new ReactionRow(user, react.emoji());
    boolean there = s.reactions().contains(row);
    if (there == react.on()) {
      return new Outcome(s, false);
    }
    List<ReactionRow> next = new ArrayList<>(s.reactions());
    if (react.on()) {
      if (next.stream().noneMatch(r -> r.emoji().equals(react.emoji()))
          && next.stream().map(ReactionRow::emoji).distinct().count() >= Limits.MAX_EMOJI_PER_MESSAGE) {
        throw new ProtocolException(ErrorCode.TOO_LARGE,
            "message " + s.seq() + " has " + Limits.MAX_EMOJI_PER_MESSAGE + " different emoji already");
      }
      next.add(row);
    } else {
      next.remove(row);
    }
    return new Outcome(new State(s.seq(), s.sender(), s.tsMillis(), s.body(), s.editedMillis(), false, next), true);
  }

  /** Reaction rows (in reaction order) as the wire shows them: by first reaction, exact counts, first users. */
  public static List<Reaction> aggregate(List<ReactionRow> rows) {
    Map<String, List<String>> byEmoji = new LinkedHashMap<>();
    for (ReactionRow r : rows) {
      byEmoji.computeIfAbsent(r.emoji(), e -> new ArrayList<>()).add(r.user());
    }
    List<Reaction> out = new ArrayList<>(byEmoji.size());
    byEmoji.forEach((emoji, users) -> out.add(new Reaction(emoji, users.size(),
        users.subList(0, Math.min(users.size(), Limits.MAX_REACTION_USERS)))));
    return out;
  }

  private static void requireAuthor(State s, String user, String what) {
    if (!s.sender().equals(user)) {
      throw new ProtocolException(ErrorCode.FORBIDDEN, "only its author may " + what + " message " + s.seq()
          + (what.equals("delete") ? " (or a room owner)" : ""));
    }
  }

  private static void requireWithinWindow(State s, long nowMillis, long editWindowMs, String what) {
    if (editWindowMs > 0 && nowMillis - s.tsMillis() > editWindowMs) {
      throw new ProtocolException(ErrorCode.FORBIDDEN, "message " + s.seq() + " is older than the "
          + editWindowMs + " ms within which it may be " + what);
    }
  }
}
