package io.switchboard.protocol;

import java.util.regex.Pattern;

/**
 * Validation limits applied by {@link FrameParser}. Server configuration decides the sizes; the
 * character sets are part of the protocol and fixed here.
 */
public record Limits(int maxFrameBytes, int maxBodyBytes, int maxHistoryLimit, int maxResumeRooms,
    int maxSignalBytes) {
  public static final int DEFAULT_MAX_FRAME_BYTES = 64 * 1024;
  public static final int DEFAULT_MAX_BODY_BYTES = 16 * 1024;
  public static final int DEFAULT_MAX_HISTORY_LIMIT = 100;
  public static final int DEFAULT_HISTORY_LIMIT = 50;
  public static final int DEFAULT_MAX_RESUME_ROOMS = 100;
  public static final int DEFAULT_MAX_SIGNAL_BYTES = 16 * 1024;

  public static final int MAX_ROOM_LENGTH = 64;
  public static final int MAX_CID_LENGTH = 64;
  public static final int MAX_ID_LENGTH = 64;
  /** A Supabase access token with its user and app metadata runs to a few KB; a guest token is ~80 chars. */
  public static final int MAX_TOKEN_LENGTH = 8192;
  /** Peer ids are session ids the server made; anything longer is not one. */
  public static final int MAX_PEER_LENGTH = 64;
  /** A display name ({@code hello.name}) in Unicode code points, after trimming. */
  public static final int MAX_NAME_CODE_POINTS = 64;
  /** Entries in a profile's address and candidate-type lists. */
  public static final int MAX_PROFILE_ITEMS = 8;
  /** Messages in one {@code batch}: a peer uploads every 2 s, so 50 is 25 messages a second. */
  public static final int MAX_BATCH_ITEMS = 50;
  /** A reaction's emoji: 1 to this many UTF-8 bytes (room for ZWJ sequences and skin tones). */
  public static final int MAX_EMOJI_BYTES = 32;
  /** Distinct emoji one message may carry; one more is {@code too_large}. */
  public static final int MAX_EMOJI_PER_MESSAGE = 20;
  /** Users listed per emoji in a message's state (its {@code count} stays exact). */
  public static final int MAX_REACTION_USERS = 50;
  /** Peers one {@code batch.to} may list: more than a DataChannel mesh holds. */
  public static final int MAX_BATCH_TO = 64;
  /** The only {@code batch.enc}: LZ-String's Base64 form of the items' JSON text. */
  public static final String BATCH_ENCODING = "lz";
  /** A DataChannel that takes longer than ten minutes to open did not open. */
  public static final long MAX_SETUP_MS = 600_000;

  /** Room names: ASCII letters, digits and {@code . _ : @ -}, starting with a letter or digit. */
  public static final Pattern ROOM = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}");
  /** A room's sequencing epoch as clients echo it in {@code hello.resume} (the server makes 8 of [a-z0-9]). */
  public static final Pattern EPOCH = Pattern.compile("[A-Za-z0-9]{1,16}");
  /**
   * User ids in {@code grant}/{@code revoke}: what authentication yields (guests' {@code u-…}, a JWT's
   * {@code sub} such as a UUID or {@code auth0|123}); printable ASCII without spaces or quotes.
   */
  public static final Pattern USER = Pattern.compile("[A-Za-z0-9._:@|+=-]{1,128}");
  /** Client message ids: UUIDs and similar opaque ASCII tokens. */
  public static final Pattern CID = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

  public static Limits defaults() {
    return new Limits(DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_HISTORY_LIMIT,
        DEFAULT_MAX_RESUME_ROOMS, DEFAULT_MAX_SIGNAL_BYTES);
  }

  /**
   * Characters a {@code batch}'s data may decompress to: four frames' worth, so an honest batch of
   * chat text fits and a decompression bomb stops early.
   */
  public int maxBatchChars() {
    return (int) Math.min(Integer.MAX_VALUE, 4L * maxFrameBytes);
  }

  public Limits {
    if (maxFrameBytes < 256 || maxBodyBytes < 1 || maxBodyBytes > maxFrameBytes) {
      throw new IllegalArgumentException("need 256 <= maxFrameBytes and 1 <= maxBodyBytes <= maxFrameBytes");
    }
    if (maxHistoryLimit < 1 || maxResumeRooms < 0) {
      throw new IllegalArgumentException("maxHistoryLimit must be >= 1 and maxResumeRooms >= 0");
    }
    if (maxSignalBytes < 2 || maxSignalBytes > maxFrameBytes) {
      throw new IllegalArgumentException("need 2 <= maxSignalBytes <= maxFrameBytes");
    }
  }
}
