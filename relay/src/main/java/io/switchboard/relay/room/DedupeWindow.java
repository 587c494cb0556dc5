package io.switchboard.relay.room;

import java.util.LinkedHashMap;
import java.util.Map;

/** The last {@code capacity} (sender, cid) → seq of a room, oldest evicted first. */
public final class DedupeWindow {
  private final LinkedHashMap<String, Long> seqByKey;

  public DedupeWindow(int capacity) {
    this.seqByKey = new LinkedHashMap<>(16, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
        return size() > capacity;
      }
    };
  }

  public Long find(String sender, String cid) {
    return seqByKey.get(key(sender, cid));
  }

  public void remember(String sender, String cid, long seq) {
    seqByKey.put(key(sender, cid), seq);
  }

  public int size() {
    return seqByKey.size();
  }

  static String key(String sender, String cid) {
    // NUL cannot occur in either part (both are validated ASCII), so keys never collide.
    return sender + '\0' + cid;
  }
}
