package io.switchboard.relay.access;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The cache alone: hits, invalidation by stamps, the load/change race, the bound. */
class AccessCacheTest {
  private final AccessCache cache = new AccessCache(100);

  @Test
  void aLoadedEntryAnswersUntilItsRoomChanges() {
    assertThat(cache.lookup("r", "ann", Visibility.PUBLIC)).isNull();
    cache.put("r", "ann", Visibility.PRIVATE, Role.READER, false, cache.ticket());
    cache.put("r", "bob", Visibility.PRIVATE, null, false, cache.ticket());
    cache.put("other", "ann", Visibility.PRIVATE, Role.OWNER, false, cache.ticket());
    assertThat(cache.lookup("r", "ann", Visibility.PUBLIC)).isEqualTo(new Access(Visibility.PRIVATE, Role.READER));
    assertThat(cache.lookup("r", "bob", Visibility.PUBLIC)).as("negative entry").isEqualTo(new Access(Visibility.PRIVATE, null));
    assertThat(cache.lookup("r", "cy", Visibility.PUBLIC)).as("another user of a created room needs its own row").isNull();

    cache.changed("r");
    assertThat(cache.lookup("r", "ann", Visibility.PUBLIC)).isNull();
    assertThat(cache.lookup("r", "bob", Visibility.PUBLIC)).isNull();
    assertThat(cache.lookup("other", "ann", Visibility.PUBLIC)).as("other rooms keep their entries")
        .isEqualTo(new Access(Visibility.PRIVATE, Role.OWNER));
  }

  @Test
  void aRoomNobodyCreatedAnswersEveryUserWithTheDefault() {
    cache.put("open", "ann", null, null, false, cache.ticket());
    assertThat(cache.lookup("open", "stranger", Visibility.PUBLIC)).isEqualTo(new Access(Visibility.PUBLIC, null));
    assertThat(cache.lookup("open", "stranger", Visibility.PRIVATE).canRead()).isFalse();
  }

  @Test
  void aLoadThatReadBeforeAChangeAndCompletesAfterItIsNotCached() {
    long ticket = cache.ticket();      // the load queries: ann is a member
    cache.changed("r");                // ann is removed and the change commits
    cache.put("r", "ann", Visibility.PRIVATE, Role.MEMBER, false, ticket);  // the old answer arrives
    assertThat(cache.lookup("r", "ann", Visibility.PUBLIC)).as("the next lookup must query again").isNull();

    cache.put("r", "ann", Visibility.PRIVATE, null, false, cache.ticket());
    assertThat(cache.lookup("r", "ann", Visibility.PUBLIC)).isEqualTo(new Access(Visibility.PRIVATE, null));
  }

  @Test
  void aFloodOfDistinctRoomsStaysWithinTheBoundAndEvictedStampsStayConservative() {
    AccessCache small = new AccessCache(10);
    long before = small.ticket();
    small.changed("old");
    for (int i = 0; i < 10_000; i++) {
      small.put("room-" + i, "stranger-" + i, Visibility.PRIVATE, null, false, small.ticket());
      small.changed("changed-" + i);
    }
    assertThat(small.size()).isLessThanOrEqualTo(30);
    // "old"'s stamp is long evicted: an answer loaded before its change must still not be taken
    small.put("old", "ann", Visibility.PRIVATE, Role.OWNER, false, before);
    assertThat(small.lookup("old", "ann", Visibility.PUBLIC)).isNull();
    small.put("old", "ann", Visibility.PRIVATE, Role.OWNER, false, small.ticket());
    assertThat(small.lookup("old", "ann", Visibility.PUBLIC)).isEqualTo(new Access(Visibility.PRIVATE, Role.OWNER));
  }
}
