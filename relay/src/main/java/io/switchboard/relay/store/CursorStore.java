package io.switchboard.relay.store;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Read cursors in storage ({@code read_cursors}): one per user per room, only ever moved forward. */
public final class CursorStore {
  /** One cursor to write. */
  public record Cursor(String room, String user, long seq) {}

  private static final String LOAD = "SELECT user_id, seq FROM read_cursors WHERE room = $1"
      + " ORDER BY updated_at DESC, user_id LIMIT $2";
  // GREATEST and the WHERE make a late or repeated write harmless: a cursor never moves back, and
  // updated_at only changes when it moved. A room whose row is gone (a blank room forgotten, with
  // its cursors, when released) gets none back: joining made-up room names leaves nothing on disk.
  private static final String UPSERT = "INSERT INTO read_cursors (room, user_id, seq, updated_at)"
      + " SELECT u.room, u.user_id, u.seq, now() FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(room, user_id, seq)"
      + " WHERE EXISTS (SELECT 1 FROM rooms r WHERE r.name = u.room)"
      + " ON CONFLICT (room, user_id) DO UPDATE SET seq = GREATEST(read_cursors.seq, EXCLUDED.seq),"
      + " updated_at = EXCLUDED.updated_at WHERE EXCLUDED.seq > read_cursors.seq";

  private final Pool pool;

  public CursorStore(Pool pool) {
    this.pool = pool;
  }

  /** The room's {@code limit} most recently moved cursors, user → seq, oldest move first. */
  public Future<Map<String, Long>> load(String room, int limit) {
    return pool.preparedQuery(LOAD).execute(Tuple.of(room, limit)).map(rows -> {
      List<Row> newestFirst = new ArrayList<>(rows.size());
      rows.forEach(newestFirst::add);
      Collections.reverse(newestFirst);
      Map<String, Long> cursors = new LinkedHashMap<>();
      for (Row row : newestFirst) {
        cursors.put(row.getString(0), row.getLong(1));
      }
      return cursors;
    });
  }

  /** One user's cursor in the room (null: none). */
  public Future<Long> get(String room, String user) {
    return pool.preparedQuery("SELECT seq FROM read_cursors WHERE room = $1 AND user_id = $2")
        .execute(Tuple.of(room, user))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getLong(0));
  }

  /**
   * Writes the cursors in one statement. The caller sorts them by (room, user): statements of
   * several relays then lock rows in one order and cannot deadlock each other.
   */
  public Future<Void> upsert(List<Cursor> cursors) {
    String[] rooms = new String[cursors.size()];
    String[] users = new String[cursors.size()];
    Long[] seqs = new Long[cursors.size()];
    for (int i = 0; i < cursors.size(); i++) {
      Cursor c = cursors.get(i);
      rooms[i] = c.room();
      users[i] = c.user();
      seqs[i] = c.seq();
    }
    return pool.preparedQuery(UPSERT).execute(Tuple.tuple().addValue(rooms).addValue(users).addValue(seqs)).mapEmpty();
  }
}
