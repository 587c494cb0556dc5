package io.switchboard.relay.changes;

import io.switchboard.protocol.ErrorCode;
import io.switchboard.protocol.ProtocolException;
import io.switchboard.relay.access.Role;
import io.switchboard.relay.store.StoredMessage;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * Commits one change of one message in one transaction, before anyone hears of it (write-through):
 * the room's rev and the fence first (the {@code rooms} row must still name this node and the
 * room's epoch, as for messages), then the message row locked, the rules applied to what storage
 * holds, and the new state written. A refusal rolls everything back.
 */
public final class ChangeStore {
  // Fence and rev in one statement; its row lock makes a takeover's claim wait for this commit and
  // then read the rev it leaves.
  private static final String FENCE = "UPDATE rooms SET rev = greatest(rev, $4) WHERE name = $1 AND owner = $2"
      + " AND epoch = $3";
  private static final String MESSAGE = "SELECT sender, body, created_at, edited_at, deleted_at, cid, rev, sender_name"
      + " FROM messages WHERE room = $1 AND seq = $2 FOR UPDATE";
  private static final String REACTIONS = "SELECT user_id, emoji FROM reactions WHERE room = $1 AND seq = $2 ORDER BY rev";
  private static final String EDIT = "UPDATE messages SET body = $3, edited_at = $4, rev = $5 WHERE room = $1 AND seq = $2";
  private static final String DELETE = "UPDATE messages SET body = NULL, deleted_at = $3, rev = $4"
      + " WHERE room = $1 AND seq = $2";
  private static final String DELETE_REACTIONS = "DELETE FROM reactions WHERE room = $1 AND seq = $2";
  private static final String REACT_ON = "INSERT INTO reactions (room, seq, user_id, emoji, created_at, rev)"
      + " VALUES ($1, $2, $3, $4, $5, $6)";
  private static final String REACT_OFF = "DELETE FROM reactions WHERE room = $1 AND seq = $2 AND user_id = $3"
      + " AND emoji = $4";
  private static final String TOUCH = "UPDATE messages SET rev = $3 WHERE room = $1 AND seq = $2";

  /** A change as the room's owner asks for it; {@code rev} is the one it commits with. */
  public record Request(String room, String owner, String epoch, long seq, long rev, String user, Role role,
      long nowMillis, Change change) {}

  /** How a request ended when nothing refused it. */
  public sealed interface Result {}

  /** Committed ({@code changed}) or already in effect; {@code message} is the state now. */
  public record Done(StoredMessage message, boolean changed) implements Result {}

  /** The room is no longer this node's in this epoch: nothing was written. */
  public record Fenced() implements Result {}

  private final Pool pool;
  private final long editWindowMs;

  public ChangeStore(Pool pool, long editWindowMs) {
    this.pool = pool;
    this.editWindowMs = editWindowMs;
  }

  /** Fails with a {@link ProtocolException} for a refusal ({@code not_found}, {@code forbidden}, ...). */
  public Future<Result> apply(Request r) {
    return pool.withTransaction(conn -> conn.preparedQuery(FENCE).execute(Tuple.of(r.room(), r.owner(), r.epoch(), r.rev()))
        .compose(fenced -> fenced.rowCount() == 0 ? Future.succeededFuture(new Fenced()) : change(conn, r)));
  }

  private Future<Result> change(SqlConnection conn, Request r) {
    return conn.preparedQuery(MESSAGE).execute(Tuple.of(r.room(), r.seq())).compose(rows -> {
      if (rows.size() == 0) {
        throw new ProtocolException(ErrorCode.NOT_FOUND, "no message " + r.seq() + " in room " + r.room());
      }
      Row row = rows.iterator().next();
      return conn.preparedQuery(REACTIONS).execute(Tuple.of(r.room(), r.seq())).compose(found -> {
        List<ChangeRules.ReactionRow> reactions = new ArrayList<>();
        found.forEach(x -> reactions.add(new ChangeRules.ReactionRow(x.getString(0), x.getString(1))));
        ChangeRules.State before = new ChangeRules.State(r.seq(), row.getString(0), millis(row.getOffsetDateTime(2)),
            row.getString(1), row.getOffsetDateTime(3) == null ? null : millis(row.getOffsetDateTime(3)),
            row.getOffsetDateTime(4) != null, reactions);
        ChangeRules.Outcome next = ChangeRules.apply(before, r.change(), r.user(), r.role(), r.nowMillis(), editWindowMs);
        String cid = row.getString(5);
        String name = row.getString(7);
        if (!next.changed()) {
          return Future.succeededFuture(new Done(stored(r, cid, name, before, row.getLong(6)), false));
        }
        return write(conn, r).map(v -> new Done(stored(r, cid, name, next.state(), r.rev()), true));
      });
    });
  }

  private static Future<Void> write(SqlConnection conn, Request r) {
    OffsetDateTime now = OffsetDateTime.ofInstant(Instant.ofEpochMilli(r.nowMillis()), ZoneOffset.UTC);
    Future<?> done;
    if (r.change() instanceof Change.Edit e) {
      done = conn.preparedQuery(EDIT).execute(Tuple.of(r.room(), r.seq(), e.body(), now, r.rev()));
    } else if (r.change() instanceof Change.Delete) {
      done = conn.preparedQuery(DELETE).execute(Tuple.of(r.room(), r.seq(), now, r.rev()))
          .compose(v -> conn.preparedQuery(DELETE_REACTIONS).execute(Tuple.of(r.room(), r.seq())));
    } else {
      Change.React react = (Change.React) r.change();
      done = (react.on()
          ? conn.preparedQuery(REACT_ON).execute(Tuple.of(r.room(), r.seq(), r.user(), react.emoji(), now, r.rev()))
          : conn.preparedQuery(REACT_OFF).execute(Tuple.of(r.room(), r.seq(), r.user(), react.emoji())))
          .compose(v -> conn.preparedQuery(TOUCH).execute(Tuple.of(r.room(), r.seq(), r.rev())));
    }
    return done.mapEmpty();
  }

  /** The message's state now; its sender's name too, since history served from memory takes this copy. */
  private static StoredMessage stored(Request r, String cid, String name, ChangeRules.State s, long rev) {
    return new StoredMessage(r.room(), r.seq(), s.sender(), cid, s.body(), s.tsMillis(), name, rev, s.editedMillis(),
        s.deleted(), ChangeRules.aggregate(s.reactions()));
  }

  private static long millis(OffsetDateTime t) {
    return t.toInstant().toEpochMilli();
  }
}
