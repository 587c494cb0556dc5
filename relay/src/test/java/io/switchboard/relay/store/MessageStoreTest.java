package io.switchboard.relay.store;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static io.switchboard.relay.store.StoreTestSupport.exec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MessageStoreTest {

  @TempDir
  static Path dataDir;

  static Vertx vertx;
  static Database db;
  static MessageStore store;

  @BeforeAll
  static void setUp() {
    vertx = Vertx.vertx();
    db = Database.start(vertx, new StoreOptions().setDataDir(dataDir.toString()).setPoolSize(2)).await();
    store = new MessageStore(db.pool());
    // 50 messages in "r", created_at = 1700000000000 + seq ms; a neighbour room to stay out of
    exec(db.pool(), "INSERT INTO messages (room, seq, sender, cid, body, created_at)"
      + " SELECT 'r', s, 'u' || (s % 3), 'c' || s, 'body ' || s, to_timestamp((1700000000000 + s) / 1000.0)"
      + " FROM generate_series(1, 50) s;"
      + " INSERT INTO messages VALUES ('r2', 1, 'u0', 'c1', 'other', now())").await();
  }

  @AfterAll
  static void tearDown() {
    db.close().await();
    vertx.close().await();
  }

  @Test
  void beforePagesBackwardsInAscendingOrder() {
    assertThat(seqs(store.before("r", Long.MAX_VALUE, 10).await())).containsExactly(41L, 42L, 43L, 44L, 45L, 46L, 47L, 48L, 49L, 50L);
    assertThat(seqs(store.before("r", 41, 3).await())).containsExactly(38L, 39L, 40L);
    assertThat(seqs(store.before("r", 4, 10).await())).containsExactly(1L, 2L, 3L);
    assertThat(store.before("r", 1, 10).await()).isEmpty();
  }

  @Test
  void afterResumesInAscendingOrder() {
    assertThat(seqs(store.after("r", 0, 3).await())).containsExactly(1L, 2L, 3L);
    assertThat(seqs(store.after("r", 47, 10).await())).containsExactly(48L, 49L, 50L);
    assertThat(store.after("r", 50, 10).await()).isEmpty();
  }

  @Test
  void rowsMapToStoredMessages() {
    StoredMessage m = store.after("r", 6, 1).await().get(0);
    assertThat(m).isEqualTo(new StoredMessage("r", 7, "u1", "c7", "body 7", 1_700_000_000_007L));
  }

  /** Issue 17: pages and catch-ups carry each message's state, reactions by first reaction with 50 users at most. */
  @Test
  void changedMessagesComeWithTheirStateInEveryRead() {
    exec(db.pool(), "INSERT INTO messages (room, seq, sender, cid, body, created_at, rev, edited_at)"
      + " VALUES ('rc', 1, 'u0', 'c1', 'edited', now(), 3, to_timestamp(1700000001.5));"
      + " INSERT INTO messages (room, seq, sender, cid, body, created_at, deleted_at, rev) VALUES ('rc', 2, 'u0', 'c2',"
      + " NULL, now(), now(), 2), ('rc', 3, 'u0', 'c3', 'plain', now(), NULL, 0);"
      + " INSERT INTO reactions (room, seq, user_id, emoji, rev) SELECT 'rc', 1, 'v' || i, '👍', 100 + i"
      + " FROM generate_series(1, 60) i;"
      + " INSERT INTO reactions (room, seq, user_id, emoji, rev) VALUES ('rc', 1, 'w', '❤️', 1)").await();
    for (List<StoredMessage> read : List.of(store.before("rc", Long.MAX_VALUE, 10).await(), store.after("rc", 0, 10).await())) {
      StoredMessage edited = read.get(0);
      assertThat(edited.rev()).isEqualTo(3);
      assertThat(edited.editedAtMillis()).isEqualTo(1_700_000_001_500L);
      assertThat(edited.reactions()).extracting(r -> r.emoji()).containsExactly("❤️", "👍");
      assertThat(edited.reactions().get(1).count()).isEqualTo(60);
      assertThat(edited.reactions().get(1).users()).hasSize(50).startsWith("v1").endsWith("v50");
      assertThat(read.get(1).deleted()).isTrue();
      assertThat(read.get(1).body()).isNull();
      assertThat(read.get(2).rev()).isZero();
      assertThat(read.get(2).reactions()).isEmpty();
    }
    assertThat(seqs(store.changedAfter("rc", 0, 3, 10).await())).as("oldest change first").containsExactly(2L, 1L);
    assertThat(seqs(store.changedAfter("rc", 2, 3, 10).await())).containsExactly(1L);
    assertThat(seqs(store.changedAfter("rc", 0, 2, 10).await())).as("up to the rev joined named").containsExactly(2L);
    assertThat(seqs(store.changedAfter("rc", 0, 3, 1).await())).containsExactly(2L);
  }

  @Test
  void findSeq() {
    assertThat(store.findSeq("r", "u1", "c7").await()).contains(7L);
    assertThat(store.findSeq("r", "u2", "c7").await()).isEmpty();
    assertThat(store.findSeq("r2", "u0", "c1").await()).contains(1L);
  }

  @Test
  void ping() {
    store.ping().await();
  }

  @Test
  void badLimitRejected() {
    assertThatThrownBy(() -> store.before("r", 10, 0)).isInstanceOf(IllegalArgumentException.class);
  }

  private static List<Long> seqs(List<StoredMessage> page) {
    return page.stream().map(StoredMessage::seq).toList();
  }
}
