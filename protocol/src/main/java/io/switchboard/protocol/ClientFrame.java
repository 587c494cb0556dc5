package io.switchboard.protocol;

import java.util.List;
import java.util.Map;

/**
 * Frames a client sends. {@code id} is the optional correlation id (a String or a Long) echoed in
 * the reply or error; null when absent.
 */
public sealed interface ClientFrame {
  Object id();

  /**
   * First frame on a socket. {@code resume} maps room → where the client's copy of it ends;
   * {@code name} is a guest's display name (trimmed and checked; null: none).
   */
  record Hello(Object id, String token, Map<String, ResumePoint> resume, String name) implements ClientFrame {
    public Hello {
      resume = resume == null ? Map.of() : Map.copyOf(resume);
    }

    public Hello(Object id, String token, Map<String, ResumePoint> resume) {
      this(id, token, resume, null);
    }
  }

  /**
   * The last seq a client holds of a room and the epoch it was sequenced in; {@code epoch} is null
   * for a legacy resume that sent only the number.
   */
  record ResumePoint(long seq, String epoch, Long rev) {
    public ResumePoint(long seq, String epoch) {
      this(seq, epoch, null);
    }
  }

  /** {@code rev}: the room's last change rev the client's cached copy reflects (null: none; no catch-up of changes). */
  record Join(Object id, String room, RoomMode mode, Long rev) implements ClientFrame {
    public Join(Object id, String room, RoomMode mode) {
      this(id, room, mode, null);
    }
  }

  record Leave(Object id, String room) implements ClientFrame {}

  /** Switches a joined room between full messages (active) and unread summaries (background). */
  record SetMode(Object id, String room, RoomMode mode) implements ClientFrame {}

  /**
   * {@code resend} is set by clients retransmitting from their outbox: the server then also looks
   * for the cid in storage, beyond its in-memory dedupe window. {@code ts} is when the user sent it
   * (epoch ms, client clock corrected by the server's); null: not given.
   */
  record Send(Object id, String room, String cid, String body, boolean resend, Long ts) implements ClientFrame {
    /** A send without {@code ts}: the server's time stands. */
    public Send(Object id, String room, String cid, String body, boolean resend) {
      this(id, room, cid, body, resend, null);
    }
  }

  /**
   * Messages a peer already delivered over a DataChannel, uploaded so history is complete; already
   * decoded from {@code data} and validated like {@code send}s, in the order the client sent them.
   * {@code to}: peer ids whose DataChannel took every item (they get {@code seqs}, not {@code msg});
   * {@code resend}: as {@code send.resend} (false: a first upload, no storage lookup).
   */
  record Batch(Object id, String room, List<BatchItem> items, List<String> to, boolean resend) implements ClientFrame {
    public Batch {
      items = List.copyOf(items);
      to = List.copyOf(to);
    }

    /** A batch as older clients send it: nobody listed, every item possibly a resend. */
    public Batch(Object id, String room, List<BatchItem> items) {
      this(id, room, items, List.of(), true);
    }
  }

  /** One message of a {@link Batch}: the sender's {@code cid}, the text and, when given, its send time. */
  record BatchItem(String cid, String body, Long ts) {
    public BatchItem(String cid, String body) {
      this(cid, body, null);
    }
  }

  /** {@code before} is exclusive; null means the newest page. */
  record History(Object id, String room, Long before, int limit) implements ClientFrame {}

  record Ping(Object id) implements ClientFrame {}

  /** Replaces the connection's token (before it expires, or within the grace after {@code token_expired}); same user only. */
  record Auth(Object id, String token) implements ClientFrame {}

  /**
   * What a client observed about its own connectivity. {@code mapped}: the reflexive addresses
   * ({@code ip:port}) one local socket got from the STUN service's primary and alternate port;
   * {@code host}: the client's own IPs; {@code mapping}/{@code filtering}: RFC 5780 results where the
   * client could run them; {@code turn}: whether it obtained a relay candidate (null: not tried).
   */
  record Profile(Object id, boolean udp, List<String> mapped, List<String> host, NatBehaviour mapping,
      NatBehaviour filtering, Boolean turn, List<String> candidates) implements ClientFrame {
    public Profile {
      mapped = List.copyOf(mapped);
      host = List.copyOf(host);
      candidates = List.copyOf(candidates);
    }
  }

  /** WebRTC signaling to one peer of a room; {@code data} is the raw text of a JSON object, opaque to the server. */
  record Signal(Object id, String room, String to, String data) implements ClientFrame {}

  /** Where a steered pair ended: {@code setupMs} until the channel opened (or the attempt gave up). */
  record P2pResult(Object id, String room, String peer, PeerPath path, long setupMs, Double rttMs)
      implements ClientFrame {}

  /** An owner lists {@code user} in {@code room} with {@code role} ({@code owner}, {@code member} or {@code reader}). */
  record Grant(Object id, String room, String user, String role) implements ClientFrame {}

  /** An owner takes {@code user} off {@code room}'s members. */
  record Revoke(Object id, String room, String user) implements ClientFrame {}

  /** An owner asks for the room's visibility and members. */
  record Members(Object id, String room) implements ClientFrame {}

  /** An owner switches the room to end-to-end encrypted (never back): bodies must be sealed from then on. */
  record Encrypt(Object id, String room) implements ClientFrame {}

  /** The user has read {@code room} up to {@code seq} (>= 1): its cursor there moves forward. */
  record Read(Object id, String room, long seq) implements ClientFrame {}

  /** The user started ({@code on}) or stopped typing in {@code room}. */
  record Typing(Object id, String room, boolean on) implements ClientFrame {}

  /** The author replaces the body of message {@code seq} (validated like {@code send.body}). */
  record Edit(Object id, String room, long seq, String body) implements ClientFrame {}

  /** Delete-for-everyone of message {@code seq}: its body and reactions are erased, a tombstone stays. */
  record Delete(Object id, String room, long seq) implements ClientFrame {}

  /** Adds ({@code on}) or removes the user's reaction {@code emoji} on message {@code seq}. */
  record React(Object id, String room, long seq, String emoji, boolean on) implements ClientFrame {}
}
