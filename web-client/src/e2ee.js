// End-to-end encryption of message bodies (issue 18). WebCrypto only: a device ECDH P-256 key
// pair, AES-GCM-256 room keys, bodies sealed as `e1.<keyId>.<b64url(iv||ct)>` with the message's
// room, sender and cid as additional data (a body replayed elsewhere fails), keys wrapped for a
// peer with ECDH → HKDF-SHA256 → AES-GCM. See README "Encrypted rooms".
import LZString from 'lz-string';

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });
const subtle = () => globalThis.crypto.subtle;

/** `e1.<keyId>.<payload>`: the relay checks this shape in encrypted rooms (docs/protocol.md). */
export const SEALED = /^e1\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]+)$/;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const WRAP_INFO = 'switchboard-e2ee-v1 ';

export function b64url(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** @returns {Uint8Array|null} null: not base64url */
export function fromB64url(s) {
  if (typeof s !== 'string' || !/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) return null;
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export const isKeyId = (id) => typeof id === 'string' && KEY_ID.test(id);

/**
 * A new key id: the creation time first (base36, fixed width), so the newest key sorts last and
 * every member agrees which one seals (two owners rotating at once: the later one wins); `after`:
 * the current key's id, which the new one must sort after.
 */
export function newKeyId(now = Date.now(), after = null) {
  // Never sorting before the key it replaces, whatever this device's clock says.
  const prev = after ? parseInt(after.slice(0, 9), 36) : NaN;
  if (Number.isSafeInteger(prev) && prev >= now) now = prev + 1;
  const rnd = b64url(globalThis.crypto.getRandomValues(new Uint8Array(6)));
  return `${now.toString(36).padStart(9, '0')}${rnd}`;
}

/** Keys from others may claim a creation time at most this far ahead of this device's clock. */
export const KEY_CLOCK_SKEW_MS = 10 * 60_000;

/**
 * Whether a key id from someone else may be taken: our format (9 base36 time digits first) and not
 * from the future. Otherwise a member could plant an id that sorts after every later rotation and
 * stay the sealing key after being revoked.
 */
export function isAcceptableKeyId(id, now = Date.now()) {
  if (!isKeyId(id) || !/^[0-9a-z]{9}/.test(id)) return false;
  return parseInt(id.slice(0, 9), 36) <= now + KEY_CLOCK_SKEW_MS;
}

/** Padded plaintext size: 64, 128, …, 2048, then multiples of 2048 (hides lengths within a bucket). */
export function bucket(n) {
  for (let b = 64; b <= 2048; b *= 2) if (n <= b) return b;
  return Math.ceil(n / 2048) * 2048;
}

/** 4-byte big-endian length + data + zeros up to the bucket. */
export function pad(data) {
  const out = new Uint8Array(bucket(data.length + 4));
  new DataView(out.buffer).setUint32(0, data.length);
  out.set(data, 4);
  return out;
}

/** @returns {Uint8Array|null} null: a length that does not fit */
export function unpad(padded) {
  if (padded.length < 4) return null;
  const n = new DataView(padded.buffer, padded.byteOffset, padded.byteLength).getUint32(0);
  return n + 4 <= padded.length ? padded.subarray(4, 4 + n) : null;
}

const aad = (room, from, cid) => enc.encode(`${room}\n${from}\n${cid}`);

/** A new AES-GCM-256 room key (extractable: it is wrapped for other members and put in invites). */
export function newRoomKey() {
  return subtle().generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
}

export const importRoomKey = (raw) => subtle().importKey('raw', raw, { name: 'AES-GCM' }, true, ['encrypt', 'decrypt']);
export const exportRoomKey = async (key) => new Uint8Array(await subtle().exportKey('raw', key));

/** The device's ECDH P-256 pair; the private key cannot be exported (IndexedDB keeps the object). */
export function newDeviceKeys() {
  return subtle().generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveKey', 'deriveBits']);
}

export const exportPublic = async (pub) => b64url(new Uint8Array(await subtle().exportKey('raw', pub)));

export function importPublic(b64) {
  const raw = fromB64url(b64);
  if (!raw || raw.length !== 65) return Promise.reject(new Error('bad public key'));
  return subtle().importKey('raw', raw, { name: 'ECDH', namedCurve: 'P-256' }, true, []);
}

/**
 * Seals a body: UTF-8 → LZ-String → padding → AES-GCM (fresh iv, AAD room\nfrom\ncid).
 * @returns {Promise<string>} `e1.<keyId>.<b64url(iv||ct)>`
 */
export async function seal(key, keyId, body, { room, from, cid }) {
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ct = new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv, additionalData: aad(room, from, cid) }, key, pad(LZString.compressToUint8Array(body))));
  const out = new Uint8Array(IV_BYTES + ct.length);
  out.set(iv);
  out.set(ct, IV_BYTES);
  return `e1.${keyId}.${b64url(out)}`;
}

/** The length (ASCII chars = bytes) of `body` sealed under a key id of `keyIdLength` chars. */
export function sealedLength(body, keyIdLength = 32) {
  const bytes = IV_BYTES + bucket(LZString.compressToUint8Array(body).length + 4) + TAG_BYTES;
  return 4 + keyIdLength + Math.ceil((bytes * 4) / 3);
}

/** @returns {{keyId: string, payload: Uint8Array}|null} null: not a sealed body */
export function parseSealed(body) {
  const m = typeof body === 'string' ? SEALED.exec(body) : null;
  const payload = m && fromB64url(m[2]);
  return payload && payload.length >= IV_BYTES + TAG_BYTES ? { keyId: m[1], payload } : null;
}

/**
 * Opens a sealed body with its message's own room/from/cid. Never throws.
 * @param {(keyId: string) => CryptoKey|undefined} keyOf
 * @returns {Promise<{body: string}|{undecryptable: 'missing_key'|'tampered', keyId?: string}>}
 */
export async function open(keyOf, sealed, { room, from, cid }) {
  const parsed = parseSealed(sealed);
  if (!parsed) return { undecryptable: 'tampered' };
  const key = keyOf(parsed.keyId);
  if (!key) return { undecryptable: 'missing_key', keyId: parsed.keyId };
  try {
    const { payload } = parsed;
    const plain = await subtle().decrypt({ name: 'AES-GCM', iv: payload.subarray(0, IV_BYTES), additionalData: aad(room, from, cid) }, key, payload.subarray(IV_BYTES));
    const data = unpad(new Uint8Array(plain));
    const body = data && LZString.decompressFromUint8Array(data);
    return typeof body === 'string' && body.length > 0 ? { body } : { undecryptable: 'tampered' };
  } catch {
    return { undecryptable: 'tampered' };
  }
}

/** The AES-GCM key that wraps room keys between two devices (same on both sides). */
async function wrapKey(privateKey, peerPub, room, keyId) {
  const bits = await subtle().deriveBits({ name: 'ECDH', public: peerPub }, privateKey, 256);
  const hkdf = await subtle().importKey('raw', bits, 'HKDF', false, ['deriveKey']);
  return subtle().deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: enc.encode(room), info: enc.encode(WRAP_INFO + keyId) },
    hkdf,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/** @returns {Promise<string>} b64url(iv || AES-GCM(wrapKey, raw room key)) */
export async function wrapFor(privateKey, peerPub, room, keyId, roomKey) {
  const k = await wrapKey(privateKey, peerPub, room, keyId);
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ct = new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv }, k, await exportRoomKey(roomKey)));
  const out = new Uint8Array(IV_BYTES + ct.length);
  out.set(iv);
  out.set(ct, IV_BYTES);
  return b64url(out);
}

/** @returns {Promise<CryptoKey>} rejects when the wrapping does not open (wrong keys, tampered) */
export async function unwrapFrom(privateKey, peerPub, room, keyId, wrapped) {
  const data = fromB64url(wrapped);
  if (!data || data.length < IV_BYTES + TAG_BYTES) throw new Error('bad wrapped key');
  const k = await wrapKey(privateKey, peerPub, room, keyId);
  const raw = await subtle().decrypt({ name: 'AES-GCM', iv: data.subarray(0, IV_BYTES) }, k, data.subarray(IV_BYTES));
  if (raw.byteLength !== 32) throw new Error('bad room key');
  return importRoomKey(raw);
}

/**
 * The device key pair and room keys, in memory and in storage's kv (`e2ee:device`: the CryptoKey
 * pair, IndexedDB keeps a non-extractable key as an object; `e2ee:room:<room>`: {encrypted, keys:
 * {keyId: raw key b64url}}). Room keys are raw bytes at rest like the invite link carries them.
 */
export class KeyStore {
  /** @type {Map<string, {encrypted: boolean, keys: Map<string, CryptoKey>}>} */
  #rooms = new Map();
  device = null;
  pub = null;
  #loading = null;

  constructor(storage) {
    this.storage = storage;
  }

  /** The device pair, loaded (or made) on first use: a client that never meets an encrypted room never waits for it. */
  load() {
    this.#loading ??= this.#load();
    return this.#loading;
  }

  async #load() {
    let device = await this.storage.kvGet('e2ee:device').catch(() => undefined);
    if (!device?.privateKey) {
      device = await newDeviceKeys();
      try {
        await this.storage.kvSet('e2ee:device', { privateKey: device.privateKey, publicKey: device.publicKey });
      } catch {
        // A store that cannot clone CryptoKeys: this page keeps the pair in memory only.
      }
    }
    this.device = device;
    this.pub = await exportPublic(device.publicKey);
    return this;
  }

  /** Loads a room's flag and keys from storage once. */
  async room(name) {
    let r = this.#rooms.get(name);
    if (r) return r;
    const saved = await this.storage.kvGet(`e2ee:room:${name}`).catch(() => undefined);
    r = this.#rooms.get(name);
    if (r) return r;
    r = { encrypted: Boolean(saved?.encrypted), keys: new Map() };
    this.#rooms.set(name, r);
    for (const [id, raw] of Object.entries(saved?.keys ?? {})) {
      const bytes = fromB64url(raw);
      if (bytes?.length === 32) r.keys.set(id, await importRoomKey(bytes));
    }
    return r;
  }

  /** Synchronous view after {@link room} loaded it. */
  peek(name) {
    return this.#rooms.get(name);
  }

  async #save(name) {
    const r = this.#rooms.get(name);
    const keys = {};
    for (const [id, key] of r.keys) keys[id] = b64url(await exportRoomKey(key));
    await this.storage.kvSet(`e2ee:room:${name}`, { encrypted: r.encrypted, keys }).catch(() => {});
  }

  async setEncrypted(name) {
    const r = await this.room(name);
    if (r.encrypted) return;
    r.encrypted = true;
    await this.#save(name);
  }

  /** @returns {Promise<boolean>} whether it was new */
  async addKey(name, id, key) {
    const r = await this.room(name);
    if (r.keys.has(id)) return false;
    r.keys.set(id, key);
    r.encrypted = true;
    await this.#save(name);
    return true;
  }

  /** The sealing key: the newest id (ids start with their creation time). */
  current(name) {
    const ids = [...(this.#rooms.get(name)?.keys.keys() ?? [])].sort();
    return ids.length ? ids[ids.length - 1] : null;
  }
}

/** message → its sealed body (the cache stores that one: bodies of encrypted rooms stay sealed at rest). */
export const sealedBodies = new WeakMap();
