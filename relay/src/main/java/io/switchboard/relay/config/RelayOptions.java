package io.switchboard.relay.config;

import io.switchboard.protocol.Limits;
import io.switchboard.relay.store.StoreOptions;
import io.vertx.core.json.JsonObject;

/**
 * Every relay setting with its default. The README's config table lists exactly {@link #toJson()}'s
 * keys (a test checks it); environment variables and the JSON file map onto these names through
 * {@link ConfigLoader}.
 */
public final class RelayOptions {
  public static final String DEFAULT_HOST = "0.0.0.0";
  public static final int DEFAULT_PORT = 8080;
  /** Loopback: metrics and steering data are nobody else's business; a container sets it explicitly. */
  public static final String DEFAULT_ADMIN_HOST = "127.0.0.1";
  public static final int DEFAULT_ADMIN_PORT = 8081;
  public static final long DEFAULT_HEARTBEAT_MS = 15_000;
  public static final long DEFAULT_HELLO_TIMEOUT_MS = 10_000;
  public static final int DEFAULT_MAX_FRAME_BYTES = Limits.DEFAULT_MAX_FRAME_BYTES;
  public static final int DEFAULT_MAX_BODY_BYTES = Limits.DEFAULT_MAX_BODY_BYTES;
  public static final int DEFAULT_MAX_ROOMS_PER_CONNECTION = 100;
  public static final int DEFAULT_MAX_HISTORY_LIMIT = Limits.DEFAULT_MAX_HISTORY_LIMIT;
  public static final int DEFAULT_MAX_RESUME_ROOMS = Limits.DEFAULT_MAX_RESUME_ROOMS;
  public static final int DEFAULT_RATE_FRAMES_PER_SECOND = 50;
  public static final int DEFAULT_RATE_BURST = 100;
  public static final int DEFAULT_OUTBOUND_QUEUE_MAX_CHARS = 1024 * 1024;
  public static final int DEFAULT_ABUSE_MAX_ERRORS = 20;
  public static final long DEFAULT_ABUSE_WINDOW_MS = 10_000;
  public static final int DEFAULT_RING_SIZE = 256;
  public static final int DEFAULT_DEDUPE_WINDOW = 4096;
  public static final int DEFAULT_RESUME_MAX_REPLAY = 1000;
  /** Edit and delete by the author within this long of the message's time (24 h); 0 = no limit. */
  public static final long DEFAULT_EDIT_WINDOW_MS = 86_400_000;
  /** Most {@code changed} frames a join or resume catches up on; past it {@code changesRecovered:false}. */
  public static final int DEFAULT_CHANGE_CATCH_UP_MAX = 1000;
  public static final long DEFAULT_UNREAD_INTERVAL_MS = 1000;
  public static final long DEFAULT_ROOM_IDLE_MS = 300_000;
  /** Joins per connection that load a room not in memory: a client joins its few rooms at once, never thousands. */
  public static final int DEFAULT_ROOM_LOADS_PER_SECOND = 10;
  public static final int DEFAULT_ROOM_LOAD_BURST = 100;
  /**
   * Rooms loaded at once: ~0.45 KB each when empty, ~1 KB more once written to (the ring) plus its
   * messages; 100,000 such rooms fit -Xmx1g with room to spare.
   */
  public static final int DEFAULT_MAX_ROOMS = 100_000;
  public static final long DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
  /** Rooms nobody created through the API: anyone authenticated may use them. */
  public static final String DEFAULT_DEFAULT_ROOM_VISIBILITY = "public";
  /**
   * Entries in each of the access cache's three LRUs (rooms, room-users, change stamps): ~100 bytes
   * each, so ~30 MB at most; past it joins of evicted (room, user) pairs cost a query again.
   */
  public static final int DEFAULT_ACCESS_CACHE_ENTRIES = 100_000;
  /**
   * Any origin: clients authenticate with a token in {@code hello}, never with cookies, so a page on
   * another origin gains nothing it could not get from a script anywhere. Listing the app's
   * origins keeps other sites from putting their users on this relay.
   */
  public static final String DEFAULT_ALLOWED_ORIGINS = "*";
  /** The values of {@code compression}; see {@link #DEFAULT_COMPRESSION}. */
  public static final java.util.List<String> COMPRESSION_VALUES = java.util.List.of("off", "deflate", "deflate-no-context");
  /**
   * No permessage-deflate, as Socket.IO and Centrifugo ship. Measured with browser-default clients
   * (2026-12-03, docs/operations.md): {@code deflate} keeps a zlib deflater and inflater per
   * connection off the heap, ~130 KB of RSS per active connection against ~21 KB without, and
   * raised chat p50/p99; {@code deflate-no-context} frees them after each message but saves only
   * ~10 % of the bytes on chat-sized messages. Bandwidth is far inside its target without it.
   */
  public static final String DEFAULT_COMPRESSION = "off";

  private String host = DEFAULT_HOST;
  private int port = DEFAULT_PORT;
  private String adminHost = DEFAULT_ADMIN_HOST;
  private int adminPort = DEFAULT_ADMIN_PORT;
  private long heartbeatMs = DEFAULT_HEARTBEAT_MS;
  private long helloTimeoutMs = DEFAULT_HELLO_TIMEOUT_MS;
  private int maxFrameBytes = DEFAULT_MAX_FRAME_BYTES;
  private int maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
  private int maxRoomsPerConnection = DEFAULT_MAX_ROOMS_PER_CONNECTION;
  private int maxHistoryLimit = DEFAULT_MAX_HISTORY_LIMIT;
  private int maxResumeRooms = DEFAULT_MAX_RESUME_ROOMS;
  private int rateFramesPerSecond = DEFAULT_RATE_FRAMES_PER_SECOND;
  private int rateBurst = DEFAULT_RATE_BURST;
  private int outboundQueueMaxChars = DEFAULT_OUTBOUND_QUEUE_MAX_CHARS;
  private int abuseMaxErrors = DEFAULT_ABUSE_MAX_ERRORS;
  private long abuseWindowMs = DEFAULT_ABUSE_WINDOW_MS;
  private int ringSize = DEFAULT_RING_SIZE;
  private int dedupeWindow = DEFAULT_DEDUPE_WINDOW;
  private int resumeMaxReplay = DEFAULT_RESUME_MAX_REPLAY;
  private long editWindowMs = DEFAULT_EDIT_WINDOW_MS;
  private int changeCatchUpMax = DEFAULT_CHANGE_CATCH_UP_MAX;
  private long unreadIntervalMs = DEFAULT_UNREAD_INTERVAL_MS;
  private long roomIdleMs = DEFAULT_ROOM_IDLE_MS;
  private int roomLoadsPerSecond = DEFAULT_ROOM_LOADS_PER_SECOND;
  private int roomLoadBurst = DEFAULT_ROOM_LOAD_BURST;
  private int maxRooms = DEFAULT_MAX_ROOMS;
  private long shutdownGraceMs = DEFAULT_SHUTDOWN_GRACE_MS;
  private String secret;
  private String defaultRoomVisibility = DEFAULT_DEFAULT_ROOM_VISIBILITY;
  private int accessCacheEntries = DEFAULT_ACCESS_CACHE_ENTRIES;
  private String allowedOrigins = DEFAULT_ALLOWED_ORIGINS;
  private String adminToken;
  private String compression = DEFAULT_COMPRESSION;
  private int eventLoops;
  private ClusterOptions cluster = new ClusterOptions();
  private AuthOptions auth = new AuthOptions();
  private StoreOptions store = new StoreOptions();
  private P2pOptions p2p = new P2pOptions();
  private LimitsOptions limits = new LimitsOptions();

  public RelayOptions() {
  }

  public RelayOptions(RelayOptions other) {
    this(other.toJson());
  }

  public RelayOptions(JsonObject json) {
    this();
    JsonObject known = toJson();
    for (String key : json.fieldNames()) {
      if (!known.containsKey(key)) {
        throw new IllegalArgumentException("unknown setting '" + key + "'; known: " + known.fieldNames());
      }
    }
    setHost(json.getString("host", host));
    setPort(json.getInteger("port", port));
    setAdminHost(json.getString("adminHost", adminHost));
    setAdminPort(json.getInteger("adminPort", adminPort));
    setHeartbeatMs(json.getLong("heartbeatMs", heartbeatMs));
    setHelloTimeoutMs(json.getLong("helloTimeoutMs", helloTimeoutMs));
    setMaxFrameBytes(json.getInteger("maxFrameBytes", maxFrameBytes));
    setMaxBodyBytes(json.getInteger("maxBodyBytes", maxBodyBytes));
    setMaxRoomsPerConnection(json.getInteger("maxRoomsPerConnection", maxRoomsPerConnection));
    setMaxHistoryLimit(json.getInteger("maxHistoryLimit", maxHistoryLimit));
    setMaxResumeRooms(json.getInteger("maxResumeRooms", maxResumeRooms));
    setRateFramesPerSecond(json.getInteger("rateFramesPerSecond", rateFramesPerSecond));
    setRateBurst(json.getInteger("rateBurst", rateBurst));
    setOutboundQueueMaxChars(json.getInteger("outboundQueueMaxChars", outboundQueueMaxChars));
    setAbuseMaxErrors(json.getInteger("abuseMaxErrors", abuseMaxErrors));
    setAbuseWindowMs(json.getLong("abuseWindowMs", abuseWindowMs));
    setRingSize(json.getInteger("ringSize", ringSize));
    setDedupeWindow(json.getInteger("dedupeWindow", dedupeWindow));
    setResumeMaxReplay(json.getInteger("resumeMaxReplay", resumeMaxReplay));
    setEditWindowMs(json.getLong("editWindowMs", editWindowMs));
    setChangeCatchUpMax(json.getInteger("changeCatchUpMax", changeCatchUpMax));
    setUnreadIntervalMs(json.getLong("unreadIntervalMs", unreadIntervalMs));
    setRoomIdleMs(json.getLong("roomIdleMs", roomIdleMs));
    setRoomLoadsPerSecond(json.getInteger("roomLoadsPerSecond", roomLoadsPerSecond));
    setRoomLoadBurst(json.getInteger("roomLoadBurst", roomLoadBurst));
    setMaxRooms(json.getInteger("maxRooms", maxRooms));
    setShutdownGraceMs(json.getLong("shutdownGraceMs", shutdownGraceMs));
    setSecret(json.getString("secret", secret));
    setDefaultRoomVisibility(json.getString("defaultRoomVisibility", defaultRoomVisibility));
    setAccessCacheEntries(json.getInteger("accessCacheEntries", accessCacheEntries));
    setAllowedOrigins(json.getString("allowedOrigins", allowedOrigins));
    setAdminToken(json.getString("adminToken", adminToken));
    setCompression(json.getString("compression", compression));
    setEventLoops(json.getInteger("eventLoops", eventLoops));
    if (json.getValue("cluster") != null) {
      setCluster(new ClusterOptions(json.getJsonObject("cluster")));
    }
    if (json.getValue("auth") != null) {
      setAuth(new AuthOptions(json.getJsonObject("auth")));
    }
    if (json.getValue("store") != null) {
      setStore(new StoreOptions(json.getJsonObject("store")));
    }
    if (json.getValue("p2p") != null) {
      setP2p(new P2pOptions(json.getJsonObject("p2p")));
    }
    if (json.getValue("limits") != null) {
      setLimits(new LimitsOptions(json.getJsonObject("limits")));
    }
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("host", host).put("port", port).put("adminHost", adminHost).put("adminPort", adminPort)
        .put("heartbeatMs", heartbeatMs).put("helloTimeoutMs", helloTimeoutMs)
        .put("maxFrameBytes", maxFrameBytes).put("maxBodyBytes", maxBodyBytes)
        .put("maxRoomsPerConnection", maxRoomsPerConnection).put("maxHistoryLimit", maxHistoryLimit)
        .put("maxResumeRooms", maxResumeRooms)
        .put("rateFramesPerSecond", rateFramesPerSecond).put("rateBurst", rateBurst)
        .put("outboundQueueMaxChars", outboundQueueMaxChars)
        .put("abuseMaxErrors", abuseMaxErrors).put("abuseWindowMs", abuseWindowMs)
        .put("ringSize", ringSize).put("dedupeWindow", dedupeWindow).put("resumeMaxReplay", resumeMaxReplay)
        .put("editWindowMs", editWindowMs).put("changeCatchUpMax", changeCatchUpMax)
        .put("unreadIntervalMs", unreadIntervalMs).put("roomIdleMs", roomIdleMs)
        .put("roomLoadsPerSecond", roomLoadsPerSecond).put("roomLoadBurst", roomLoadBurst).put("maxRooms", maxRooms)
        .put("shutdownGraceMs", shutdownGraceMs)
        .put("secret", secret)
        .put("defaultRoomVisibility", defaultRoomVisibility).put("accessCacheEntries", accessCacheEntries)
        .put("allowedOrigins", allowedOrigins)
        .put("adminToken", adminToken)
        .put("compression", compression)
        .put("eventLoops", eventLoops)
        .put("cluster", cluster.toJson())
        .put("auth", auth.toJson())
        .put("store", store.toJson())
        .put("p2p", p2p.toJson())
        .put("limits", limits.toJson());
  }

  /** The protocol limits these settings imply. */
  public Limits limits() {
    return new Limits(maxFrameBytes, maxBodyBytes, maxHistoryLimit, maxResumeRooms,
        Math.min(p2p.getMaxSignalBytes(), maxFrameBytes));
  }

  private static int positive(String name, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be >= 1, was " + value);
    }
    return value;
  }

  private static long positive(String name, long value) {
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be >= 1, was " + value);
    }
    return value;
  }

  private static int port(String name, int value) {
    if (value < 0 || value > 65535) {
      throw new IllegalArgumentException(name + " must be 0-65535 (0 = any free port), was " + value);
    }
    return value;
  }

  public String getHost() { return host; }
  public RelayOptions setHost(String host) { this.host = java.util.Objects.requireNonNull(host, "host"); return this; }
  public int getPort() { return port; }
  public RelayOptions setPort(int port) { this.port = port("port", port); return this; }
  public String getAdminHost() { return adminHost; }
  public RelayOptions setAdminHost(String adminHost) { this.adminHost = java.util.Objects.requireNonNull(adminHost, "adminHost"); return this; }
  public int getAdminPort() { return adminPort; }
  public RelayOptions setAdminPort(int adminPort) { this.adminPort = port("adminPort", adminPort); return this; }
  public long getHeartbeatMs() { return heartbeatMs; }
  public RelayOptions setHeartbeatMs(long heartbeatMs) { this.heartbeatMs = positive("heartbeatMs", heartbeatMs); return this; }
  public long getHelloTimeoutMs() { return helloTimeoutMs; }
  public RelayOptions setHelloTimeoutMs(long helloTimeoutMs) { this.helloTimeoutMs = positive("helloTimeoutMs", helloTimeoutMs); return this; }
  public int getMaxFrameBytes() { return maxFrameBytes; }
  public RelayOptions setMaxFrameBytes(int maxFrameBytes) { this.maxFrameBytes = positive("maxFrameBytes", maxFrameBytes); return this; }
  public int getMaxBodyBytes() { return maxBodyBytes; }
  public RelayOptions setMaxBodyBytes(int maxBodyBytes) { this.maxBodyBytes = positive("maxBodyBytes", maxBodyBytes); return this; }
  public int getMaxRoomsPerConnection() { return maxRoomsPerConnection; }
  public RelayOptions setMaxRoomsPerConnection(int v) { this.maxRoomsPerConnection = positive("maxRoomsPerConnection", v); return this; }
  public int getMaxHistoryLimit() { return maxHistoryLimit; }
  public RelayOptions setMaxHistoryLimit(int v) { this.maxHistoryLimit = positive("maxHistoryLimit", v); return this; }
  public int getMaxResumeRooms() { return maxResumeRooms; }
  public RelayOptions setMaxResumeRooms(int v) { this.maxResumeRooms = positive("maxResumeRooms", v); return this; }
  public int getRateFramesPerSecond() { return rateFramesPerSecond; }
  public RelayOptions setRateFramesPerSecond(int v) { this.rateFramesPerSecond = positive("rateFramesPerSecond", v); return this; }
  public int getRateBurst() { return rateBurst; }
  public RelayOptions setRateBurst(int v) { this.rateBurst = positive("rateBurst", v); return this; }
  public int getOutboundQueueMaxChars() { return outboundQueueMaxChars; }
  public RelayOptions setOutboundQueueMaxChars(int v) { this.outboundQueueMaxChars = positive("outboundQueueMaxChars", v); return this; }
  public int getAbuseMaxErrors() { return abuseMaxErrors; }
  public RelayOptions setAbuseMaxErrors(int v) { this.abuseMaxErrors = positive("abuseMaxErrors", v); return this; }
  public long getAbuseWindowMs() { return abuseWindowMs; }
  public RelayOptions setAbuseWindowMs(long v) { this.abuseWindowMs = positive("abuseWindowMs", v); return this; }
  public int getRingSize() { return ringSize; }
  public RelayOptions setRingSize(int v) { this.ringSize = positive("ringSize", v); return this; }
  public int getDedupeWindow() { return dedupeWindow; }
  public RelayOptions setDedupeWindow(int v) { this.dedupeWindow = positive("dedupeWindow", v); return this; }
  public int getResumeMaxReplay() { return resumeMaxReplay; }
  public RelayOptions setResumeMaxReplay(int v) { this.resumeMaxReplay = positive("resumeMaxReplay", v); return this; }
  public long getEditWindowMs() { return editWindowMs; }
  public RelayOptions setEditWindowMs(long v) {
    if (v < 0) {
      throw new IllegalArgumentException("editWindowMs must be >= 0 (0 = no limit), was " + v);
    }
    this.editWindowMs = v;
    return this;
  }
  public int getChangeCatchUpMax() { return changeCatchUpMax; }
  public RelayOptions setChangeCatchUpMax(int v) { this.changeCatchUpMax = positive("changeCatchUpMax", v); return this; }
  public long getUnreadIntervalMs() { return unreadIntervalMs; }
  public RelayOptions setUnreadIntervalMs(long v) { this.unreadIntervalMs = positive("unreadIntervalMs", v); return this; }
  public long getRoomIdleMs() { return roomIdleMs; }
  public RelayOptions setRoomIdleMs(long v) { this.roomIdleMs = positive("roomIdleMs", v); return this; }
  public int getRoomLoadsPerSecond() { return roomLoadsPerSecond; }
  public RelayOptions setRoomLoadsPerSecond(int v) { this.roomLoadsPerSecond = positive("roomLoadsPerSecond", v); return this; }
  public int getRoomLoadBurst() { return roomLoadBurst; }
  public RelayOptions setRoomLoadBurst(int v) { this.roomLoadBurst = positive("roomLoadBurst", v); return this; }
  public int getMaxRooms() { return maxRooms; }
  public RelayOptions setMaxRooms(int v) { this.maxRooms = positive("maxRooms", v); return this; }
  public long getShutdownGraceMs() { return shutdownGraceMs; }
  public RelayOptions setShutdownGraceMs(long v) { this.shutdownGraceMs = positive("shutdownGraceMs", v); return this; }
  public String getSecret() { return secret; }
  public RelayOptions setSecret(String secret) {
    if (secret != null && !secret.isEmpty() && secret.length() < 16) {
      throw new IllegalArgumentException("secret must be at least 16 characters");
    }
    this.secret = secret == null || secret.isEmpty() ? null : secret;
    return this;
  }
  public String getDefaultRoomVisibility() { return defaultRoomVisibility; }
  public RelayOptions setDefaultRoomVisibility(String v) {
    if (!"public".equals(v) && !"private".equals(v)) {
      throw new IllegalArgumentException("defaultRoomVisibility must be public or private, was '" + v + "'");
    }
    defaultRoomVisibility = v;
    return this;
  }
  public int getAccessCacheEntries() { return accessCacheEntries; }
  public RelayOptions setAccessCacheEntries(int v) { this.accessCacheEntries = positive("accessCacheEntries", v); return this; }
  public String getAllowedOrigins() { return allowedOrigins; }
  public RelayOptions setAllowedOrigins(String v) {
    allowedOrigins = java.util.Objects.requireNonNull(v, "allowedOrigins").trim();
    // a typo must stop the start, not lock every browser out (or let every origin in) at run time
    io.switchboard.relay.transport.AllowedOrigins.parse(allowedOrigins);
    return this;
  }
  public String getAdminToken() { return adminToken; }
  public RelayOptions setAdminToken(String v) {
    if (v != null && !v.isEmpty() && v.length() < 16) {
      throw new IllegalArgumentException("adminToken must be at least 16 characters");
    }
    adminToken = v == null || v.isEmpty() ? null : v;
    return this;
  }
  public String getCompression() { return compression; }
  public RelayOptions setCompression(String v) {
    if (!COMPRESSION_VALUES.contains(v)) {
      throw new IllegalArgumentException("compression must be one of " + COMPRESSION_VALUES + ", was '" + v + "'");
    }
    compression = v;
    return this;
  }
  /** Event loops rooms are sharded over; 0 (the default) means one per available core. */
  public int getEventLoops() { return eventLoops; }
  public RelayOptions setEventLoops(int v) {
    if (v < 0 || v > 256) {
      throw new IllegalArgumentException("eventLoops must be 0 (one per core) to 256, was " + v);
    }
    eventLoops = v;
    return this;
  }
  /** {@link #getEventLoops()} with 0 resolved to the cores this process may use. */
  public int effectiveEventLoops() {
    return eventLoops > 0 ? eventLoops : Runtime.getRuntime().availableProcessors();
  }
  public ClusterOptions getCluster() { return cluster; }
  public RelayOptions setCluster(ClusterOptions cluster) { this.cluster = java.util.Objects.requireNonNull(cluster, "cluster"); return this; }
  public AuthOptions getAuth() { return auth; }
  public RelayOptions setAuth(AuthOptions auth) { this.auth = java.util.Objects.requireNonNull(auth, "auth"); return this; }
  public StoreOptions getStore() { return store; }
  public RelayOptions setStore(StoreOptions store) { this.store = java.util.Objects.requireNonNull(store, "store"); return this; }
  public P2pOptions getP2p() { return p2p; }
  public RelayOptions setP2p(P2pOptions p2p) { this.p2p = java.util.Objects.requireNonNull(p2p, "p2p"); return this; }
  public LimitsOptions getLimits() { return limits; }
  public RelayOptions setLimits(LimitsOptions limits) { this.limits = java.util.Objects.requireNonNull(limits, "limits"); return this; }
}
