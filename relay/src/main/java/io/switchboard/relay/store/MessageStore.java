package io.switchboard.relay.store;

import io.switchboard.protocol.Limits;
import io.switchboard.protocol.ServerFrame.Reaction;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Read side: history pages, resume, dedupe lookups. Every query walks the {@code (room, seq)} or
 * {@code (room, sender, cid)} index.
 */
public final class MessageStore {

  private static final String COLUMNS =
      "room, seq, sender, cid, body, created_at, sender_name, rev, edited_at, deleted_at";
  /**
   * Each emoji of some messages, in order of its first reaction: the exact count and the first
   * {@link Limits#MAX_REACTION_USERS} users in reaction order.
   */
  private static final String REACTIONS = "SELECT seq, emoji, count(*)::int AS n,"
      + " (array_agg(user_id ORDER BY rev))[1:" + Limits.MAX_REACTION_USERS + "] AS users, min(rev) AS first"
      + " FROM reactions WHERE room = $1 AND seq = ANY($2) GROUP BY seq, emoji ORDER BY seq, first";

  private final Pool pool;

  public MessageStore(Pool pool) {
    this.pool = pool;
  }


  /**
   * The newest {@code limit} messages with seq below {@code beforeSeq} ({@link Long#MAX_VALUE} for
   * the latest page), in ascending seq order.
   */
  public Future<List<StoredMessage>> before(String room, long beforeSeq, int limit) {
    requireLimit(limit);
    return pool.preparedQuery("SELECT " + COLUMNS + " FROM messages"
        + " WHERE room = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3")
      .execute(Tuple.of(room, beforeSeq, limit))
      .map(rows -> {
        List<StoredMessage> page = toList(rows);
        Collections.reverse(page);
        return page;
      })
      .compose(page -> withReactions(room, page));
  }

  /** Up to {@code limit} messages with seq above {@code afterSeq}, ascending (resume). */
  public Future<List<StoredMessage>> after(String room, long afterSeq, int limit) {
    requireLimit(limit);
    return pool.preparedQuery("SELECT " + COLUMNS + " FROM messages"
        + " WHERE room = $1 AND seq > $2 ORDER BY seq LIMIT $3")
      .execute(Tuple.of(room, afterSeq, limit))
      .map(MessageStore::toList)
      .compose(rows -> withReactions(room, rows));
  }

  /**
   * Messages changed after {@code afterRev} up to {@code uptoRev}, oldest change first, at most
   * {@code limit} (a client's catch-up of edits, deletes and reactions).
   */
  public Future<List<StoredMessage>> changedAfter(String room, long afterRev, long uptoRev, int limit) {
    requireLimit(limit);
    return pool.preparedQuery("SELECT " + COLUMNS + " FROM messages"
        + " WHERE room = $1 AND rev > $2 AND rev <= $3 ORDER BY rev LIMIT $4")
      .execute(Tuple.of(room, afterRev, uptoRev, limit))
      .map(MessageStore::toList)
      .compose(rows -> withReactions(room, rows));
  }

  /** Only changed messages (rev > 0) can have reactions: a page of unchanged ones costs no second query. */
  private Future<List<StoredMessage>> withReactions(String room, List<StoredMessage> rows) {
    Long[] seqs = rows.stream().filter(m -> m.rev() > 0 && !m.deleted()).map(StoredMessage::seq).toArray(Long[]::new);
    if (seqs.length == 0) {
      return Future.succeededFuture(rows);
    }
    return pool.preparedQuery(REACTIONS).execute(Tuple.of(room, (Object) seqs)).map(found -> {
      Map<Long, List<Reaction>> bySeq = new HashMap<>();
      for (Row row : found) {
        bySeq.computeIfAbsent(row.getLong(0), s -> new ArrayList<>()).add(new Reaction(row.getString(1),
            row.getInteger(2), List.of(row.getArrayOfStrings(3))));
      }
      List<StoredMessage> out = new ArrayList<>(rows.size());
      for (StoredMessage m : rows) {
        List<Reaction> reactions = bySeq.get(m.seq());
        out.add(reactions == null ? m : m.withReactions(reactions));
      }
      return out;
    });
  }

  /** The seq already stored for a client's send, if any. */
  public Future<Optional<Long>> findSeq(String room, String sender, String cid) {
    return pool.preparedQuery("SELECT seq FROM messages WHERE room = $1 AND sender = $2 AND cid = $3")
      .execute(Tuple.of(room, sender, cid))
      .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(rows.iterator().next().getLong(0)));
  }

  /** The seqs already stored for some of a sender's cids (a batch's), by cid; absent cids are new. */
  public Future<Map<String, Long>> findSeqs(String room, String sender, List<String> cids) {
    return pool.preparedQuery("SELECT cid, seq FROM messages WHERE room = $1 AND sender = $2 AND cid = ANY($3)")
      .execute(Tuple.of(room, sender, cids.toArray(String[]::new)))
      .map(rows -> {
        Map<String, Long> seqs = new HashMap<>();
        rows.forEach(row -> seqs.put(row.getString(0), row.getLong(1)));
        return seqs;
      });
  }

  /** The pool it reads with (changes commit through the same one). */
  public Pool pool() {
    return pool;
  }

  /** Round trip to the database, for readiness checks. */
  public Future<Void> ping() {
    return pool.query("SELECT 1").execute().mapEmpty();
  }

  private static void requireLimit(int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be >= 1, got " + limit);
    }
  }

  private static List<StoredMessage> toList(RowSet<Row> rows) {
    List<StoredMessage> list = new ArrayList<>(rows.size());
    for (Row row : rows) {
      list.add(new StoredMessage(
        row.getString("room"),
        row.getLong("seq"),
        row.getString("sender"),
        row.getString("cid"),
        row.getString("body"),
        row.getOffsetDateTime("created_at").toInstant().toEpochMilli(),
        row.getString("sender_name"),
        row.getLong("rev"),
        row.getOffsetDateTime("edited_at") == null ? null : row.getOffsetDateTime("edited_at").toInstant().toEpochMilli(),
        row.getOffsetDateTime("deleted_at") != null,
        List.of()));
    }
    return list;
  }
}
