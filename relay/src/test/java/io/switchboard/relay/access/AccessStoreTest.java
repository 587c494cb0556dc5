package io.switchboard.relay.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.switchboard.relay.store.Database;
import io.switchboard.relay.store.StoreOptions;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The queries and the cached AccessControl against a real Postgres with the V3 schema. */
class AccessStoreTest {
  @TempDir
  static Path dataDir;
  static Vertx vertx;
  static Database db;
  static AccessStore store;

  @BeforeAll
  static void setUp() {
    vertx = Vertx.vertx();
    db = Database.start(vertx, new StoreOptions().setDataDir(dataDir.toString()).setPoolSize(4)).await();
    store = new AccessStore(db.pool());
  }

  @AfterAll
  static void tearDown() {
    db.close().await();
    vertx.close().await();
  }

  private static CachedAccessControl control(Context ctx, Visibility fallback, int entries) {
    return new CachedAccessControl(ctx, store, fallback, entries, new SimpleMeterRegistry());
  }

  @Test
  void roomsRolesAndMembers() {
    assertThat(store.load("s-none", "ann").await()).isEqualTo(new AccessStore.Loaded(null, null, false));
    store.setRole("s-r", "bob", Role.MEMBER, Visibility.PRIVATE, false).await();
    store.setRole("s-r", "ann", Role.OWNER, Visibility.PUBLIC, false).await();
    store.setRole("s-r", "Zed", Role.READER, Visibility.PUBLIC, false).await();
    assertThat(store.load("s-r", "bob").await()).as("created with the visibility of the first setRole")
        .isEqualTo(new AccessStore.Loaded(Visibility.PRIVATE, Role.MEMBER, false));
    assertThat(store.load("s-r", "stranger").await()).isEqualTo(new AccessStore.Loaded(Visibility.PRIVATE, null, false));
    assertThat(store.members("s-r", Visibility.PUBLIC).await()).isEqualTo(new AccessControl.RoomMembers("s-r",
        Visibility.PRIVATE, true, List.of(new Member("ann", Role.OWNER), new Member("Zed", Role.READER),
            new Member("bob", Role.MEMBER))));
    assertThat(store.members("s-none", Visibility.PUBLIC).await())
        .isEqualTo(new AccessControl.RoomMembers("s-none", Visibility.PUBLIC, false, List.of()));

    store.setVisibility("s-r", Visibility.PUBLIC).await();
    store.setRole("s-r", "bob", Role.READER, Visibility.PRIVATE, false).await();
    assertThat(store.load("s-r", "bob").await()).isEqualTo(new AccessStore.Loaded(Visibility.PUBLIC, Role.READER, false));
    assertThat(store.removeMember("s-r", "bob", false).await()).isTrue();
    assertThat(store.removeMember("s-r", "bob", false).await()).as("not listed any more").isFalse();
    assertThat(store.load("s-r", "bob").await()).isEqualTo(new AccessStore.Loaded(Visibility.PUBLIC, null, false));
    store.setVisibility("s-api", Visibility.PRIVATE).await();
    assertThat(store.members("s-api", Visibility.PUBLIC).await().created()).isTrue();
  }

  @Test
  void theOwnersFramesCannotTakeAwayTheLastOwnerButTheAdminApiCan() {
    store.setRole("s-own", "ann", Role.OWNER, Visibility.PRIVATE, false).await();
    store.setRole("s-own", "bob", Role.MEMBER, Visibility.PRIVATE, false).await();
    assertThatThrownBy(() -> store.setRole("s-own", "ann", Role.MEMBER, Visibility.PRIVATE, true).await())
        .isInstanceOf(LastOwnerException.class);
    assertThatThrownBy(() -> store.removeMember("s-own", "ann", true).await()).isInstanceOf(LastOwnerException.class);
    assertThat(store.load("s-own", "ann").await().role()).isEqualTo(Role.OWNER);
    assertThat(store.removeMember("s-own", "bob", true).await()).as("others go freely").isTrue();

    store.setRole("s-own", "bob", Role.OWNER, Visibility.PRIVATE, true).await();
    assertThat(store.removeMember("s-own", "ann", true).await()).as("another owner is left").isTrue();
    assertThat(store.removeMember("s-own", "bob", false).await()).as("the admin API may").isTrue();
  }

  @Test
  void twoOwnersRemovingEachOtherAtOnceLeaveOne() {
    for (int i = 0; i < 10; i++) {
      String room = "s-duel-" + i;
      store.setRole(room, "ann", Role.OWNER, Visibility.PRIVATE, false).await();
      store.setRole(room, "bob", Role.OWNER, Visibility.PRIVATE, false).await();
      Future<Boolean> a = store.removeMember(room, "ann", true);
      Future<Boolean> b = store.removeMember(room, "bob", true);
      Future.join(a, b).transform(ar -> Future.succeededFuture()).await();
      assertThat(List.of(a.succeeded(), b.succeeded())).containsExactlyInAnyOrder(true, false);
      assertThat(store.members(room, Visibility.PUBLIC).await().members()).hasSize(1);
    }
  }

  @Test
  void aSecondLookupIsAnsweredFromMemoryAndAChangeIsSeenAtOnce() {
    Context ctx = vertx.getOrCreateContext();
    CachedAccessControl access = control(ctx, Visibility.PUBLIC, 1000);
    List<String> seen = new CopyOnWriteArrayList<>();
    access.onChange(change -> {
      if (Vertx.currentContext() != ctx) {
        seen.add("wrong context");
      }
      // after the commit: a query from the listener sees the new state
      store.members(change.room(), Visibility.PUBLIC).onSuccess(m -> seen.add(change.user() + " " + m.visibility().wire()
          + " " + m.members().stream().map(x -> x.user() + "=" + x.role().wire()).collect(Collectors.joining(","))));
    });
    access.setVisibility("c-r", Visibility.PRIVATE).await();
    seen(seen, "null private ");
    access.setRole("c-r", "ann", Role.MEMBER).await();
    seen(seen, "ann private ann=member");
    long queries = access.queries();
    assertThat(access.access("c-r", "ann").await()).isEqualTo(new Access(Visibility.PRIVATE, Role.MEMBER));
    assertThat(access.access("c-r", "ann").await()).isEqualTo(new Access(Visibility.PRIVATE, Role.MEMBER));
    assertThat(access.access("c-r", "eve").await().canRead()).isFalse();
    assertThat(access.access("c-r", "eve").await().canRead()).isFalse();
    assertThat(access.queries() - queries).as("one query per (room, user), then memory").isEqualTo(2);

    access.setRole("c-r", "ann", Role.READER).await();
    seen(seen, "ann private ann=reader");
    assertThat(access.access("c-r", "ann").await()).isEqualTo(new Access(Visibility.PRIVATE, Role.READER));
    assertThat(access.removeMember("c-r", "ann").await()).isTrue();
    seen(seen, "ann private ");
    assertThat(access.access("c-r", "ann").await().canRead()).isFalse();
    access.setVisibility("c-r", Visibility.PUBLIC).await();
    seen(seen, "null public ");
    assertThat(access.access("c-r", "eve").await()).isEqualTo(new Access(Visibility.PUBLIC, null));
  }

  @Test
  void encryptionSwitchesOnForGoodAndReachesCachedAccessAtOnce() {
    Context ctx = vertx.getOrCreateContext();
    CachedAccessControl access = control(ctx, Visibility.PUBLIC, 1000);
    List<String> seen = new CopyOnWriteArrayList<>();
    access.onChange(change -> seen.add(change.room() + " " + change.user()));
    access.setRole("e-r", "ann", Role.OWNER).await();
    seen(seen, "e-r ann");
    assertThat(access.access("e-r", "ann").await().encrypted()).isFalse();
    assertThat(access.access("e-r", "ann").await().encrypted()).as("cached").isFalse();

    access.setEncrypted("e-r").await();
    seen(seen, "e-r null");
    assertThat(access.access("e-r", "ann").await()).as("the cached entry is gone")
        .isEqualTo(new Access(Visibility.PUBLIC, Role.OWNER, true));
    assertThat(access.access("e-r", "stranger").await().encrypted()).isTrue();
    assertThat(access.members("e-r").await().encrypted()).isTrue();
    // later changes of visibility and roles keep it
    access.setVisibility("e-r", Visibility.PRIVATE).await();
    access.setRole("e-r", "bob", Role.MEMBER).await();
    assertThat(store.load("e-r", "bob").await()).isEqualTo(new AccessStore.Loaded(Visibility.PRIVATE, Role.MEMBER, true));

    // a room nobody created is created encrypted with the default visibility
    store.setEncrypted("e-new", Visibility.PRIVATE).await();
    assertThat(store.members("e-new", Visibility.PUBLIC).await())
        .isEqualTo(new AccessControl.RoomMembers("e-new", Visibility.PRIVATE, true, List.of(), true));
  }

  /** The listener of the latest change saw {@code expected} (and nothing else since the last call). */
  private static void seen(List<String> seen, String expected) {
    Awaitility.await().untilAsserted(() -> assertThat(seen).hasSize(1));
    assertThat(seen.remove(0)).isEqualTo(expected);
  }

  /**
   * A lookup reads the old state, the change commits and is announced, then the lookup's answer
   * arrives (held back here; the query itself is real): the answer is returned but not cached.
   */
  @Test
  void aLoadOvertakenByAChangeIsNotCached() {
    Promise<Void> gate = Promise.promise();
    List<Boolean> read = new CopyOnWriteArrayList<>();
    AccessStore slow = new AccessStore(db.pool()) {
      @Override
      public Future<Loaded> load(String room, String user) {
        return super.load(room, user).onSuccess(l -> read.add(true)).compose(l -> gate.future().map(l));
      }
    };
    Context ctx = vertx.getOrCreateContext();
    CachedAccessControl access = new CachedAccessControl(ctx, slow, Visibility.PUBLIC, 100, new SimpleMeterRegistry());
    access.setRole("race", "ann", Role.MEMBER).await();
    access.setVisibility("race", Visibility.PRIVATE).await();

    Future<Access> overtaken = access.access("race", "ann");
    Awaitility.await().until(() -> !read.isEmpty());
    assertThat(access.removeMember("race", "ann").await()).isTrue();
    ctx.runOnContext(v -> gate.complete());
    assertThat(overtaken.await().role()).as("what it read").isEqualTo(Role.MEMBER);

    long queries = access.queries();
    assertThat(access.access("race", "ann").await().canRead()).isFalse();
    assertThat(access.queries() - queries).as("the stale answer was not cached").isEqualTo(1);
  }

  @Test
  void aFloodOfStrangersInDistinctRoomsStaysWithinTheBound() {
    CachedAccessControl access = control(vertx.getOrCreateContext(), Visibility.PRIVATE, 50);
    List<Future<Access>> all = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      all.add(access.access("flood-" + i, "stranger-" + i));
    }
    Future.all(all).await();
    assertThat(all).allSatisfy(f -> assertThat(f.result()).isEqualTo(new Access(Visibility.PRIVATE, null)));
    assertThat(access.cacheSize()).isLessThanOrEqualTo(150);
  }

  @Test
  void theDefaultVisibilityAppliesToRoomsNobodyCreated() {
    CachedAccessControl closed = control(vertx.getOrCreateContext(), Visibility.PRIVATE, 100);
    assertThat(closed.access("d-nobody", "ann").await().canRead()).isFalse();
    closed.setVisibility("d-public", Visibility.PUBLIC).await();
    assertThat(closed.access("d-public", "ann").await().canSend()).isTrue();
    CachedAccessControl open = control(vertx.getOrCreateContext(), Visibility.PUBLIC, 100);
    assertThat(open.access("d-nobody", "ann").await().canSend()).isTrue();
    closed.setRole("d-nobody", "ann", Role.MEMBER).await();
    assertThat(closed.members("d-nobody").await().visibility()).as("created with the default").isEqualTo(Visibility.PRIVATE);
    assertThat(closed.access("d-nobody", "ann").await().canSend()).isTrue();
  }
}
