// The public room API. A Room turns frames (relay) and DataChannel messages (P2P) into one
// message stream, keeps the SmartMessageWindow and its loaders, and decides per message which
// path it takes. Wire details stay in Connection; peer connections in PeerLink.
import { Emitter } from './emitter.js';
import { ErrorCode, SwitchboardError } from './errors.js';
import {
  SEALED, b64url, exportRoomKey, importPublic, isAcceptableKeyId, isKeyId, newKeyId, newRoomKey, open, seal, sealedBodies, sealedLength, unwrapFrom, wrapFor,
} from './e2ee.js';
import { PeerLink } from './p2p.js';
import { isBodyText, isEmoji, utf8Bytes } from './protocol.js';
import { SmartMessageWindow, messageKey } from './window.js';

// Bounds on what a room remembers beyond its window: keys of settled messages (for dedupe) and
// messages still waiting for their seq or storage (kept whole: they must be updated in place).
const REMEMBERED_KEYS = 2000;
const UNSETTLED = 500;
/** Signals kept per peer that arrive before this side's steer (an offer plus its candidates). */
const EARLY_SIGNALS = 32;
/**
 * History pages read to check held messages after a divergence when the replay does not cover
 * them (as many messages as the server's replay bound at 100 a page). Beyond, the rest is
 * treated as gone.
 */
const RECONCILE_PAGES = 10;
/** markRead sends at most one `read` per room this often (the highest seq asked for wins). */
const READ_INTERVAL_MS = 500;
/** While the user keeps typing, `typing on:true` goes out again this often (receivers expire it after TYPING_EXPIRY_MS). */
const TYPING_RESEND_MS = 3000;
/** A peer's `typing on:true` counts this long unless renewed. */
const TYPING_EXPIRY_MS = 6000;
/** Peers a key request (`want`) goes to at once (each answers with what it holds). */
const WANT_PEERS = 16;
/** Wrapped keys one `key` signal carries (~110 bytes each: 64 stay well under the 16 KB signal limit). */
const KEYS_PER_SIGNAL = 64;
/** A missing key asks the peers unless a want went out this recently. */
const WANT_AGAIN_MS = 2000;

/**
 * @typedef {'p2p'|'turn'|'relay'} Path
 * @typedef {{emoji: string, count: number, users: string[], mine: boolean}} Reaction
 * @typedef {{seq: number|null, cid: string, from: string, body: string, ts: number,
 *   path: Path|null, status: 'pending'|'sent'|'stored'|'failed', mine: boolean,
 *   name?: string, rev: number, edited?: number, deleted?: boolean, reactions: Reaction[]}} Message
 * @typedef {{user: string, name?: string, peer: string}} TypingUser
 * @typedef {{peer: string, user: string, name?: string, profile?: object, mode: Path, path: Path|'connecting', rttMs?: number}} PeerInfo
 * @typedef {{
 *   after: number, end: number, provisional: Map<string, Message>, arrived: Set<string>, own: Set<string>,
 *   moved: Message[], replayDone: boolean, loaded: boolean, forgotten?: Promise<object[]>,
 * }} Reconciliation held messages after `after` that may not exist, until the server's answer is in
 */

/** Events a Room emits. */
export const RoomEvent = Object.freeze({
  MESSAGE: 'message',
  UPDATE: 'update',
  PRESENCE: 'presence',
  PEER: 'peer',
  UNREAD: 'unread',
  WINDOW: 'window',
  /**
   * The relay lost messages it had delivered (a crash before they were stored): held messages
   * after `divergedAfter` were checked against the server; `removed` do not exist (already taken
   * out of the window and cache), `moved` exist under a new seq (each also had an 'update').
   */
  DIVERGED: 'diverged',
  /** This user's role in the room changed (`role` frame): {room, role}. */
  ROLE: 'role',
  /** Read cursors moved: {room, reads: the cursors that moved (user → seq), unreadCount}. */
  READS: 'reads',
  /** Who else is typing changed: {room, users: TypingUser[]}. */
  TYPING: 'typing',
  /**
   * The server ended the membership: {room, reason, dropped} (reason 'removed' and the like from
   * `left`, or 'forbidden' for a refused resume). The room is left and not rejoined; `dropped` are
   * its unsent messages, now 'failed' and out of the outbox.
   */
  REMOVED: 'removed',
});

const plainKey = (m, sealed) => `${m.from}\n${m.cid}\n${sealed}`;

/** A Map that forgets its oldest entries beyond a bound. */
class Recent extends Map {
  constructor(max) {
    super();
    this.max = max;
  }

  set(key, value) {
    this.delete(key);
    super.set(key, value);
    if (this.size > this.max) this.delete(this.keys().next().value);
    return this;
  }
}

export class Room extends Emitter {
  /** @type {'active'|'background'} */
  mode = 'active';
  /** Newest seq the server reported for the room. */
  head = 0;
  /** Highest seq this client holds (what `hello.resume` sends). */
  lastSeq = 0;
  /** The room's epoch from the last `joined` (kept in the cache's room meta); null when unknown. */
  epoch = null;
  /** Messages that arrived while the room was in the background (from `unread`). */
  unread = 0;
  /** @type {string[]} users in the room */
  members = [];
  /** 'public' or 'private' from `joined`; null when the server did not say. */
  visibility = null;
  /** This user's role ('owner', 'member', 'reader') from `joined`/`role`; null when not listed. */
  role = null;
  /** @type {Record<string, string>} user → display name, for users in the room that have one */
  names = {};
  /** Why the server ended the membership ('removed', 'forbidden', …); null while it has not. */
  removed = null;
  /**
   * The room's change counter (edits, deletes, reactions) that held and cached messages reflect:
   * sent back in `join`/`hello.resume` so the server sends only the changes after it.
   */
  rev = 0;
  /** @type {Map<string, number>} user → read cursor (monotonic; kept across reconnects) */
  #reads = new Map();
  /** markRead: highest seq asked for, highest sent, when it was sent, the timer for the next frame. */
  #read = { wanted: 0, sent: 0, at: -Infinity, timer: null };
  /** When `typing on:true` last went out (clock ms); null when this client is not typing. */
  #typingSince = null;
  /** @type {Map<string, TypingUser & {timer: unknown}>} peer → another connection typing */
  #typing = new Map();
  /** @type {Recent<string, boolean>} `${seq} ${emoji}` → whether this user reacted so (beyond a reaction's 50 listed users) */
  #ownReactions = new Recent(REMEMBERED_KEYS);
  /** @type {Map<string, PeerInfo & {link: PeerLink|null}>} */
  #peers = new Map();
  /** @type {Recent<string, Message>} (from, cid) → message not yet stored with a seq */
  #unsettled = new Recent(UNSETTLED);
  /** @type {Recent<string, true>} (from, cid) of settled messages, so late copies are not shown twice */
  #seen = new Recent(REMEMBERED_KEYS);
  /** Seqs a `seqs` frame named that this room does not hold, read from history shortly. */
  #missing = new Set();
  #missingTimer = null;
  /** @type {Recent<string, Path>} */
  #paths = new Recent(REMEMBERED_KEYS);
  #retryTimer = null;
  /** @type {Map<string, object[]>} */
  #earlySignals = new Map();
  /** @type {Reconciliation|null} */
  #recon = null;
  /**
   * Window and cache hold everything from this seq up to lastSeq (0: from the start). After a hole
   * (more missed than replayed) it is the hole's top: a message settling below it (our own re-send
   * the server dedupes to its old seq) is left to history pages, so the cache never gets a hole.
   */
  #floor = 0;
  joined = false;
  /** The room seals every body (joined.encrypted, the `encrypted` frame, or remembered from before). */
  encrypted = false;
  /**
   * @type {Recent<string, string>} (from, cid, sealed body) → its plaintext (ours when sealed, others'
   * once opened); keyed by the message too, so a sealed body pasted onto another message is not trusted
   */
  #plain = new Recent(REMEMBERED_KEYS);
  /** @type {Map<string, Set<Message>>} keyId → held messages that wait for that key */
  #waiting = new Map();
  /** Users this client revoked or excluded from a rotation: never sent keys again. */
  #revoked = new Set();
  /** Messages whose sealed body is being opened for the first time. */
  #opening = new WeakSet();
  /** Received messages whose 'message' event waits for their body to open. */
  #announceOnOpen = new WeakSet();
  /** Key ids already asked for (a missing key asks the peers once). */
  #asked = new Set();
  /** The running #sealPending pass. */
  #sealing = Promise.resolve();
  /** When a want last went to peers (clock ms). */
  #wantedAt = -Infinity;

  /** @param {import('./client.js').Client} client @param {string} name */
  constructor(client, name) {
    super();
    this.client = client;
    this.name = name;
    this.window = new SmartMessageWindow(this.#loader(), { size: client.options.windowSize });
    this.window.on('change', (w) => this.emit(RoomEvent.WINDOW, w));
  }

  /** The window's current slice (≤ 50), ordered by seq, unsequenced last. */
  get messages() {
    return this.window.items;
  }

  /** @returns {ReadonlyMap<string, number>} user → last read seq (those the server reported, and ours) */
  get reads() {
    return this.#reads;
  }

  /** Messages after this user's read cursor (shared by all its devices); 0 while the server gave none. */
  get unreadCount() {
    const own = this.#reads.get(this.client.user);
    return own === undefined ? 0 : Math.max(0, this.head - own);
  }

  /** @returns {TypingUser[]} other users' connections typing now */
  get typingUsers() {
    return [...this.#typing.values()].map(({ timer, ...u }) => u);
  }

  /**
   * KakaoTalk's "1": how many users other than the sender have not read this message (their
   * cursor is below its seq); null while it has no seq.
   */
  notReadBy(message) {
    if (message?.seq == null) return null;
    let n = 0;
    for (const [user, seq] of this.#reads) if (user !== message.from && seq < message.seq) n++;
    return n;
  }

  /**
   * Marks messages up to `seq` (default: the newest held) as read, for every device of this user.
   * At most one `read` frame per 500 ms per room (the highest seq wins); never one lower than
   * already sent. Offline, it goes out after the next `joined`.
   */
  markRead(seq) {
    if (seq !== undefined && (!Number.isSafeInteger(seq) || seq < 1)) throw new SwitchboardError('bad_request', 'seq must be an integer ≥ 1');
    // What exists as far as this client knows: as the server does with head, so a seq beyond it
    // never blocks later, lower reads of messages that arrive meanwhile.
    const target = Math.min(seq ?? this.lastSeq, Math.max(this.head, this.lastSeq));
    const user = this.client.user;
    if (target < 1 || target <= Math.max(this.#read.wanted, this.#reads.get(user) ?? 0)) return;
    this.#read.wanted = target;
    // The local cursor moves at once, so unreadCount falls before the server answers.
    if (user) this.#moveReads({ [user]: target });
    this.#flushRead();
  }

  /**
   * Tells the others whether this user is typing: call with true on each keystroke (on:true goes
   * out at most every 3 s), with false when the input is cleared (sending a message does it).
   * Over DataChannels when every other connection has one open, else over the relay.
   */
  typing(on = true) {
    if (!this.joined || this.removed || this.role === 'reader') return;
    const now = this.client.clock.now();
    if (on) {
      if (this.#typingSince !== null && now - this.#typingSince < TYPING_RESEND_MS) return;
      if (this.#sendTyping(true)) this.#typingSince = now;
    } else if (this.#typingSince !== null) {
      this.#typingSince = null;
      this.#sendTyping(false);
    }
  }

  /**
   * Edits a message (the author's, within the server's edit window). Resolves with the message in
   * its new state once the server committed it; rejects with the server's code (forbidden,
   * not_found, …), or 'offline' at once when the room is not reachable now (nothing is queued).
   * @param {Message|number} message a held message or a seq
   */
  edit(message, body) {
    if (!isBodyText(body)) return Promise.reject(new SwitchboardError('bad_request', 'body must be non-empty text without NUL or lone surrogates'));
    if (utf8Bytes(body) > this.client.limits.maxBodyBytes) return Promise.reject(new SwitchboardError('too_large', 'body too large'));
    if (this.encrypted && sealedLength(body, this.keyId?.length) > this.client.limits.maxBodyBytes) return Promise.reject(new SwitchboardError('too_large', 'body too large once sealed'));
    if (this.encrypted) return this.#sealedEdit(message, body);
    return this.#change({ t: 'edit', body }, message);
  }

  /** An edit in an encrypted room: sealed like a send, bound to the message's own cid. */
  async #sealedEdit(message, body) {
    const m = typeof message === 'number' ? this.#held(message) : message;
    const key = this.keyId;
    if (!m?.cid || m.from !== this.client.user) throw new SwitchboardError('bad_request', 'edit a held message of your own in an encrypted room');
    if (!key) throw new SwitchboardError('bad_request', 'the room has no key yet');
    const sealed = await seal(this.client.e2ee.peek(this.name).keys.get(key), key, body, { room: this.name, from: m.from, cid: m.cid });
    this.#plain.set(plainKey(m, sealed), body);
    return this.#change({ t: 'edit', body: sealed }, m.seq);
  }

  /** Deletes a message for everyone (the author within the edit window, or a room owner). See edit. */
  delete(message) {
    return this.#change({ t: 'delete' }, message);
  }

  /** Adds (on, default) or takes back this user's reaction `emoji` (1–32 bytes, no spaces). See edit. */
  async react(message, emoji, on = true) {
    if (!isEmoji(emoji)) throw new SwitchboardError('bad_request', 'emoji must be 1–32 UTF-8 bytes without whitespace or control characters');
    const seq = typeof message === 'number' ? message : message?.seq;
    const key = `${seq} ${emoji}`;
    const before = this.#ownReactions.get(key);
    this.#ownReactions.set(key, on);
    try {
      return await this.#change({ t: 'react', emoji, on: Boolean(on) }, message);
    } catch (err) {
      if (before === undefined) this.#ownReactions.delete(key);
      else this.#ownReactions.set(key, before);
      throw err;
    }
  }

  /**
   * Sends a message. Resolves as soon as it is saved in the outbox, with the optimistic message
   * (`status:'pending'`, or `'sent'` when it already went over every DataChannel); later changes
   * arrive as 'update' events on the same object.
   * @param {string} body
   * @returns {Promise<Message>}
   */
  async send(body) {
    if (this.removed) throw new SwitchboardError('not_joined', `the server ended this membership (${this.removed})`);
    // The server would refuse it; an outbox entry would only fail later.
    if (this.role === 'reader') throw new SwitchboardError('forbidden', 'readers cannot send in this room');
    if (!isBodyText(body)) throw new SwitchboardError('bad_request', 'body must be non-empty text without NUL or lone surrogates');
    if (utf8Bytes(body) > this.client.limits.maxBodyBytes) throw new SwitchboardError('too_large', 'body too large');
    // Sealed, it must fit too (the relay checks the sealed text): padding and base64 add up to ~40 %.
    if (this.encrypted && sealedLength(body, this.keyId?.length) > this.client.limits.maxBodyBytes) throw new SwitchboardError('too_large', 'body too large once sealed');
    this.typing(false);
    const outbox = this.client.outbox;
    const rec = outbox.create(this.name, body, this.client._serverNow());
    const persisted = outbox.persist(rec);
    const m = this.#pendingMessage(rec);
    this.#remember(m);
    this.window.upsert(m);
    this.emit(RoomEvent.MESSAGE, m);
    if (this.encrypted) {
      // Sealed before it reaches any wire; without a key (or user yet) it waits in the outbox.
      await persisted;
      if (await this.#sealRec(rec, m)) this.#transmit(rec, m);
    } else if (this.#p2pReady(rec)) {
      // Over DataChannels the message does not wait for IndexedDB (a few ms, the whole P2P round
      // trip otherwise): the write is already under way, and until it commits the sync batch
      // holds the message in memory.
      this.#transmit(rec, m);
      await persisted;
    } else {
      await persisted;
      this.#transmit(rec, m);
    }
    return m;
  }

  /** Pages older messages into the window (cache first, then server). */
  loadOlder() {
    return this.window.loadOlder();
  }

  /** Pages newer messages into the window after scrolling up. */
  loadNewer() {
    return this.window.loadNewer();
  }

  /** @returns {PeerInfo[]} the other connections in the room and how this client reaches each */
  peers() {
    return [...this.#peers.values()].map(({ link, ...info }) => ({ ...info }));
  }

  /** How a message travelled, sent or received (undefined when unknown or not yet sent). */
  pathOf(cid) {
    return this.#paths.get(cid);
  }

  /** 'background' stops `msg` frames (only `unread` counts); 'active' catches up. */
  async setMode(mode) {
    const reply = await this.client.conn.request({ t: 'mode', room: this.name, mode });
    this.mode = reply.mode;
    this.head = Math.max(this.head, reply.head);
    if (this.mode === 'active') {
      this.unread = 0;
      this.emit(RoomEvent.UNREAD, { count: 0, lastSeq: this.head });
      await this.#catchUp(true);
    }
  }

  /** The display name of a user in the room, if the server gave one. */
  nameOf(user) {
    return this.names[user];
  }

  /** Owners only: gives `user` a role here (see Client#grant). */
  grant(user, role) {
    return this.client.grant(this.name, user, role);
  }

  /** Owners only: takes `user` out of the room, rotating the key of an encrypted room (see Client#revoke). */
  revoke(user) {
    this.#revoked.add(user);
    return this.client.revoke(this.name, user);
  }

  /** Owners only: visibility and listed members with roles (see Client#members). */
  listMembers() {
    return this.client.members(this.name);
  }

  /** The key that seals what this client sends now; null: none yet (sends wait in the outbox). */
  get keyId() {
    return this.client.e2ee?.current(this.name) ?? null;
  }

  /**
   * Makes a new room key (e.g. after revoking someone) and offers it to the room's other members;
   * old keys stay for old messages. Users revoked through this room, and `exclude`, never get it.
   * @returns {Promise<string>} the new key id
   */
  async rotateKey({ exclude = [] } = {}) {
    if (!this.encrypted) throw new SwitchboardError('bad_request', 'the room is not encrypted');
    for (const u of exclude) this.#revoked.add(u);
    return this.#newKey();
  }

  /** `#k=<room>.<keyId>.<raw key>` for an invite link's fragment (never sent to a server). */
  async inviteKey() {
    const id = this.keyId;
    if (!id) throw new SwitchboardError('bad_request', 'the room has no key yet');
    const key = this.client.e2ee.peek(this.name).keys.get(id);
    return `#k=${this.name}.${id}.${b64url(await exportRoomKey(key))}`;
  }

  /** Leaves the room; its cache stays for the next visit. */
  async leave() {
    await this.client.conn.request({ t: 'leave', room: this.name });
    this._closed();
  }

  // ——— called by the client ———

  /** Before `join` goes out: the cache's last page and the outbox's unconfirmed messages. */
  async _openFromCache() {
    const cache = this.client.cache;
    const size = this.window.size;
    // Before any body is read: whether bodies here are sealed, and the keys that open them.
    if ((await this.client.e2ee.room(this.name)).encrypted) this.encrypted = true;
    const [page, { lastSeq, epoch }, rev] = await Promise.all([cache.before(this.name, undefined, size), cache.roomState(this.name), cache.revOf(this.name)]);
    const cached = page.map((m) => this.#stored(m));
    const pending = this.client.outbox.forRoom(this.name).map((rec) => this.#pendingMessage(rec));
    for (const m of [...cached, ...pending]) this.#remember(m);
    this.lastSeq = lastSeq;
    this.epoch = epoch;
    this.rev = rev;
    this.window.reset([...cached, ...pending], { hasOlder: cached.length > 0 && cached[0].seq > 1 });
    // Only eviction order: the screen need not wait for this write.
    cache.touch(this.name).catch(() => {});
  }

  /**
   * The server said who we are. Messages written before that (an app started offline) carry no
   * `from` yet; acks and echoes find them by (user, cid), so they are keyed anew.
   */
  _identified(user) {
    let changed = false;
    for (const [key, m] of [...this.#unsettled]) {
      if (!m.mine || m.from != null) continue;
      this.#unsettled.delete(key);
      m.from = user;
      this.#unsettled.set(messageKey(m), m);
      changed = true;
    }
    if (changed) this.window.rekey();
  }

  /** `joined`, answering our join or after a resume. */
  async _joined(frame, { requested }) {
    this.joined = true;
    // At once: the replay that follows this frame is sealed.
    const wasEncrypted = this.encrypted;
    if (frame.encrypted) this.encrypted = true;
    this.mode = frame.mode;
    this.members = [...frame.members];
    this.visibility = frame.visibility ?? null;
    this.role = frame.role ?? null;
    this.names = { ...frame.names };
    this.head = Math.max(this.head, frame.head);
    if (frame.reads) {
      // A read that went out just before the socket dropped may never have arrived: send it again.
      const own = frame.reads[this.client.user];
      if (own !== undefined && own < this.#read.sent) this.#read.sent = own;
      this.#moveReads(frame.reads);
    }
    if (frame.rev !== undefined) {
      // More changed than the server sends again: no cached copy can be trusted (re-read below).
      if (frame.changesRecovered === false) this.client.cache.dropMessages(this.name).catch(() => {});
      this.rev = frame.rev;
      this.client.cache.setRev(this.name, frame.rev);
    }
    const present = new Set(frame.peers.map((p) => p.peer));
    for (const [peer, info] of this.#peers) if (!present.has(peer)) this.#dropPeer(peer, info);
    for (const p of frame.peers) this.#addPeer(p);
    const previous = this.epoch;
    const newEpoch = frame.epoch !== undefined && frame.epoch !== previous;
    if (frame.epoch !== undefined) this.epoch = frame.epoch;
    // Both reconciliations record the epoch in the cache together with what they forget.
    if (frame.divergedAfter !== undefined) {
      // Resumed across an unclean takeover: the replay follows at once; it settles what we hold.
      this.#diverge(frame.divergedAfter, frame.replayFrom, frame.head);
    } else if (requested && newEpoch && previous !== null) {
      // A join (reload, rejoin after room_unavailable) into a new epoch: the server cannot tell
      // where our copy diverged, so everything held is checked against history.
      await this.#verifyHeld(frame.head);
    } else {
      if (newEpoch) this.client.cache.setEpoch(this.name, frame.epoch);
      if (frame.recovered === false) {
        // More was missed than the server replays: keep no false continuity in window or cache.
        // The window is reset before any await: the replayed messages follow this frame at once.
        const from = frame.replayFrom ?? frame.head + 1;
        this.window.reset(this.window.items.filter((m) => m.seq == null), { hasOlder: true });
        this.lastSeq = from - 1;
        this.#floor = from;
        await this.client.cache.dropBelow(this.name, from);
      }
    }
    if (frame.changesRecovered === false) await this.#rereadHeld();
    if (this.encrypted) {
      if (!wasEncrypted) await this.client.e2ee.setEncrypted(this.name);
      this.#want();
    }
    if (requested && this.mode === 'active') await this.#catchUp();
    this._flushOutbox();
    this.#flushRead();
  }

  /** Re-sends unconfirmed messages in order: relay ones with resend:true, P2P ones via the batch. */
  _flushOutbox() {
    let unsealed = false;
    for (const rec of this.client.outbox.forRoom(this.name)) {
      if (this.encrypted && !rec.sealed) {
        unsealed = true; // sealed (and sent) once a key is here
        continue;
      }
      if ((rec.path === 'p2p' || rec.path === 'turn') && rec.sent && this.client.batchSupported) {
        this.client.batcher.add(this.name, rec.cid, this.#wireBody(rec), rec.ts);
        this.client.batcher.soon(this.name);
      } else {
        this.#sendOnRelay(rec, this.#unsettled.get(messageKey({ from: this.client.user, cid: rec.cid })), true);
      }
    }
    if (unsealed) this.#sealPending().catch((e) => this.client.emit('error', e));
  }

  /**
   * The relay refused a plaintext body (the room went encrypted before this client heard): the
   * messages stay in the outbox and go again sealed (once a key is here).
   */
  _encryptionRequired() {
    this._encrypted()
      .then(() => this.joined && this._flushOutbox())
      .catch((e) => this.client.emit('error', e));
  }

  /**
   * The room was switched to encrypted (`encrypted` frame; or `create` by client.encrypt, which
   * also makes the first key when there is none).
   */
  async _encrypted({ create = false } = {}) {
    const was = this.encrypted;
    this.encrypted = true;
    await this.client.e2ee.setEncrypted(this.name);
    if (create && !this.keyId) await this.#newKey();
    else if (!was) this.#want();
  }

  _msg(frame) {
    this.#advance(frame.seq);
    this.#impliedReads([frame]);
    const recon = this.#recon;
    if (recon && frame.seq > recon.after) {
      this.#reconciled(recon, frame, true);
      if (frame.seq >= recon.end) {
        recon.replayDone = true;
        this.#maybeFinish(recon);
      }
      return;
    }
    const key = messageKey(frame);
    const known = this.#unsettled.get(key);
    this.#stopTyping((t) => t.user === frame.from);
    // Already here over a DataChannel (or our own): the seq is news, and any change since (a
    // held message is unsettled, so settling it caches and announces it).
    if (known) {
      this.#applyState(known, frame);
      return this.#settle(known, frame.seq, 'stored', frame.ts);
    }
    if (this.#seen.has(key)) return;
    const m = this.#withState({
      seq: frame.seq, cid: frame.cid, from: frame.from, ts: frame.ts,
      path: 'relay', status: 'stored', mine: frame.from === this.client.user,
    }, frame);
    this.#remember(m);
    this.client.counters.received.relay++;
    this.client.cache.put(this.name, [m]);
    this.window.upsert(m);
    this.#announce(m);
  }

  /**
   * The seqs a batch gave messages its uploader sent us over a DataChannel: a `msg` without the
   * body. One we do not hold (the channel lost it) is read from history.
   */
  _seqs(frame) {
    this.#impliedReads(frame.items.map(({ seq }) => ({ from: frame.from, seq })));
    for (const { cid, seq, ts } of frame.items) {
      const key = messageKey({ from: frame.from, cid });
      const known = this.#unsettled.get(key);
      if (known) {
        this.#advance(seq);
        this.#settle(known, seq, 'stored', ts);
      } else if (!this.#seen.has(key)) {
        this.#fetchMissing(seq);
      }
    }
  }

  /** Reads the missed seqs from history after the frames at hand: several in one request. */
  #fetchMissing(seq) {
    this.#missing.add(seq);
    this.#missingTimer ??= this.client.clock.setTimeout(() => {
      this.#missingTimer = null;
      this.#readMissing().catch((err) => this.client.emit('error', err));
    }, 0);
  }

  async #readMissing() {
    const seqs = [...this.#missing].sort((a, b) => a - b);
    this.#missing.clear();
    const most = this.client.limits.maxHistoryLimit;
    while (seqs.length > 0 && this.joined) {
      const span = seqs.findIndex((s) => s - seqs[0] >= most);
      const group = seqs.splice(0, span === -1 ? seqs.length : span);
      const high = group.at(-1);
      const page = await this.client._history(this.name, high + 1, high - group[0] + 1);
      for (const m of page.messages) if (group.includes(m.seq)) this._msg({ room: this.name, ...m });
    }
  }

  _ack(frame) {
    this.#advance(frame.seq);
    const rec = this.client.outbox.get(frame.cid);
    const m = this.#unsettled.get(messageKey({ from: this.client.user, cid: frame.cid }));
    this.client.batcher.acked(this.name, frame.cid);
    if (this.client.user) this.#moveReads({ [this.client.user]: frame.seq });
    if (m) this.#settle(m, frame.seq, frame.stored ? 'stored' : 'sent');
    if (!rec) return;
    if (frame.stored) this.client.outbox.remove(frame.cid);
    else this.client.outbox.update(frame.cid, { sent: true });
  }

  /** A send of ours failed with `error`. */
  _sendFailed(cid, err) {
    if (err.code === 'encryption_required') return this._encryptionRequired();
    if (['storage_unavailable', 'rate_limited', 'not_joined', 'room_unavailable', 'room_moved'].includes(err.code)) {
      // Not delivered, still in the outbox: try again shortly.
      this.#retryTimer ??= this.client.clock.setTimeout(() => {
        this.#retryTimer = null;
        if (this.joined && this.client.conn.state === 'open') this._flushOutbox();
      }, this.client.options.syncIntervalMs);
      return;
    }
    const key = messageKey({ from: this.client.user, cid });
    const m = this.#unsettled.get(key);
    this.client.outbox.remove(cid);
    if (m) {
      this.#unsettled.delete(key);
      m.status = 'failed';
      this.emit(RoomEvent.UPDATE, m);
    }
    this.client.emit('error', err);
  }

  _presence(frame) {
    if (frame.event === 'join') this.#addPeer(frame);
    else if (frame.event === 'leave') {
      const info = this.#peers.get(frame.peer);
      if (info) this.#dropPeer(frame.peer, info);
      else this.#stopTyping((t) => t.peer === frame.peer);
    } else {
      const info = this.#peers.get(frame.peer);
      if (info) info.profile = frame.profile;
    }
    const { room, event, peer, user, profile, name } = frame;
    const ev = { room, event, peer, user };
    if (name !== undefined) ev.name = name;
    if (profile !== undefined) ev.profile = profile;
    this.emit(RoomEvent.PRESENCE, ev);
  }

  _role(frame) {
    this.role = frame.role;
    this.emit(RoomEvent.ROLE, { room: this.name, role: frame.role });
  }

  /** `reads` fanout (or joined.reads): cursors only move forward. */
  _reads(reads) {
    this.#moveReads(reads);
  }

  /** `typing` over the relay. */
  _typing(frame) {
    this.#typingFrom(frame.peer, frame.user, frame.on, frame.name);
  }

  /**
   * `changed`: a message's complete current state. The held message (window) is updated and
   * announced; one only cached is rewritten there; either way the room's rev moves on.
   */
  _changed(frame) {
    const m = this.#held(frame.seq);
    if (m) {
      if (this.#applyState(m, frame)) {
        this.client.cache.put(this.name, [m]);
        this.emit(RoomEvent.UPDATE, m);
      }
    } else {
      this.client.cache.change(this.name, frame.seq, (c) => this.#applyState(c, frame, false));
    }
    if (frame.rev > this.rev) {
      this.rev = frame.rev;
      this.client.cache.setRev(this.name, frame.rev);
    }
  }

  /**
   * The server ended this membership: the room is left (no rejoin on reconnect: it is out of the
   * client's rooms), its cached messages are forgotten, and its unsent messages are dropped and
   * reported — they can never be stored.
   */
  _removed(reason) {
    if (this.removed) return;
    this.removed = reason;
    this._closed();
    this.client.cache.forget(this.name).catch(() => {});
    const dropped = this.#dropUnsent();
    const event = { room: this.name, reason, dropped };
    this.emit(RoomEvent.REMOVED, event);
    this.client.emit('removed', event);
  }

  /** A batch refused with forbidden (the user became a reader): its messages will never be stored. */
  _batchRefused(err) {
    this.client.batcher.take(this.name);
    const dropped = this.#dropUnsent((rec) => rec.sent && (rec.path === 'p2p' || rec.path === 'turn'));
    if (dropped.length > 0) this.client.emit('error', err);
  }

  /** Takes the room's unsent messages out of the outbox; each becomes 'failed' (an 'update'). */
  #dropUnsent(which = () => true) {
    const dropped = [];
    for (const rec of this.client.outbox.forRoom(this.name).filter(which)) {
      this.client.outbox.remove(rec.cid);
      const key = messageKey({ from: this.client.user, cid: rec.cid });
      const m = this.#unsettled.get(key) ?? this.#pendingMessage(rec);
      this.#unsettled.delete(key);
      m.status = 'failed';
      dropped.push(m);
      this.emit(RoomEvent.UPDATE, m);
    }
    return dropped;
  }

  _unread(frame) {
    this.unread = frame.count;
    this.head = Math.max(this.head, frame.lastSeq);
    this.emit(RoomEvent.UNREAD, { count: frame.count, lastSeq: frame.lastSeq, preview: frame.preview });
  }

  _steer(frame) {
    const info = this.#peers.get(frame.peer) ?? this.#addPeer({ peer: frame.peer, user: undefined });
    const same = info.mode === frame.mode && info.link && info.link.path !== 'relay';
    info.mode = frame.mode;
    if (same) return;
    info.link?.close();
    info.link = null;
    info.rttMs = undefined;
    const opts = this.client.options;
    if (frame.mode === 'relay' || !this.client.RTCPeerConnection) {
      info.path = 'relay';
      if (frame.mode !== 'relay') this.client._sendQuiet({ t: 'p2p-result', room: this.name, peer: frame.peer, path: 'relay', setupMs: 0 });
      return this.#peerChanged(info);
    }
    const link = new PeerLink(
      { peer: frame.peer, user: info.user, mode: frame.mode, polite: frame.polite, iceServers: frame.iceServers },
      (data) => this.#signal(frame.peer, data),
      {
        RTCPeerConnection: this.client.RTCPeerConnection,
        rtcConfiguration: opts.rtcConfiguration,
        iceCandidateFilter: opts.iceCandidateFilter,
        p2pConnectTimeoutMs: opts.p2pConnectTimeoutMs,
        maxBodyBytes: Math.min(opts.maxP2pBodyBytes, this.client.limits.maxBodyBytes),
        clock: this.client.clock,
      },
    );
    info.link = link;
    info.path = 'connecting';
    link.on('path', ({ path, rttMs }) => {
      if (info.link !== link) return;
      info.path = path;
      info.rttMs = rttMs;
      this.#peerChanged(info);
    });
    link.on('result', (r) => {
      if (info.link === link) this.client._sendQuiet({ t: 'p2p-result', room: this.name, peer: frame.peer, ...r });
    });
    link.on('message', (pm) => this.#peerMessage(link, pm));
    link.on('typing', (on) => info.link === link && info.user && this.#typingFrom(frame.peer, info.user, on));
    link.on('dropped', () => this.client.counters.droppedPeerFrames++);
    this.#peerChanged(info);
    link.start();
    for (const data of this.#earlySignals.get(frame.peer) ?? []) link.onSignal(data);
    this.#earlySignals.delete(frame.peer);
  }

  _signal(frame) {
    // The SDK's key protocol rides on signal too: never WebRTC signalling.
    if (frame.data && typeof frame.data === 'object' && 'e2ee' in frame.data) {
      this.#keyMessage(frame.from, frame.data.e2ee).catch(() => this.client.counters.signalErrors++);
      return;
    }
    const link = this.#peers.get(frame.from)?.link;
    if (link) return link.onSignal(frame.data);
    // The peer may have acted on its steer before ours arrived: keep a few signals for the link.
    const early = this.#earlySignals.get(frame.from) ?? [];
    if (early.length >= EARLY_SIGNALS) return this.client.counters.droppedSignals++;
    early.push(frame.data);
    this.#earlySignals.set(frame.from, early);
  }

  /**
   * The socket dropped: this session's peer connections are gone for the other side too (it sees
   * us leave), so close them quietly; the resumed `joined` lists the peers anew.
   */
  _disconnected() {
    for (const [peer, info] of this.#peers) this.#dropPeer(peer, info);
    // The others saw us leave (so forgot our typing), and nobody's off can reach us now.
    this.#typingSince = null;
    this.#stopTyping(() => true);
  }

  /** Room left or client closed: peer connections go, the object stops changing. */
  _closed() {
    this.joined = false;
    this.#recon = null;
    this.client.clock.clearTimeout(this.#retryTimer);
    this.client.clock.clearTimeout(this.#missingTimer);
    this.#missingTimer = null;
    this.client.clock.clearTimeout(this.#read.timer);
    this.#read.timer = null;
    this.#typingSince = null;
    this.#stopTyping(() => true, true);
    for (const [peer, info] of this.#peers) this.#dropPeer(peer, info, true);
    this.client._forget(this);
  }

  /**
   * The relay dropped us from the room (`room_unavailable`: another relay sequences it now;
   * `room_moved`: the cluster moved it). Peer links go (the other side lost the room too); the
   * client rejoins (at once after room_moved, with backoff after room_unavailable).
   */
  _unavailable() {
    this.joined = false;
    for (const [peer, info] of this.#peers) this.#dropPeer(peer, info);
  }

  // ——— internals ———

  /** Every other connection of the room has an open channel and the body fits one. */
  #p2pReady(rec) {
    const links = [...this.#peers.values()].map((p) => p.link);
    return links.length > 0 && links.every((l) => l?.open) && utf8Bytes(this.#wireBody(rec) ?? rec.body) <= this.client.options.maxP2pBodyBytes;
  }

  #transmit(rec, m) {
    const links = [...this.#peers.values()].map((p) => p.link);
    // The relay socket does not have to be up: P2P delivery works without it, the batch waits.
    if (this.#p2pReady(rec)) {
      const wire = { cid: rec.cid, from: this.client.user, body: this.#wireBody(rec), ts: rec.ts };
      if (links.every((l) => l.sendMessage(wire))) {
        const path = links.some((l) => l.path === 'turn') ? 'turn' : 'p2p';
        this.client.counters.sent[path]++;
        this.client.outbox.update(rec.cid, { path, sent: true });
        // Every peer took it: the relay sends them only its seq (`seqs`), and need not look it up.
        this.client.batcher.add(this.name, rec.cid, this.#wireBody(rec), rec.ts, { to: [...this.#peers.keys()], resend: false });
        this.client.batcher.soon(this.name);
        this.#paths.set(rec.cid, path);
        m.path = path;
        m.status = 'sent';
        this.emit(RoomEvent.UPDATE, m);
        return;
      }
      // A channel broke mid-send: the relay delivers to everyone; peers that already got it dedupe.
    }
    this.#sendOnRelay(rec, m, false);
  }

  #sendOnRelay(rec, m, resend) {
    const frame = { t: 'send', id: this.client.conn.nextId(), room: this.name, cid: rec.cid, body: this.#wireBody(rec) };
    if (resend) frame.resend = true;
    // When the user sent it (a resend from the outbox keeps its original time; the relay clamps it).
    if (Number.isSafeInteger(rec.ts) && rec.ts >= 0) frame.ts = rec.ts;
    this.client._trackSend(frame.id, this.name, rec.cid);
    try {
      if (!this.client.conn.send(frame)) return;
    } catch (err) {
      // Refused locally (e.g. the server's body limit shrank since it was written): it never can go.
      return this._sendFailed(rec.cid, err);
    }
    if (!resend) this.client.counters.sent.relay++;
    // A message that already went P2P keeps that path; the relay copy only feeds history.
    if (rec.path === 'p2p' || rec.path === 'turn') return;
    this.#paths.set(rec.cid, 'relay');
    if (rec.path !== 'relay') this.client.outbox.update(rec.cid, { path: 'relay' });
    if (m && m.path !== 'relay') {
      m.path = 'relay';
      this.emit(RoomEvent.UPDATE, m);
    }
  }

  #peerMessage(link, pm) {
    const key = messageKey(pm);
    if (this.#unsettled.has(key) || this.#seen.has(key)) return;
    // The relay would refuse an unsealed body here; a peer's copy gets no more trust.
    if (this.encrypted && !SEALED.test(pm.body)) return void this.client.counters.droppedPeerFrames++;
    const path = link.path === 'turn' || link.steer.mode === 'turn' ? 'turn' : 'p2p';
    this.#stopTyping((t) => t.user === pm.from);
    // The sender's time (its clock corrected by the server's), as the relay will store it; a peer
    // frame carries no name: the one presence gave for its user.
    const m = this.#withState({ seq: null, cid: pm.cid, from: pm.from, ts: pm.ts, path, status: 'sent', mine: false }, { body: pm.body, name: this.names[pm.from] });
    this.#remember(m);
    this.client.counters.received[path]++;
    this.window.upsert(m);
    this.#announce(m);
  }

  #settle(m, seq, status, ts) {
    this.#recon?.arrived.add(messageKey(m));
    const changed = m.seq !== seq || m.status !== status;
    m.seq = seq;
    if (m.status !== 'stored') m.status = status;
    if (ts !== undefined) m.ts = ts;
    if (m.seq != null && m.status === 'stored') {
      const key = messageKey(m);
      this.#unsettled.delete(key);
      this.#seen.set(key, true);
    }
    if (!changed) return;
    if (m.seq != null && m.seq < this.#floor) {
      this.window.remove([m]);
    } else {
      this.client.cache.put(this.name, [m]);
      this.window.upsert(m);
    }
    this.emit(RoomEvent.UPDATE, m);
  }

  #remember(m) {
    if (m.seq != null && m.status === 'stored') this.#seen.set(messageKey(m), true);
    else this.#unsettled.set(messageKey(m), m);
    if (m.path) this.#paths.set(m.cid, m.path);
  }

  #advance(seq) {
    this.head = Math.max(this.head, seq);
    this.lastSeq = Math.max(this.lastSeq, seq);
  }

  // ——— end-to-end encryption (README "Encrypted rooms") ———

  /** What goes on a wire: the sealed body in an encrypted room. */
  #wireBody(rec) {
    return this.encrypted ? rec.sealed : rec.body;
  }

  /** Seals an outbox record once (resends carry the same sealed body). @returns whether it is sealed */
  async #sealRec(rec, m) {
    if (rec.sealed) return true;
    const keyId = this.keyId;
    const from = this.client.user;
    if (!keyId || !from) return false;
    const sealed = await seal(this.client.e2ee.peek(this.name).keys.get(keyId), keyId, rec.body, { room: this.name, from, cid: rec.cid });
    if (rec.sealed) return true; // sealed meanwhile by another path
    this.#plain.set(plainKey({ from, cid: rec.cid }, sealed), rec.body);
    await this.client.outbox.update(rec.cid, { sealed });
    rec.sealed = sealed; // a record the ack removed meanwhile is no longer in the outbox
    if (m) {
      m.encrypted = true;
      sealedBodies.set(m, sealed);
    }
    return true;
  }

  /** Seals and sends the messages that waited for a key, in order (one pass at a time: none goes twice). */
  #sealPending() {
    this.#sealing = this.#sealing.catch(() => {}).then(() => this.#sealPendingNow());
    return this.#sealing;
  }

  async #sealPendingNow() {
    for (const rec of this.client.outbox.forRoom(this.name)) {
      if (rec.sealed) continue;
      const m = this.#unsettled.get(messageKey({ from: this.client.user, cid: rec.cid }));
      if (!(await this.#sealRec(rec, m))) return;
      if (this.client.outbox.get(rec.cid)) this.#transmit(rec, m);
    }
  }

  /**
   * Sets a body from a wire or cached entry. In an encrypted room a sealed body is kept for the
   * cache (at rest it stays sealed) and opened: known plaintext at once, else asynchronously (an
   * 'update' follows; until then body is ''). A body that is not sealed predates the encryption.
   * held: the message is on screen (a cache-only record is not opened).
   */
  #setBody(m, body, held = true) {
    if (!this.encrypted || typeof body !== 'string' || !SEALED.test(body)) {
      m.body = body;
      return;
    }
    sealedBodies.set(m, body);
    m.encrypted = true;
    const plain = this.#plain.get(plainKey(m, body));
    if (plain !== undefined) {
      m.body = plain;
      delete m.undecryptable;
      return;
    }
    m.body = '';
    if (!held) return;
    this.#opening.add(m);
    this.#open(m, body);
  }

  /** 'message' for a received message; one still being opened is announced once open (or not). */
  #announce(m) {
    if (this.#opening.has(m)) this.#announceOnOpen.add(m);
    else this.emit(RoomEvent.MESSAGE, m);
  }

  async #open(m, sealed) {
    const keys = this.client.e2ee.peek(this.name)?.keys;
    const r = await open((id) => keys?.get(id), sealed, { room: this.name, from: m.from, cid: m.cid });
    this.#opening.delete(m);
    if (sealedBodies.get(m) !== sealed || m.deleted) {
      // edited or deleted meanwhile: that change announces it (a new one is announced now)
      if (this.#announceOnOpen.delete(m)) this.emit(RoomEvent.MESSAGE, m);
      return;
    }
    if (r.body !== undefined) {
      this.#plain.set(plainKey(m, sealed), r.body);
      m.body = r.body;
      delete m.undecryptable;
    } else {
      if (m.undecryptable === r.undecryptable && !this.#announceOnOpen.has(m)) return;
      m.undecryptable = r.undecryptable;
      if (r.keyId) {
        let waiting = this.#waiting.get(r.keyId);
        if (!waiting) this.#waiting.set(r.keyId, (waiting = new Set()));
        if (waiting.size < UNSETTLED) waiting.add(m);
        if (!this.#asked.has(r.keyId)) {
          this.#asked.add(r.keyId);
          this.#want({ unlessRecent: true });
        }
      }
    }
    this.client.cache.put(this.name, [m]);
    this.emit(this.#announceOnOpen.delete(m) ? RoomEvent.MESSAGE : RoomEvent.UPDATE, m);
  }

  /** Tells peers which keys this device has; each answers with the ones it lacks (`key`). */
  async #want({ unlessRecent = false } = {}) {
    // A missing key right after joining: the join's want is already being answered.
    const now = this.client.clock.now();
    if (unlessRecent && now - this.#wantedAt < WANT_AGAIN_MS) return;
    if (this.#peers.size > 0) this.#wantedAt = now;
    const ks = await this.client.e2ee.load().catch(() => null);
    if (!ks) return; // no WebCrypto here: nothing to ask with
    const have = [...(ks.peek(this.name)?.keys.keys() ?? [])];
    let n = 0;
    for (const peer of this.#peers.keys()) {
      if (n++ >= WANT_PEERS) break;
      this.#signal(peer, { e2ee: { v: 1, t: 'want', pub: ks.pub, have } });
    }
  }

  /** A `want` or `key` from a peer. Only users in the room (and not revoked here) are answered or heard. */
  async #keyMessage(peer, msg) {
    if (!msg || msg.v !== 1 || typeof msg.pub !== 'string' || !this.encrypted) return;
    const user = this.#peers.get(peer)?.user;
    if (!user || !this.members.includes(user) || this.#revoked.has(user)) return;
    const ks = await this.client.e2ee.load();
    const pub = await importPublic(msg.pub);
    const r = await ks.room(this.name);
    if (msg.t === 'want') {
      const have = new Set(Array.isArray(msg.have) ? msg.have.filter(isKeyId) : []);
      const keys = [];
      for (const [id, key] of r.keys) if (!have.has(id)) keys.push({ id, w: await wrapFor(ks.device.privateKey, pub, this.name, id, key) });
      // Newest first, KEYS_PER_SIGNAL a frame (a long-rotated room stays under the signal size limit).
      keys.sort((a, b) => (a.id < b.id ? 1 : -1));
      let i = 0;
      do this.#signal(peer, { e2ee: { v: 1, t: 'key', pub: ks.pub, keys: keys.slice(i, i + KEYS_PER_SIGNAL) } });
      while ((i += KEYS_PER_SIGNAL) < keys.length);
      // The asker holds keys this device lacks (a rotation announced by want): ask back.
      if ([...have].some((id) => !r.keys.has(id))) this.#signal(peer, { e2ee: { v: 1, t: 'want', pub: ks.pub, have: [...r.keys.keys()] } });
    } else if (msg.t === 'key' && Array.isArray(msg.keys)) {
      let added = false;
      for (const k of msg.keys.slice(0, KEYS_PER_SIGNAL)) {
        if (!isAcceptableKeyId(k?.id, this.client.clock.now()) || typeof k.w !== 'string' || r.keys.has(k.id)) continue;
        try {
          added = (await ks.addKey(this.name, k.id, await unwrapFrom(ks.device.privateKey, pub, this.name, k.id, k.w))) || added;
        } catch {
          this.client.counters.signalErrors++; // a wrapping that does not open: ignored
        }
      }
      if (added) this._keysArrived();
    }
  }

  /** A new sealing key, announced to the peers (a want listing it: members ask for it back). */
  async #newKey() {
    const id = newKeyId(this.client.clock.now(), this.keyId);
    await this.client.e2ee.addKey(this.name, id, await newRoomKey());
    this._keysArrived();
    this.#want();
    return id;
  }

  /** Keys arrived (peer, invite, our own): held messages that waited open, waiting sends go out. */
  _keysArrived() {
    const keys = this.client.e2ee.peek(this.name)?.keys;
    for (const [id, waiting] of this.#waiting) {
      if (!keys?.has(id)) continue;
      this.#waiting.delete(id);
      for (const m of waiting) this.#open(m, sealedBodies.get(m));
    }
    this.#sealPending().catch((e) => this.client.emit('error', e));
  }

  #pendingMessage(rec) {
    const path = rec.path ?? null;
    const status = rec.sent ? 'sent' : 'pending';
    const m = { seq: null, cid: rec.cid, from: this.client.user, body: rec.body, ts: rec.ts, path, status, mine: true, rev: 0, reactions: [] };
    if (this.client.name != null) m.name = this.client.name;
    if (rec.sealed) {
      m.encrypted = true;
      sealedBodies.set(m, rec.sealed);
    }
    return m;
  }

  /** A message from cache or a history page; the held object when it was waiting for this seq. */
  #stored(m) {
    const known = this.#unsettled.get(messageKey(m));
    if (known && m.seq != null) this.#settle(known, m.seq, 'stored', m.ts);
    if (known) {
      if (this.#applyState(known, m)) this.emit(RoomEvent.UPDATE, known);
      return known;
    }
    return this.#withState({ seq: m.seq, cid: m.cid, from: m.from, ts: m.ts, path: m.path ?? 'relay', status: 'stored', mine: m.from === this.client.user }, m);
  }

  /** Sets a new message's body, name and chat state from a wire or cached entry. */
  #withState(m, s) {
    if (s.name !== undefined) m.name = s.name;
    this.#setBody(m, s.deleted ? '' : s.body);
    m.rev = s.rev ?? 0;
    if (s.edited !== undefined) m.edited = s.edited;
    if (s.deleted) m.deleted = true;
    m.reactions = this.#reactions(m.seq, s.reactions);
    return m;
  }

  /**
   * Applies a newer state (`changed`, or a page entry with a higher rev) to a message.
   * @returns {boolean} whether anything changed
   */
  #applyState(m, s, held = true) {
    const rev = s.rev ?? 0;
    if (rev <= (m.rev ?? 0)) return false;
    m.rev = rev;
    if (s.deleted) {
      m.deleted = true;
      m.body = '';
    } else {
      delete m.deleted;
      if (s.body !== undefined) this.#setBody(m, s.body, held);
    }
    if (s.edited !== undefined) m.edited = s.edited;
    else delete m.edited;
    m.reactions = this.#reactions(m.seq, s.reactions);
    return true;
  }

  /** Wire reactions with `mine` (the listed users, or what this client did when the list is cut at 50). */
  #reactions(seq, list = []) {
    const me = this.client.user;
    return list.map(({ emoji, count, users }) => {
      const key = `${seq} ${emoji}`;
      // A complete list is the truth (another device of ours may have taken it back).
      if (users.length >= count && this.#ownReactions.has(key)) this.#ownReactions.set(key, users.includes(me));
      return { emoji, count, users: [...users], mine: users.includes(me) || (users.length < count && this.#ownReactions.get(key) === true) };
    });
  }

  /** The held message with this seq (in the window), if any. */
  #held(seq) {
    return this.window.items.find((m) => m.seq === seq);
  }

  /** Edit, delete or react: refused at once when it cannot reach the server now; resolves with the changed message. */
  async #change(frame, message) {
    const seq = typeof message === 'number' ? message : message?.seq;
    if (!Number.isSafeInteger(seq) || seq < 1) throw new SwitchboardError('bad_request', 'the message has no seq yet');
    if (this.removed) throw new SwitchboardError('not_joined', `the server ended this membership (${this.removed})`);
    if (this.role === 'reader') throw new SwitchboardError('forbidden', 'readers cannot change messages in this room');
    if (!this.joined || this.client.state !== 'open') {
      throw new SwitchboardError(ErrorCode.OFFLINE, `cannot ${frame.t} while not connected to the room; try again when online`);
    }
    const reply = await this.client.conn.request({ ...frame, room: this.name, seq });
    // _changed has applied the reply (dispatched before this continuation runs).
    const held = this.#held(seq);
    if (held) return held;
    const [cached] = await this.client.cache.after(this.name, seq - 1, 1);
    if (cached?.seq === seq) return this.#stored(cached);
    const page = await this.client._history(this.name, seq + 1, 1);
    const entry = page.messages.find((m) => m.seq === seq);
    return entry ? this.#stored(entry) : this.#withState({ seq, cid: '', from: '', ts: 0, path: 'relay', status: 'stored', mine: false }, reply);
  }

  /**
   * Sequencing a message moves its sender's cursor to its seq, and the relay does not fan that move
   * out (every receiver of the live message can tell): apply it here, for this user and the users
   * whose cursors the room reports (in a room of more than 256 readers, the others are not listed).
   * `joined.reads` already includes them; the catch-up page after the background does not.
   */
  #impliedReads(messages) {
    const implied = {};
    for (const { from, seq } of messages) {
      if (seq == null || !(from === this.client.user || this.#reads.has(from))) continue;
      if (seq > (implied[from] ?? 0)) implied[from] = seq;
    }
    this.#moveReads(implied);
  }

  /** Moves cursors forward (never back) and announces those that moved. */
  #moveReads(reads) {
    const moved = {};
    let any = false;
    for (const [user, seq] of Object.entries(reads)) {
      if (seq <= (this.#reads.get(user) ?? -1)) continue;
      this.#reads.set(user, seq);
      moved[user] = seq;
      any = true;
    }
    if (any) this.emit(RoomEvent.READS, { room: this.name, reads: moved, unreadCount: this.unreadCount });
  }

  /** Sends the highest seq markRead asked for, at most once per READ_INTERVAL_MS. */
  #flushRead() {
    const r = this.#read;
    if (r.timer !== null || r.wanted <= r.sent) return;
    const clock = this.client.clock;
    const wait = r.at + READ_INTERVAL_MS - clock.now();
    if (wait > 0) {
      r.timer = clock.setTimeout(() => {
        r.timer = null;
        this.#flushRead();
      }, wait);
      return;
    }
    // Offline or between memberships: the next `joined` sends it.
    if (!this.joined || this.removed || !this.client.conn.send({ t: 'read', room: this.name, seq: r.wanted })) return;
    r.sent = r.wanted;
    r.at = clock.now();
  }

  /** @returns {boolean} whether it went out (over every DataChannel, or the relay) */
  #sendTyping(on) {
    const links = [...this.#peers.values()].map((p) => p.link);
    // A channel that failed mid-way: the relay tells everyone (receivers take a repeat as a renewal).
    if (links.length > 0 && links.every((l) => l?.open) && links.every((l) => l.sendTyping(on))) return true;
    return this.client.conn.send({ t: 'typing', room: this.name, on });
  }

  /** Another connection typing (relay or DataChannel; repeats renew the expiry). */
  #typingFrom(peer, user, on, name) {
    if (user === this.client.user) return;
    const had = this.#typing.get(peer);
    if (had) this.client.clock.clearTimeout(had.timer);
    if (!on) {
      if (!had) return;
      this.#typing.delete(peer);
      return this.#typingChanged();
    }
    name ??= this.names[user];
    const entry = { user, peer, timer: null };
    if (name !== undefined) entry.name = name;
    entry.timer = this.client.clock.setTimeout(() => {
      if (this.#typing.get(peer) !== entry) return;
      this.#typing.delete(peer);
      this.#typingChanged();
    }, TYPING_EXPIRY_MS);
    this.#typing.set(peer, entry);
    if (!had || had.name !== entry.name) this.#typingChanged();
  }

  /** Forgets typing entries that match (their peer left, or their user sent a message). */
  #stopTyping(match, quiet = false) {
    let any = false;
    for (const [peer, t] of this.#typing) {
      if (!match(t)) continue;
      this.client.clock.clearTimeout(t.timer);
      this.#typing.delete(peer);
      any = true;
    }
    if (any && !quiet) this.#typingChanged();
  }

  #typingChanged() {
    this.emit(RoomEvent.TYPING, { room: this.name, users: this.typingUsers });
  }

  /**
   * The server could not send every change since our rev: the held messages are read again from
   * history (their current state), announced where it changed, and cached anew.
   */
  async #rereadHeld() {
    const held = this.window.items.filter((m) => m.seq != null);
    if (held.length === 0) return;
    const bySeq = new Map(held.map((m) => [m.seq, m]));
    const low = Math.min(...bySeq.keys());
    const limit = this.client.limits.maxHistoryLimit;
    for (let before = Math.max(...bySeq.keys()) + 1, pages = 0; before > low && pages < RECONCILE_PAGES; pages++) {
      const page = await this.client._history(this.name, before, Math.min(limit, before - low));
      for (const e of page.messages) {
        const m = bySeq.get(e.seq);
        if (m && messageKey(m) === messageKey(e) && this.#applyState(m, e)) this.emit(RoomEvent.UPDATE, m);
      }
      if (!page.hasMore || page.messages.length === 0) break;
      before = page.messages[0].seq;
    }
    this.client.cache.put(this.name, held);
  }

  #addPeer({ peer, user, profile, name }) {
    let info = this.#peers.get(peer);
    if (!info) {
      info = { peer, user, mode: 'relay', path: 'relay', link: null };
      this.#peers.set(peer, info);
    }
    if (name !== undefined) {
      info.name = name;
      if (user) this.names[user] = name;
    }
    if (user !== undefined) {
      info.user = user;
      if (info.link) info.link.steer.user = user;
    }
    if (profile !== undefined) info.profile = profile;
    if (user && !this.members.includes(user)) this.members.push(user);
    return info;
  }

  #dropPeer(peer, info, quiet = false) {
    info.link?.close();
    this.#stopTyping((t) => t.peer === peer, quiet);
    this.#earlySignals.delete(peer);
    this.#peers.delete(peer);
    const stillHere = [...this.#peers.values()].some((p) => p.user === info.user) || info.user === this.client.user;
    if (!stillHere) this.members = this.members.filter((u) => u !== info.user);
    if (!quiet) this.emit(RoomEvent.PEER, { peer, user: info.user, mode: 'relay', path: 'relay', gone: true });
  }

  #peerChanged(info) {
    const { link, ...rest } = info;
    this.emit(RoomEvent.PEER, { ...rest });
  }

  #signal(peer, data) {
    this.client._sendQuiet({ t: 'signal', room: this.name, to: peer, data });
  }

  /**
   * Fetches what the server has beyond lastSeq (after a join or back from the background). Back
   * from the background (`implied`), the page's senders' cursor moves were never fanned out to us.
   */
  async #catchUp(implied = false) {
    const missing = this.head - this.lastSeq;
    if (missing <= 0) return;
    // One page: as much as the window holds, or the server gives.
    const size = Math.min(this.window.size, this.client.limits.maxHistoryLimit);
    const page = await this.client._history(this.name, undefined, Math.min(size, missing));
    const messages = page.messages.map((m) => this.#stored(m));
    if (implied) this.#impliedReads(messages);
    const fresh = messages.filter((m) => !this.#seen.has(messageKey(m)));
    for (const m of fresh) this.#remember(m);
    this.client.cache.put(this.name, messages);
    if (missing > size) {
      // A hole between the cache and this page: drop the older cache part rather than bridge it.
      // Live messages that arrived during the request are newer than the page: keep them.
      const newest = messages.at(-1)?.seq ?? 0;
      const live = this.window.items.filter((m) => m.seq == null || m.seq > newest);
      this.window.reset([...messages, ...live], { hasOlder: page.hasMore });
      this.#floor = messages[0]?.seq ?? this.head;
      await this.client.cache.dropBelow(this.name, this.#floor);
    } else {
      for (const m of fresh) this.window.upsert(m);
    }
    for (const m of messages) this.#advance(m.seq);
  }

  // ——— reconciliation after a new epoch ———

  /** `joined` with divergedAfter D: held seqs > D may not exist; the replay starts at `from`. */
  #diverge(after, from, head) {
    const bound = RECONCILE_PAGES * this.client.limits.maxHistoryLimit;
    const recon = this.#startRecon(after, head);
    const gap = from - 1 - recon.after;
    recon.replayDone = head < from;
    if (gap > bound) {
      // Too far behind to bridge: as recovered:false, the window restarts at the replay; the pages
      // read below only match held messages, they fill neither window nor cache.
      this.window.reset(this.window.items.filter((m) => m.seq == null), { hasOlder: true });
      this.#floor = from;
      this.client.cache.dropBelow(this.name, from).catch(() => {});
    }
    this.lastSeq = from - 1;
    this.#runSources(recon, () => this.#sweep(recon, recon.after, Math.min(from - 1, recon.after + bound), gap <= bound));
  }

  /** A join into a new epoch: everything held is checked against history from its oldest seq. */
  async #verifyHeld(head) {
    const seqs = this.window.items.filter((m) => m.seq != null).map((m) => m.seq);
    if (seqs.length === 0) {
      // Nothing on screen: forget the cached copy rather than check it.
      this.client.cache.diverge(this.name, 0, this.epoch);
      this.lastSeq = 0;
      return;
    }
    // Seqs above head do not exist in this epoch at all.
    const recon = this.#startRecon(Math.min(Math.min(...seqs) - 1, head), head);
    // Older cached messages are off screen: dropped unchecked (history pages them in again).
    this.#floor = recon.after + 1;
    this.client.cache.dropBelow(this.name, this.#floor).catch(() => {});
    recon.replayDone = true;
    this.lastSeq = recon.after;
    const covered = Math.min(head, recon.after + RECONCILE_PAGES * this.client.limits.maxHistoryLimit);
    await this.#runSources(recon, async () => {
      const pages = await this.#sweep(recon, recon.after, covered, true);
      // Not knowing where the copy diverged, a held message may have been stored again below
      // what was on screen: look further down while pages are left.
      await this.#sweepDown(recon, recon.after + 1, RECONCILE_PAGES - pages);
    });
    // Not bridged up to head: the catch-up that follows fetches the newest page across the hole.
    if (covered < head) this.lastSeq = covered;
  }

  /**
   * Marks held messages after `after` provisional (synchronously: replayed messages follow the
   * `joined` at once). Our own not yet stored ones go back to pending: the outbox re-sends them.
   */
  #startRecon(after, end) {
    const prior = this.#recon;
    if (prior) after = Math.min(after, prior.after);
    /** @type {Reconciliation} */
    const recon = {
      after, end, provisional: new Map(prior?.provisional), arrived: new Set(), own: new Set(prior?.own),
      moved: [...(prior?.moved ?? [])], replayDone: false, loaded: false,
    };
    this.#recon = recon;
    for (const m of this.window.items) {
      if (m.seq == null || m.seq <= after) continue;
      const key = messageKey(m);
      if (m.mine && this.client.outbox.get(m.cid)) {
        recon.own.add(key);
        m.seq = null;
        m.status = 'pending';
        this.#seen.delete(key);
        this.#unsettled.set(key, m);
        this.window.upsert(m);
        this.emit(RoomEvent.UPDATE, m);
      } else {
        recon.provisional.set(key, m);
      }
    }
    recon.forgotten = this.client.cache.diverge(this.name, after, this.epoch);
    return recon;
  }

  /**
   * Adds the cache's forgotten messages to the provisional set, then runs the history sweep. A
   * sweep that failed (timeout, closed) still ends the reconciliation: what it could not find is
   * treated as gone rather than left on screen unconfirmed.
   */
  async #runSources(recon, sweep) {
    for (const m of (await recon.forgotten) ?? []) {
      const key = messageKey(m);
      // The cache's copy only stands for messages held nowhere else: not for ones the server
      // vouched for since, nor our own ones that went back to the outbox (acked meanwhile or not).
      if (recon.arrived.has(key) || recon.provisional.has(key) || recon.own.has(key)) continue;
      if (m.from === this.client.user && this.client.outbox.get(m.cid)) continue;
      recon.provisional.set(key, { ...m, path: m.path ?? 'relay', status: 'stored', mine: m.from === this.client.user });
    }
    try {
      await sweep();
    } catch (err) {
      if (this.#recon === recon) this.client.emit('error', err);
    }
    recon.loaded = true;
    this.#maybeFinish(recon);
  }

  /**
   * Reads history for seqs in (from, to], bounded, matching each message against what is held.
   * @returns {Promise<number>} pages read
   */
  async #sweep(recon, from, to, keep) {
    const limit = this.client.limits.maxHistoryLimit;
    let pages = 0;
    for (let start = from + 1; start <= to && pages < RECONCILE_PAGES && this.#recon === recon; pages++) {
      const before = Math.min(start + limit, to + 1);
      const page = await this.client._history(this.name, before, before - start);
      for (const m of page.messages) if (m.seq > from && this.#recon === recon) this.#reconciled(recon, m, keep);
      start = before;
    }
    return pages;
  }

  /** Reads history below `before`, newest first, while held messages are unmatched; only matches. */
  async #sweepDown(recon, before, pages) {
    const limit = this.client.limits.maxHistoryLimit;
    for (; before > 1 && pages > 0 && recon.provisional.size > 0 && this.#recon === recon; pages--) {
      const page = await this.client._history(this.name, before, limit);
      for (const m of page.messages) if (this.#recon === recon) this.#reconciled(recon, m, false);
      if (!page.hasMore || page.messages.length === 0) return;
      before = page.messages[0].seq;
    }
  }

  /** A message the server has (replay or page) while reconciling. keep: it belongs in window and cache. */
  #reconciled(recon, m, keep) {
    const key = messageKey(m);
    recon.arrived.add(key);
    const held = recon.provisional.get(key);
    if (held) {
      recon.provisional.delete(key);
      const moved = held.seq !== m.seq;
      held.seq = m.seq;
      held.ts = m.ts;
      held.status = 'stored';
      if (this.#applyState(held, m) && !moved) this.emit(RoomEvent.UPDATE, held);
      this.#remember(held);
      if (keep) {
        this.client.cache.put(this.name, [held]);
        this.window.upsert(held);
      } else {
        this.window.remove([held]); // stored below what window and cache hold: history pages it in
      }
      if (moved) {
        recon.moved.push(held);
        this.emit(RoomEvent.UPDATE, held);
      }
      return;
    }
    if (!keep) return;
    const wasSeen = this.#seen.has(key);
    const known = this.#unsettled.get(key);
    const s = this.#stored(m);
    this.#remember(s);
    this.#advance(m.seq);
    if (known) return; // settled: cached, upserted and announced by #settle
    if (!wasSeen) this.client.counters.received.relay++;
    this.client.cache.put(this.name, [s]);
    this.window.upsert(s);
    // One we had shown and no longer hold as an object (cache only, or long ago): a new seq at most.
    if (wasSeen) this.emit(RoomEvent.UPDATE, s);
    else this.#announce(s);
  }

  #maybeFinish(recon) {
    if (this.#recon !== recon || !recon.replayDone || !recon.loaded) return;
    this.#recon = null;
    const removed = [...recon.provisional.values()];
    for (const m of removed) {
      const key = messageKey(m);
      this.#seen.delete(key);
      this.#unsettled.delete(key);
    }
    this.window.remove(removed);
    // Everything on screen was gone: what does exist is older, for loadOlder to page in.
    if (removed.length > 0 && !this.window.items.some((m) => m.seq != null)) this.window.hasOlder = this.lastSeq > 0;
    this.emit(RoomEvent.DIVERGED, { room: this.name, divergedAfter: recon.after, removed, moved: recon.moved });
  }

  /** Cache first, then the server, for the window's pages. */
  #loader() {
    const fromServer = async (before, limit) => {
      const page = await this.client._history(this.name, before, limit);
      const messages = page.messages.map((m) => this.#stored(m));
      this.client.cache.put(this.name, messages);
      return { messages, hasMore: page.hasMore };
    };
    return {
      older: async (before, limit) => {
        const cached = (await this.client.cache.before(this.name, before, limit)).map((m) => this.#stored(m));
        if (cached.length === limit || cached[0]?.seq === 1) return { messages: cached, hasMore: cached[0].seq > 1 };
        if (this.client.conn.state !== 'open') return { messages: cached, hasMore: true };
        const rest = await fromServer(cached[0]?.seq ?? before, limit - cached.length);
        // The page adjoins what is held: the contiguous part reaches down with it.
        this.#floor = rest.hasMore ? Math.min(this.#floor, rest.messages[0]?.seq ?? this.#floor) : 0;
        return { messages: [...rest.messages, ...cached], hasMore: rest.hasMore };
      },
      newer: async (after, limit) => {
        const cached = (await this.client.cache.after(this.name, after, limit)).map((m) => this.#stored(m));
        const last = cached.at(-1)?.seq ?? after;
        if (cached.length === limit || last >= this.head || this.client.conn.state !== 'open') {
          return { messages: cached, hasMore: last < this.head };
        }
        const rest = await fromServer(Math.min(last + limit - cached.length + 1, this.head + 1), limit - cached.length);
        const newer = rest.messages.filter((m) => m.seq > last);
        const end = newer.at(-1)?.seq ?? last;
        return { messages: [...cached, ...newer], hasMore: end < this.head };
      },
      latest: async (limit) => {
        const cached = (await this.client.cache.before(this.name, undefined, limit)).map((m) => this.#stored(m));
        if (cached.at(-1)?.seq >= this.head || this.client.conn.state !== 'open') {
          return { messages: cached, hasMore: (cached[0]?.seq ?? 1) > 1 };
        }
        return fromServer(undefined, limit);
      },
    };
  }
}
