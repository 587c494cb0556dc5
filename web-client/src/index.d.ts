// Types of the Switchboard browser SDK (src/index.js). Hand-written; keep in step with the JSDoc.

export declare const version: string;

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'offline' | 'suspended' | 'closed';
export type Path = 'p2p' | 'turn' | 'relay';
export type RoomMode = 'active' | 'background';
export type MessageStatus = 'pending' | 'sent' | 'stored' | 'failed';
export type Role = 'owner' | 'member' | 'reader';
export type Visibility = 'public' | 'private';
/**
 * What the SDK sends as the connection's token: a string, or one returned (or promised) by a
 * function. null/undefined: none (a guest, where the relay allows guests).
 */
export type TokenSource = string | (() => string | null | undefined | Promise<string | null | undefined>);

export declare const State: Readonly<{
  CONNECTING: 'connecting'; OPEN: 'open'; RECONNECTING: 'reconnecting';
  OFFLINE: 'offline'; SUSPENDED: 'suspended'; CLOSED: 'closed';
}>;

/** A chat message. The SDK mutates the same object as it learns more ('update' events). */
export interface Message {
  /** Room sequence number; null until the server has assigned it (pending, or P2P not yet batched). */
  seq: number | null;
  /** Client message id (a UUID for messages sent by this SDK). */
  cid: string;
  /** User id of the sender. */
  from: string;
  body: string;
  /** When its user sent it: epoch ms on the server's clock (the sender's clock corrected by pongs; stored clamped to the server's last 10 min). */
  ts: number;
  /** How it reached this client (received) or left it (sent); null while not yet sent. */
  path: Path | null;
  /** pending → sent (relay delivered or every DataChannel took it) → stored (server ack stored:true); failed when refused for good. */
  status: MessageStatus;
  /** Sent by this user (from this or another device). */
  mine: boolean;
  /** The sender's display name when it sent (msg/page/cache; for DataChannel messages, the one presence gave); absent: none. */
  name?: string;
  /** The room's rev of this message's last change (edit, delete, reaction); 0: never changed. */
  rev: number;
  /** Epoch ms of the last edit; absent when never edited. */
  edited?: number;
  /** Deleted for everyone: `body` is then ''. */
  deleted?: boolean;
  /** Reactions in order of each emoji's first reaction; [] when none. */
  reactions: Reaction[];
  /** The body came sealed (an encrypted room): opened on this device, or see `undecryptable`. */
  encrypted?: boolean;
  /**
   * Why a sealed body did not open: 'missing_key' (this device lacks its key yet; when the key
   * arrives the message opens and an 'update' follows) or 'tampered' (it fails its check: altered,
   * or moved to another room, sender or cid). `body` is then ''; show a placeholder. Also '' (with
   * neither set) for the moment a sealed body is being opened (a received message's 'message' event
   * waits for it; one from the cache or history gets an 'update').
   */
  undecryptable?: 'missing_key' | 'tampered';
}

export interface Reaction {
  emoji: string;
  /** Exact number of users who reacted so. */
  count: number;
  /** The first 50 of them, in reaction order. */
  users: string[];
  /** This user is among them (also when beyond the 50 listed, if it reacted from this client). */
  mine: boolean;
}

/** Another connection typing (own user's devices excluded). */
export interface TypingUser {
  user: string;
  /** The user's display name, when it has one. */
  name?: string;
  /** The typing connection's session id. */
  peer: string;
}

/** Read cursors moved (a `reads` frame, `joined.reads`, or this user's own read or send). */
export interface ReadsEvent {
  room: string;
  /** The cursors that moved: user → last read seq. `room.reads` holds them all. */
  reads: Record<string, number>;
  /** `room.unreadCount` after the move. */
  unreadCount: number;
}

/** Who else is typing changed (started, stopped, expired after 6 s, left, or sent a message). */
export interface TypingEvent {
  room: string;
  users: TypingUser[];
}

export interface PresenceEvent {
  room: string;
  event: 'join' | 'leave' | 'profile';
  peer: string;
  user: string;
  /** The user's display name, when its token has one. */
  name?: string;
  profile?: NatProfile;
}

export interface NatProfile {
  class: 'none' | 'full-cone' | 'restricted-cone' | 'port-restricted' | 'cone' | 'symmetric' | 'udp-blocked' | 'unknown';
  udp: boolean;
  turn?: boolean;
}

export interface PeerInfo {
  /** The other connection's session id. */
  peer: string;
  user: string;
  /** The user's display name, when its token has one. */
  name?: string;
  profile?: NatProfile;
  /** What the server steered this pair to. */
  mode: Path;
  /** Where the pair is now. */
  path: Path | 'connecting';
  /** DataChannel round trip (app-level ping), when open. */
  rttMs?: number;
  /** Set on the last event of a peer that left. */
  gone?: true;
}

export interface UnreadEvent {
  count: number;
  lastSeq: number;
  preview?: string;
}

export interface StateEvent {
  state: ConnectionState;
  previous: ConnectionState;
  /** Present when a retry is scheduled (reconnecting) or the breaker is open (suspended). */
  retryInMs?: number;
}

/**
 * The relay lost messages it had already delivered (it stopped uncleanly before storing them) and
 * the room started a new epoch. Every message this client held after `divergedAfter` was checked
 * against the server (the resume replay, or history pages).
 */
export interface DivergedEvent {
  room: string;
  /** Held messages with a seq above this one may not have existed; those up to it did. */
  divergedAfter: number;
  /** Held messages the server does not have: already out of the window and the cache. */
  removed: Message[];
  /** Held messages stored under another seq (the same objects, updated; each had an 'update'). */
  moved: Message[];
}

/** The server ended this client's membership of a room; the room is left, its cache deleted, and not rejoined. */
export interface RemovedEvent {
  room: string;
  /** `left.reason` ('removed': the user was removed or the room made private), or 'forbidden' for a refused resume. */
  reason: string;
  /** The room's unsent messages: out of the outbox, each now status 'failed' (and had an 'update'). */
  dropped: Message[];
}

/** The token was refreshed on the open socket. */
export interface AuthedEvent {
  user: string;
  name: string | null;
  /** Epoch ms; null: never. */
  expiresAt: number | null;
}

export interface MemberList {
  room: string;
  visibility: Visibility | null;
  members: { user: string; role: Role }[];
}

export interface WindowChange {
  items: Message[];
  hasOlder: boolean;
  hasNewer: boolean;
}

export interface Stats {
  state: ConnectionState;
  sent: Record<Path, number>;
  received: Record<Path, number>;
  /** Malformed DataChannel frames dropped. */
  droppedPeerFrames: number;
  /** Signals for peers this client has no connection with. */
  droppedSignals: number;
  /** Signals refused (locally, e.g. an SDP over the signal limit, or by the server). */
  signalErrors: number;
  /** Messages not yet confirmed stored. */
  outbox: number;
  /** P2P-delivered messages waiting for their batch ack. */
  batchPending: number;
  batchesSent: number;
  reconnects: number;
  /** Joins refused and rooms dropped with room_unavailable (each retried after a backoff). */
  roomUnavailable: number;
  /**
   * Rooms dropped and joins refused with room_moved (a cluster moved the room to another relay):
   * each rejoined at once on the same connection, the outbox resent after `joined`.
   */
  roomMoved: number;
  rooms: number;
  storage: 'indexeddb' | 'memory' | null;
}

export interface Limits {
  maxFrameBytes: number;
  maxBodyBytes: number;
  maxRooms: number;
  maxHistoryLimit: number;
  maxSignalBytes: number;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface BackoffOptions { baseMs: number; maxMs: number; factor: number; jitter: number }
export interface BreakerOptions { failures: number; openMs: number }

export interface ConnectOptions {
  /**
   * A guest's display name, sent as `hello.name` (trimmed; 1–64 characters, no control
   * characters, else connect() rejects with 'bad_request'). A JWT's own name wins; `client.name`
   * is the name the server uses.
   */
  name?: string;
  /**
   * A JWT (e.g. Supabase's access token) or a guest token from a previous session, or a function
   * returning one (or a promise of one), e.g.
   * `async () => (await supabase.auth.getSession()).data.session?.access_token`. A function is called
   * on every connect and `refreshMarginMs` before each expiry (then sent as `auth` on the open
   * socket), and at once on `token_expired`; a refused token is asked for once more. A fixed string
   * cannot be renewed: when it is refused the client stops ('suspended', an 'unauthorized' error).
   * Unset: a guest; the guest token is stored per URL or URL list (a reload keeps the user) and renewed before
   * it expires.
   */
  token?: TokenSource;
  /** How long before expiry the token is refreshed (default 60 000; up to half as much again earlier, jittered; never in the past). */
  refreshMarginMs?: number;
  storage?: 'indexeddb' | 'memory';
  dbName?: string;
  /**
   * true (default): connect() resolves after the server's welcome and rejects when it never comes.
   * false: it resolves once the outbox and cache are open — rooms open from the cache and sends
   * queue in the outbox while the connection keeps trying.
   */
  waitForServer?: boolean;
  /** Probe the network and follow the server's steers to DataChannels (default true). */
  p2p?: boolean;
  p2pConnectTimeoutMs?: number;
  /** Retry interval of the upload of DataChannel-delivered messages (default 2000). */
  syncIntervalMs?: number;
  /** A DataChannel-delivered message is uploaded (and gets its seq) this long after it was sent, coalesced per room (default 50). */
  p2pSeqDelayMs?: number;
  maxP2pBodyBytes?: number;
  /** Applied to local candidates before they are signalled and to remote ones before they are added. */
  iceCandidateFilter?: (candidate: RTCIceCandidateInit) => boolean;
  rtcConfiguration?: RTCConfiguration;
  reconnect?: Partial<BackoffOptions>;
  breaker?: Partial<BreakerOptions>;
  /** Client ping interval; default: the server's welcome.heartbeatMs. */
  heartbeatMs?: number;
  connectTimeoutMs?: number;
  /**
   * With several URLs: how long one that failed to connect or closed with 1001/1012/1013 is skipped
   * while another is usable (default 30 000).
   */
  urlCooldownMs?: number;
  requestTimeoutMs?: number;
  probeTimeoutMs?: number;
  cache?: { maxMessagesPerRoom?: number; maxRooms?: number };
  windowSize?: number;
  WebSocket?: typeof WebSocket;
  RTCPeerConnection?: typeof RTCPeerConnection;
  indexedDB?: IDBFactory;
  IDBKeyRange?: typeof IDBKeyRange;
  clock?: Clock;
  random?: () => number;
  network?: { onLine: boolean; addEventListener(type: string, fn: () => void): void; removeEventListener(type: string, fn: () => void): void };
  /** Schedules deferred cache writes (default requestIdleCallback, else setTimeout). */
  idle?: (fn: () => void) => void;
}

export declare const DEFAULT_OPTIONS: Readonly<Required<Pick<ConnectOptions,
  'dbName' | 'p2p' | 'p2pConnectTimeoutMs' | 'syncIntervalMs' | 'p2pSeqDelayMs' | 'maxP2pBodyBytes' | 'connectTimeoutMs' | 'requestTimeoutMs' | 'urlCooldownMs' | 'probeTimeoutMs' | 'windowSize'>>
  & { reconnect: BackoffOptions; breaker: BreakerOptions; cache: { maxMessagesPerRoom: number; maxRooms: number } }>;

type Unsubscribe = () => void;

interface TypedEmitter<E> {
  on<K extends keyof E>(event: K, fn: (arg: E[K]) => void): Unsubscribe;
  once<K extends keyof E>(event: K, fn: (arg: E[K]) => void): Unsubscribe;
  off<K extends keyof E>(event: K, fn: (arg: E[K]) => void): void;
}

export interface ClientEvents {
  state: StateEvent;
  error: SwitchboardError;
  /** The server's classification of this client's network. */
  profile: NatProfile & { mapping: string; filtering: string };
  /** A joining room opened from the cache, before the server answered. */
  room: Room;
  /** The token was refreshed on the open socket. */
  authed: AuthedEvent;
  /** The server ended a membership (also emitted by the room). */
  removed: RemovedEvent;
}

export declare const ClientEvent: Readonly<{
  STATE: 'state'; ERROR: 'error'; PROFILE: 'profile'; ROOM: 'room'; AUTHED: 'authed'; REMOVED: 'removed';
}>;

export declare class Client implements TypedEmitter<ClientEvents> {
  readonly state: ConnectionState;
  /** The relay URL in use (or tried next); one of the URLs given to connect(). */
  readonly url: string;
  readonly user: string | null;
  /**
   * The display name in use (`welcome.name`): the token's (`user_metadata.name`, else the email's
   * local part), else the guest's `ConnectOptions.name`; null: none.
   */
  readonly name: string | null;
  /** Epoch ms when the connection's token expires; null: never. */
  readonly expiresAt: number | null;
  readonly session: string | null;
  readonly limits: Limits;
  readonly rooms: Map<string, Room>;
  readonly profile: (NatProfile & { mapping: string; filtering: string }) | null;
  /** Joins (or changes the mode of a joined room); resolves on `joined` plus the catch-up since the cache. */
  /**
   * Joins (or changes the mode of a joined room); resolves on `joined` plus the catch-up since the
   * cache. Rejects with code 'forbidden' for a private room the user is not a member of (not retried).
   */
  join(room: string, options?: { mode?: RoomMode }): Promise<Room>;
  /** Owners only (else rejects with 'forbidden'): gives a user a role in a room; need not be joined. */
  grant(room: string, user: string, role: Role): Promise<{ room: string; user: string; role: Role }>;
  /**
   * Owners only: takes a user out of a room (its sockets get `left{reason:'removed'}`). In an
   * encrypted room this client is in, the room key is then rotated (the removed user never gets it).
   */
  revoke(room: string, user: string): Promise<{ room: string; user: string }>;
  /** Owners only: the room's visibility and listed members. */
  members(room: string): Promise<MemberList>;
  /**
   * Owners only (else 'forbidden'): switches a room to end-to-end encrypted, for good, and makes its
   * first key when this device has none. The SDK then seals every body it sends there.
   */
  encrypt(room: string): Promise<void>;
  /** Stores the room key an invite link's fragment carries (from Room#inviteKey); resolves with the room's name. */
  acceptInvite(fragment: string): Promise<string>;
  stats(): Stats;
  /** Try now, skipping a backoff wait or an open breaker. */
  reconnect(): void;
  /** Empties the message cache (not the outbox). */
  clearCache(): Promise<void>;
  /** Uploads the sync batch (P2P-delivered messages) now instead of at the next interval. */
  sync(): void;
  /** Writes deferred cache entries now instead of in idle time. */
  flushCache(): Promise<void>;
  close(): Promise<void>;
  on<K extends keyof ClientEvents>(event: K, fn: (arg: ClientEvents[K]) => void): Unsubscribe;
  once<K extends keyof ClientEvents>(event: K, fn: (arg: ClientEvents[K]) => void): Unsubscribe;
  off<K extends keyof ClientEvents>(event: K, fn: (arg: ClientEvents[K]) => void): void;
}

export interface RoomEvents {
  message: Message;
  update: Message;
  presence: PresenceEvent;
  peer: PeerInfo;
  unread: UnreadEvent;
  /** The window's slice changed. */
  window: WindowChange;
  /** Held messages were reconciled after the room's epoch changed. */
  diverged: DivergedEvent;
  /** This user's role in the room changed. */
  role: { room: string; role: Role };
  /** The server ended the membership: the room is left and not rejoined. */
  removed: RemovedEvent;
  /** Read cursors moved ('update' fires for a changed message: edit, delete, reaction). */
  reads: ReadsEvent;
  /** Who else is typing changed. */
  typing: TypingEvent;
}

export declare const RoomEvent: Readonly<{
  MESSAGE: 'message'; UPDATE: 'update'; PRESENCE: 'presence'; PEER: 'peer'; UNREAD: 'unread'; WINDOW: 'window';
  DIVERGED: 'diverged'; ROLE: 'role'; REMOVED: 'removed'; READS: 'reads'; TYPING: 'typing';
}>;

export declare class Room implements TypedEmitter<RoomEvents> {
  readonly name: string;
  readonly mode: RoomMode;
  /** Newest seq the server reported. */
  readonly head: number;
  /** Highest seq this client holds (sent in hello.resume). */
  readonly lastSeq: number;
  /** The room's epoch from the last `joined` (kept in the cache); null when unknown or a relay without epochs. */
  readonly epoch: string | null;
  /** Messages since the room went to the background. */
  readonly unread: number;
  readonly members: string[];
  /** From `joined`; null when the server did not say. */
  readonly visibility: Visibility | null;
  /** This user's role here (`joined`, then `role` frames); null when not listed (a public room's visitor). */
  readonly role: Role | null;
  /** Bodies here are end-to-end encrypted (`joined.encrypted`, the `encrypted` frame, or remembered). */
  readonly encrypted: boolean;
  /** The key this device seals with now; null: none yet (sends then wait in the outbox until one arrives). */
  readonly keyId: string | null;
  /** user → display name, for users in the room whose token has one. */
  readonly names: Readonly<Record<string, string>>;
  /** Why the server ended the membership ('removed', 'forbidden', …); null while it has not. */
  readonly removed: string | null;
  readonly joined: boolean;
  /** The current slice (≤ 50), ordered by seq; unsequenced messages last, in arrival order. */
  readonly messages: Message[];
  readonly window: SmartMessageWindow<Message>;
  /** user → last read seq: the cursors the server reported (up to 256 users) and this user's own; only move forward, kept across reconnects. */
  readonly reads: ReadonlyMap<string, number>;
  /** Messages after this user's read cursor, shared by all its devices (falls when another device reads); 0 while the server gave no cursor. */
  readonly unreadCount: number;
  /** Others typing now (this user's own devices excluded). */
  readonly typingUsers: TypingUser[];
  /** The room's change counter the held and cached messages reflect (sent in join and hello.resume). */
  readonly rev: number;
  /** KakaoTalk's "1": users other than the sender whose read cursor is below the message's seq; null without a seq. */
  notReadBy(message: Message): number | null;
  /**
   * Marks messages up to `seq` as read for all of this user's devices (default: the newest seq
   * held). At most one frame per 500 ms per room, the highest seq wins, never lower than sent;
   * offline it goes out after the next join. Throws 'bad_request' for a seq that is not an integer ≥ 1.
   */
  markRead(seq?: number): void;
  /**
   * Call with true (default) on each keystroke (on:true goes out at most every 3 s), false when the
   * input is cleared (send() does it). Over DataChannels when every other connection has one open,
   * else the relay. Readers and rooms not joined send nothing.
   */
  typing(on?: boolean): void;
  /**
   * Edits a message (by the author, within the server's edit window). Resolves with the message in
   * its new state once the server committed it. Rejects with the server's code ('forbidden',
   * 'not_found', 'storage_unavailable', …), 'bad_request'/'too_large' for a bad body or a message
   * without a seq, or 'offline' at once when the room is not reachable now (nothing is queued).
   */
  edit(message: Message | number, body: string): Promise<Message>;
  /** Deletes for everyone (the author within the edit window, or a room owner): body '', deleted true. Rejects as edit. */
  delete(message: Message | number): Promise<Message>;
  /** Adds (on, default true) or takes back this user's reaction (1–32 UTF-8 bytes, no whitespace). Rejects as edit. */
  react(message: Message | number, emoji: string, on?: boolean): Promise<Message>;
  /**
   * Saves to the outbox, then sends over DataChannels or the relay; resolves with the optimistic
   * message. Rejects with 'forbidden' when this user is a reader here; a send the server refuses with
   * 'forbidden' (the role changed meanwhile) becomes status 'failed', leaves the outbox and is
   * reported as an 'error' event.
   */
  send(body: string): Promise<Message>;
  nameOf(user: string): string | undefined;
  /** Owners only: see Client#grant. */
  grant(user: string, role: Role): Promise<{ room: string; user: string; role: Role }>;
  /** Owners only: see Client#revoke. */
  revoke(user: string): Promise<{ room: string; user: string }>;
  /** Owners only: see Client#members. */
  listMembers(): Promise<MemberList>;
  /**
   * Encrypted rooms: makes a new key (e.g. after a revoke) and offers it to the room's members;
   * users revoked through this Room and `exclude` never get it. Old keys stay for old messages.
   * Resolves with the new key id.
   */
  rotateKey(options?: { exclude?: string[] }): Promise<string>;
  /** Encrypted rooms: `#k=<room>.<keyId>.<key>` for an invite link's fragment (never sent to a server). */
  inviteKey(): Promise<string>;
  loadOlder(): Promise<number>;
  loadNewer(): Promise<number>;
  peers(): PeerInfo[];
  pathOf(cid: string): Path | undefined;
  setMode(mode: RoomMode): Promise<void>;
  leave(): Promise<void>;
  on<K extends keyof RoomEvents>(event: K, fn: (arg: RoomEvents[K]) => void): Unsubscribe;
  once<K extends keyof RoomEvents>(event: K, fn: (arg: RoomEvents[K]) => void): Unsubscribe;
  off<K extends keyof RoomEvents>(event: K, fn: (arg: RoomEvents[K]) => void): void;
}

export interface WindowPage<M> { messages: M[]; hasMore: boolean }
export interface WindowLoader<M> {
  older(beforeSeq: number | undefined, limit: number): Promise<WindowPage<M>>;
  newer(afterSeq: number, limit: number): Promise<WindowPage<M>>;
  latest(limit: number): Promise<WindowPage<M>>;
}

type WindowItem = { seq: number | null; cid: string; from: string; ts: number };

export declare class SmartMessageWindow<M extends WindowItem = Message> {
  constructor(loader: WindowLoader<M>, options?: { size?: number; pageSize?: number });
  readonly size: number;
  readonly pageSize: number;
  readonly items: M[];
  hasOlder: boolean;
  hasNewer: boolean;
  upsert(message: M): boolean;
  /** Takes messages out of the slice; true when it changed. */
  remove(messages: M[]): boolean;
  reset(messages: M[], flags?: { hasOlder?: boolean; hasNewer?: boolean }): void;
  loadOlder(): Promise<number>;
  loadNewer(): Promise<number>;
  jumpToLatest(): Promise<void>;
  on(event: 'change', fn: (change: { items: M[]; hasOlder: boolean; hasNewer: boolean }) => void): Unsubscribe;
  off(event: 'change', fn: (change: { items: M[]; hasOlder: boolean; hasNewer: boolean }) => void): void;
}

export declare function compareMessages(a: WindowItem, b: WindowItem): number;

export declare class SwitchboardError extends Error {
  constructor(code: string, message?: string, extra?: { ref?: string | number; cause?: unknown });
  /** Stable code: a server error code (protocol.md) or one of ErrorCode. */
  readonly code: string;
  /** The id of the request the server refused. */
  readonly ref?: string | number;
  static fromFrame(frame: { code: string; message?: string; ref?: string | number }): SwitchboardError;
}

export declare const ErrorCode: Readonly<{
  CLOSED: 'closed'; TIMEOUT: 'timeout'; POLICY: 'policy_violation'; UNAVAILABLE: 'unavailable'; BAD_FRAME: 'bad_frame';
  TOKEN_UNAVAILABLE: 'token_unavailable'; OFFLINE: 'offline';
}>;

/**
 * Connects; resolves after the server's welcome. `url` may list several relays on one database:
 * the client stays on the one that works, and moves to the next after a connect that fails, a
 * close with 1001/1012/1013 (after any other drop it tries the same relay first), or a
 * `room_unavailable` while another URL is usable.
 */
export declare function connect(url: string | string[], options?: ConnectOptions): Promise<Client>;

export declare function nextRetryDelay(attempt: number, options?: Partial<BackoffOptions>, random?: () => number): number;
export declare const DEFAULT_BACKOFF: Readonly<BackoffOptions>;
export declare const DEFAULT_BREAKER: Readonly<BreakerOptions>;

export declare class CircuitBreaker {
  constructor(options?: Partial<BreakerOptions>, now?: () => number);
  readonly state: 'closed' | 'open' | 'half-open';
  readonly failures: number;
  canAttempt(): boolean;
  remainingOpenMs(): number;
  recordSuccess(): void;
  /** True when this failure opened the breaker. */
  recordFailure(): boolean;
  reset(): void;
}

export declare const DEFAULT_LIMITS: Readonly<Limits>;
export declare const CLIENT_TYPES: readonly string[];
export declare const SERVER_TYPES: readonly string[];
export declare function utf8Bytes(text: string): number;
/** Decodes a server text frame; throws an Error with code 'bad_frame' or 'unknown_type'. */
export declare function decodeServerFrame(text: string): { t: string; [field: string]: unknown };
/** null when the SDK would send it; else the code the server would answer. */
export declare function validateClientFrame(frame: unknown, limits?: Limits): { code: string; message: string } | null;
export declare function validateClientText(text: string, limits?: Limits): { code: string; message: string } | null;
/** Parses one DataChannel message; null means drop it. */
export declare function parsePeerFrame(data: unknown, expect: { maxBodyBytes: number; from: string }):
  | { t: 'm'; cid: string; from: string; body: string; ts: number }
  | { t: 'ping' | 'pong'; n: number }
  | { t: 'typing'; on: boolean }
  | null;
export declare function encodeBatch(items: { cid: string; body: string }[]): string;
export declare function decodeBatch(data: string): { cid: string; body: string }[];
