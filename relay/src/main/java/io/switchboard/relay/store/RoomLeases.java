package io.switchboard.relay.store;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Predicate;

/**
 * Which node sequences a room: the {@code rooms} row's owner (a process incarnation), its lease, the
 * room's epoch and durable watermark. A node claims a room before sequencing it, renews the leases
 * of all its rooms in one statement, and releases a room when it unloads it cleanly. An epoch
 * changes only when a node takes over a room whose owner stopped without releasing it: seqs past
 * the old owner's durable watermark (recorded with every renewal and at release) may then have
 * been shown to clients and lost. In a cluster, a room whose owner left this node's view of the
 * cluster ({@code departed}) is taken over at once, as if its lease had run out: should that owner
 * still be alive (a split brain, a frozen process), the new epoch fences its writes.
 */
public final class RoomLeases {

  /** One epoch of a room: {@code since} is the last seq it shares with the epoch before it. */
  public record Epoch(String epoch, long since) {}

  /** The outcome of {@link #claim}. */
  public sealed interface Claim permits Claimed, Busy {}

  /**
   * This node owns the room: sequence from {@code head} (the stored max) in {@code epoch};
   * {@code epochs} oldest first.
   */
  public record Claimed(String epoch, long head, List<Epoch> epochs, long rev) implements Claim {
    public Claimed {
      epochs = List.copyOf(epochs);
    }

    public Claimed(String epoch, long head, List<Epoch> epochs) {
      this(epoch, head, epochs, 0);
    }
  }

  /** Another live node owns the room; its lease runs out in {@code retryInMs}. */
  public record Busy(long retryInMs) implements Claim {}

  /** What {@link #claim} does with a room row, given its owner. */
  enum Decision { KEEP, TAKE_OVER, BUSY }

  /** What the HTTP history needs of a room this node has not loaded; {@code rev}: its last change. */
  public record Bound(String epoch, long head, long immutableUpTo, long rev) {
    public Bound(String epoch, long head, long immutableUpTo) {
      this(epoch, head, immutableUpTo, 0);
    }
  }

  private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
  private static final SecureRandom RANDOM = new SecureRandom();

  private static final String CREATE =
      "WITH created AS (INSERT INTO rooms (name, epoch) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING name, epoch)"
          + " INSERT INTO room_epochs (room, epoch, since) SELECT name, epoch, 0 FROM created";
  private static final String LOCK =
      "SELECT epoch, owner, lease_until > now(), durable_seq,"
          + " greatest(0, ceil(extract(epoch FROM lease_until - now()) * 1000))::bigint, rev"
          + " FROM rooms WHERE name = $1 FOR UPDATE";
  // a statement of its own after the lock: it must see what a previous owner committed while we waited
  private static final String STORED_MAX = "SELECT coalesce(max(seq), 0) FROM messages WHERE room = $1";
  private static final String NEW_EPOCH = "INSERT INTO room_epochs (room, epoch, since) VALUES ($1, $2, $3)";
  private static final String TAKE = "UPDATE rooms SET epoch = $2, owner = $3,"
      + " lease_until = now() + $4 * interval '1 millisecond', durable_seq = greatest(durable_seq, $5) WHERE name = $1";
  private static final String EPOCHS = "SELECT epoch, since FROM room_epochs WHERE room = $1 ORDER BY started_at, since";
  // every room this node owns; the watermarks of those it lists too
  private static final String RENEW = "UPDATE rooms r SET lease_until = now() + $2 * interval '1 millisecond',"
      + " durable_seq = greatest(r.durable_seq, coalesce(u.durable, 0))"
      + " FROM rooms o LEFT JOIN unnest($3::text[], $4::text[], $5::bigint[]) AS u(name, epoch, durable)"
      + " ON u.name = o.name AND u.epoch = o.epoch"
      + " WHERE o.owner = $1 AND r.name = o.name AND r.owner = $1";
  private static final String RELEASE = "UPDATE rooms r SET owner = NULL, lease_until = NULL,"
      + " durable_seq = greatest(r.durable_seq, u.head)"
      + " FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(name, epoch, head)"
      + " WHERE r.name = u.name AND r.epoch = u.epoch AND r.owner = $4";
  // A released room that never got a message and was never taken over has nothing a client could
  // hold: its rows go, so joining random room names leaves nothing behind on disk either.
  private static final String FORGET_BLANK = "WITH gone AS (DELETE FROM rooms r USING unnest($1::text[]) AS u(name)"
      + " WHERE r.name = u.name AND r.owner IS NULL AND r.durable_seq = 0"
      + " AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.room = r.name)"
      + " AND (SELECT count(*) FROM room_epochs e WHERE e.room = r.name) = 1 RETURNING r.name),"
      + " cursors AS (DELETE FROM read_cursors c USING gone WHERE c.room = gone.name)"
      + " DELETE FROM room_epochs e USING gone WHERE e.room = gone.name";
  private static final String BOUND = "SELECT r.epoch, r.owner IS NULL OR r.lease_until <= now(), r.durable_seq,"
      + " (SELECT coalesce(max(seq), 0) FROM messages WHERE room = $1), coalesce(r.rev, 0)"
      + " FROM (SELECT 1) AS one LEFT JOIN rooms r ON r.name = $1";

  private final Pool pool;
  private final String incarnation;
  private final long leaseMs;
  private final boolean exclusive;
  private final Predicate<String> departed;

  /**
   * @param exclusive true when no other process can use this database (the embedded Postgres: its
   *                  postmaster lock): a room owned by another incarnation is then a crashed one's
   */
  public RoomLeases(Pool pool, String incarnation, long leaseMs, boolean exclusive) {
    this(pool, incarnation, leaseMs, exclusive, owner -> false);
  }

  /**
   * @param departed whether an owner incarnation left the cluster (any thread): its live leases
   *                 are taken over at once, in a new epoch
   */
  public RoomLeases(Pool pool, String incarnation, long leaseMs, boolean exclusive, Predicate<String> departed) {
    this.pool = pool;
    this.incarnation = incarnation;
    this.leaseMs = leaseMs;
    this.exclusive = exclusive;
    this.departed = departed;
  }

  /** A fresh id for this process start: {@code n-} and 12 hex digits. */
  public static String newIncarnation() {
    byte[] bytes = new byte[6];
    RANDOM.nextBytes(bytes);
    return "n-" + HexFormat.of().formatHex(bytes);
  }

  /** 8 random characters of [a-z0-9]. */
  public static String newEpoch() {
    char[] chars = new char[8];
    for (int i = 0; i < chars.length; i++) {
      chars[i] = ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length()));
    }
    return new String(chars);
  }

  public String incarnation() {
    return incarnation;
  }

  public long leaseMs() {
    return leaseMs;
  }

  static Decision decide(String owner, boolean leaseLive, String me, boolean exclusive, boolean ownerDeparted) {
    if (owner == null || owner.equals(me)) {
      return Decision.KEEP;
    }
    return leaseLive && !exclusive && !ownerDeparted ? Decision.BUSY : Decision.TAKE_OVER;
  }

  /** Claims the room for this node in one transaction (creating its row if it has none). */
  public Future<Claim> claim(String room) {
    return pool.withTransaction(conn -> conn.preparedQuery(CREATE).execute(Tuple.of(room, newEpoch()))
        .compose(v -> conn.preparedQuery(LOCK).execute(Tuple.of(room)))
        .compose(rows -> {
          if (rows.size() == 0) {
            // another relay forgot the blank room between our insert and the lock: try again
            return Future.succeededFuture((Claim) new Busy(0));
          }
          Row row = rows.iterator().next();
          String epoch = row.getString(0);
          String owner = row.getString(1);
          boolean live = Boolean.TRUE.equals(row.getBoolean(2));
          long durable = row.getLong(3);
          // a change commits its rev to this row under the same lock: none is given out twice
          long rev = row.getLong(5);
          Decision decision = decide(owner, live, incarnation, exclusive, owner != null && departed.test(owner));
          if (decision == Decision.BUSY) {
            Long remaining = row.getLong(4);
            return Future.succeededFuture(new Busy(remaining == null ? 0 : remaining));
          }
          return conn.preparedQuery(STORED_MAX).execute(Tuple.of(room)).compose(max -> {
            // a seq at or below the durable watermark was used even when its row is a hole: never reuse it
            long head = Math.max(durable, max.iterator().next().getLong(0));
            String current = decision == Decision.TAKE_OVER ? newEpoch() : epoch;
            Future<?> recorded = decision == Decision.TAKE_OVER
                ? conn.preparedQuery(NEW_EPOCH).execute(Tuple.of(room, current, durable))
                : Future.succeededFuture();
            return recorded
                .compose(v -> conn.preparedQuery(TAKE).execute(Tuple.of(room, current, incarnation, leaseMs, head)))
                .compose(v -> epochs(conn, room))
                .map(epochs -> (Claim) new Claimed(current, head, epochs, rev));
          });
        }));
  }

  private static Future<List<Epoch>> epochs(SqlConnection conn, String room) {
    return conn.preparedQuery(EPOCHS).execute(Tuple.of(room)).map(rows -> {
      List<Epoch> epochs = new ArrayList<>(rows.size());
      for (Row row : rows) {
        epochs.add(new Epoch(row.getString(0), row.getLong(1)));
      }
      return epochs;
    });
  }

  /**
   * Extends the lease of every room this node owns and records the durable watermark of the rooms
   * listed (those loaded here), in one statement; @return how many rooms it renewed.
   */
  public Future<Integer> renew(List<String> rooms, List<String> epochs, List<Long> durables) {
    return pool.preparedQuery(RENEW).execute(Tuple.of(incarnation, leaseMs, rooms.toArray(String[]::new),
        epochs.toArray(String[]::new), durables.toArray(Long[]::new))).map(rows -> rows.rowCount());
  }

  /**
   * Gives rooms up cleanly: every seq up to each head is stored, so the next owner keeps the epoch.
   * Only for rooms with nothing left to write.
   */
  public Future<Void> release(List<String> rooms, List<String> epochs, List<Long> heads) {
    if (rooms.isEmpty()) {
      return Future.succeededFuture();
    }
    String[] names = rooms.toArray(String[]::new);
    return pool.withTransaction(conn -> conn.preparedQuery(RELEASE)
        .execute(Tuple.of(names, epochs.toArray(String[]::new), heads.toArray(Long[]::new), incarnation))
        .compose(v -> conn.preparedQuery(FORGET_BLANK).execute(Tuple.of((Object) names))))
        .mapEmpty();
  }

  /** For a room not loaded here (epoch "" when it was never created). */
  public Future<Bound> bound(String room) {
    return pool.preparedQuery(BOUND).execute(Tuple.of(room)).map(rows -> {
      Row row = rows.iterator().next();
      String epoch = row.getString(0);
      long head = row.getLong(3);
      // nobody sequences it (or, on an exclusive database, nobody can): the next claim starts above head
      boolean settled = exclusive || Boolean.TRUE.equals(row.getBoolean(1));
      return new Bound(epoch == null ? "" : epoch, head, settled ? head : Math.min(head, row.getLong(2)), row.getLong(4));
    });
  }
}
