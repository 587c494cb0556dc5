package io.switchboard.relay.access;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;

/**
 * The queries behind {@link AccessControl} (tables {@code room_access}, {@code room_members}, migration
 * V3). Changes of one room run in a transaction that locks its {@code room_access} row, so the
 * last-owner check and the change cannot interleave with another change of that room. Not final: a
 * test delays a real load's answer to stage the load/change race.
 */
public class AccessStore {
  private final Pool pool;

  public AccessStore(Pool pool) {
    this.pool = pool;
  }

  /** A room's stored visibility (null: nobody created it), one user's role (null: not listed) and whether it is encrypted. */
  public record Loaded(Visibility visibility, Role role, boolean encrypted) {}

  /** One query: what a join needs to know. */
  public Future<Loaded> load(String room, String user) {
    return pool.preparedQuery("SELECT a.visibility, m.role, a.encrypted FROM room_access a"
            + " LEFT JOIN room_members m ON m.room = a.room AND m.user_id = $2 WHERE a.room = $1")
        .execute(Tuple.of(room, user))
        .map(rows -> {
          if (rows.size() == 0) {
            return new Loaded(null, null, false);
          }
          Row row = rows.iterator().next();
          String role = row.getString(1);
          return new Loaded(Visibility.parse(row.getString(0)), role == null ? null : Role.parse(role), row.getBoolean(2));
        });
  }

  public Future<Void> setVisibility(String room, Visibility visibility) {
    return pool.preparedQuery("INSERT INTO room_access (room, visibility) VALUES ($1, $2)"
            + " ON CONFLICT (room) DO UPDATE SET visibility = excluded.visibility")
        .execute(Tuple.of(room, visibility.wire())).mapEmpty();
  }

  /**
   * Switches the room to encrypted, creating it with {@code created} visibility if it has no row.
   * Never switched off: there is no way back.
   */
  public Future<Void> setEncrypted(String room, Visibility created) {
    return pool.preparedQuery("INSERT INTO room_access (room, visibility, encrypted) VALUES ($1, $2, true)"
            + " ON CONFLICT (room) DO UPDATE SET encrypted = true")
        .execute(Tuple.of(room, created.wire())).mapEmpty();
  }

  /**
   * Lists {@code user} with {@code role}, creating the room with {@code created} visibility if it has
   * no row. With {@code keepAnOwner}, demoting the room's only owner fails with {@link LastOwnerException}.
   */
  public Future<Void> setRole(String room, String user, Role role, Visibility created, boolean keepAnOwner) {
    return pool.withTransaction(conn -> conn.preparedQuery("INSERT INTO room_access (room, visibility) VALUES ($1, $2)"
            + " ON CONFLICT (room) DO NOTHING").execute(Tuple.of(room, created.wire()))
        .compose(v -> lockAndCheck(conn, room, user, keepAnOwner && role != Role.OWNER))
        .compose(v -> conn.preparedQuery("INSERT INTO room_members (room, user_id, role) VALUES ($1, $2, $3)"
                + " ON CONFLICT (room, user_id) DO UPDATE SET role = excluded.role, granted_at = now()")
            .execute(Tuple.of(room, user, role.wire())))
        .mapEmpty());
  }

  /** @return false when the user was not listed; with {@code keepAnOwner}, removing the only owner fails */
  public Future<Boolean> removeMember(String room, String user, boolean keepAnOwner) {
    return pool.withTransaction(conn -> lockAndCheck(conn, room, user, keepAnOwner)
        .compose(v -> conn.preparedQuery("DELETE FROM room_members WHERE room = $1 AND user_id = $2")
            .execute(Tuple.of(room, user)))
        .map(rows -> rows.rowCount() > 0));
  }

  /** Locks the room's row (if any) and, when asked, refuses to take away its last owner. */
  private static Future<Void> lockAndCheck(SqlConnection conn, String room, String user, boolean keepAnOwner) {
    return conn.preparedQuery("SELECT 1 FROM room_access WHERE room = $1 FOR UPDATE").execute(Tuple.of(room))
        .compose(locked -> !keepAnOwner ? Future.succeededFuture()
            : conn.preparedQuery("SELECT bool_or(user_id = $2), count(*) FROM room_members"
                    + " WHERE room = $1 AND role = 'owner'").execute(Tuple.of(room, user))
                .compose(rows -> {
                  Row row = rows.iterator().next();
                  boolean isOwner = Boolean.TRUE.equals(row.getBoolean(0));
                  return isOwner && row.getLong(1) == 1 ? Future.failedFuture(new LastOwnerException(room))
                      : Future.succeededFuture();
                }));
  }

  /** The room's visibility ({@code fallback} when nobody created it) and members, owners first, then by user id. */
  public Future<AccessControl.RoomMembers> members(String room, Visibility fallback) {
    return pool.preparedQuery("SELECT a.visibility, m.user_id, m.role, a.encrypted FROM room_access a"
            + " LEFT JOIN room_members m ON m.room = a.room WHERE a.room = $1"
            + " ORDER BY m.role = 'owner' DESC, m.user_id COLLATE \"C\"")
        .execute(Tuple.of(room))
        .map(rows -> {
          if (rows.size() == 0) {
            return new AccessControl.RoomMembers(room, fallback, false, List.of());
          }
          Visibility visibility = null;
          boolean encrypted = false;
          List<Member> members = new ArrayList<>();
          for (Row row : rows) {
            visibility = Visibility.parse(row.getString(0));
            encrypted = row.getBoolean(3);
            if (row.getString(1) != null) {
              members.add(new Member(row.getString(1), Role.parse(row.getString(2))));
            }
          }
          return new AccessControl.RoomMembers(room, visibility, true, members, encrypted);
        });
  }
}
