// The wire format of docs/protocol.md, client side: names and body rules, a validator for the
// frames the SDK sends (so a bug never costs a server error) and a decoder for what it receives.
import LZString from 'lz-string';
import { MAX_BATCH_ITEMS } from './codec.js';

/** Defaults of `welcome.limits`; the server's values replace them once known. */
export const DEFAULT_LIMITS = Object.freeze({
  maxFrameBytes: 65536,
  maxBodyBytes: 16384,
  maxRooms: 100,
  maxHistoryLimit: 100,
  maxSignalBytes: 16384,
});

const ROOM = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$/;
const CID = /^[A-Za-z0-9._:-]{1,64}$/;
// A lone surrogate: a high one not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const encoder = new TextEncoder();

/** UTF-8 byte length of a string. */
export function utf8Bytes(s) {
  return encoder.encode(s).length;
}

export const isRoomName = (v) => typeof v === 'string' && ROOM.test(v);
export const isCid = (v) => typeof v === 'string' && CID.test(v);

/** A body the server would store: non-empty text, no NUL, no lone surrogate. Size is checked apart. */
export function isBodyText(v) {
  return typeof v === 'string' && v.length > 0 && !v.includes('\u0000') && !LONE_SURROGATE.test(v);
}

/** Most code points in a display name (`hello.name`). */
export const MAX_NAME_CODE_POINTS = 64;
// Cc: C0 controls, DEL, C1 controls.
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;

/** A display name the server takes in `hello.name`, once trimmed: 1–64 code points, no controls, no lone surrogate. */
export function isDisplayName(v) {
  if (typeof v !== 'string') return false;
  const name = v.trim();
  if (CONTROL.test(name) || LONE_SURROGATE.test(name)) return false;
  const codePoints = [...name].length;
  return codePoints >= 1 && codePoints <= MAX_NAME_CODE_POINTS;
}

/** A reaction: 1–32 UTF-8 bytes, no whitespace, no control characters. */
export function isEmoji(v) {
  return typeof v === 'string' && v.length > 0 && utf8Bytes(v) <= 32 && !/\s/u.test(v) && !CONTROL.test(v) && !LONE_SURROGATE.test(v);
}

const isInt = (v) => Number.isSafeInteger(v);
const isNonNegInt = (v) => isInt(v) && v >= 0;
const isNonNegNum = (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isStr = (v) => typeof v === 'string';
const isBool = (v) => typeof v === 'boolean';
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isId = (v) => (isStr(v) && v.length >= 1 && v.length <= 64) || isNonNegInt(v);
const isPeerId = (v) => isStr(v) && v.length >= 1 && v.length <= 64;
const oneOf = (...values) => (v) => values.includes(v);
const isMode = oneOf('active', 'background');
const isRole = oneOf('owner', 'member', 'reader');
const isVisibility = oneOf('public', 'private');
// A user id as welcome.user gives it (a JWT's sub, a guest id).
const USER = /^[A-Za-z0-9._:@|+=-]{1,128}$/;
const isUser = (v) => isStr(v) && USER.test(v);
const isNames = (v) => isObj(v) && Object.values(v).every(isStr);
const isMemberEntry = (v) => isObj(v) && isStr(v.user) && isRole(v.role);
const isPath = oneOf('p2p', 'turn', 'relay');
const isBehaviour = oneOf('endpoint-independent', 'address-dependent', 'address-and-port-dependent', 'unknown');
const isCandidateType = oneOf('host', 'srflx', 'prflx', 'relay');
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const isIpv6 = (s) => /^[0-9A-Fa-f:.]+$/.test(s) && s.includes(':');
const isIp = (s) => isStr(s) && (IPV4.test(s) || isIpv6(s));
function isAddress(s) {
  if (!isStr(s)) return false;
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(s);
  if (!m) return false;
  const port = Number(m[3]);
  return port >= 1 && port <= 65535 && (m[1] ? isIpv6(m[1]) : IPV4.test(m[2]));
}
const arrayOf = (check, max = Infinity) => (v) => Array.isArray(v) && v.length <= max && v.every(check);
const EPOCH = /^[A-Za-z0-9]{1,16}$/;
/** A room epoch as `joined` carries it (and the SDK sends back in `hello.resume`). */
export const isEpoch = (v) => isStr(v) && EPOCH.test(v);
// A `hello.resume` value: the last seq held (legacy, epoch unknown) or {seq, epoch, rev?}, nothing else.
const isResumePoint = (v) =>
  isNonNegInt(v) ||
  (isObj(v) && Object.keys(v).length === (v.rev === undefined ? 2 : 3) && isNonNegInt(v.seq) && isEpoch(v.epoch) &&
    (v.rev === undefined || isNonNegInt(v.rev)));
const isSeq = (v) => isInt(v) && v >= 1;

// field → [required, check]; '?' suffix marks an optional field.
const CLIENT_FRAMES = {
  hello: {
    'token?': isStr, 'resume?': (v) => isObj(v) && Object.entries(v).every(([r, s]) => isRoomName(r) && isResumePoint(s)),
    'name?': isDisplayName,
  },
  ping: {},
  join: { room: isRoomName, 'mode?': isMode, 'rev?': isNonNegInt },
  leave: { room: isRoomName },
  mode: { room: isRoomName, mode: isMode },
  send: { room: isRoomName, cid: isCid, body: isBodyText, 'resend?': isBool, 'ts?': isNonNegInt },
  history: { room: isRoomName, 'before?': (v) => isInt(v) && v >= 1, 'limit?': (v) => isInt(v) && v >= 1 },
  profile: {
    udp: isBool,
    'mapped?': arrayOf(isAddress, 8),
    'host?': arrayOf(isIp, 8),
    'mapping?': isBehaviour,
    'filtering?': isBehaviour,
    'turn?': isBool,
    'candidates?': arrayOf(isCandidateType),
  },
  signal: { room: isRoomName, to: isPeerId, data: isObj },
  'p2p-result': { room: isRoomName, peer: isPeerId, path: isPath, setupMs: isNonNegNum, 'rttMs?': isNonNegNum },
  // Upload of P2P-delivered messages: data is LZ-String base64 of [{cid, body, ts?}] (checked below).
  // `to`: peers whose DataChannel took every item (they get `seqs`); `resend:false`: first upload.
  batch: {
    room: isRoomName, enc: oneOf('lz'), data: (v) => isStr(v) && BASE64.test(v), 'to?': arrayOf(isPeerId, 64),
    'resend?': isBool,
  },
  // Identity and access (issue 13): token refresh on the open socket, owners managing members.
  auth: { token: (v) => isStr(v) && v.length > 0 },
  grant: { room: isRoomName, user: isUser, role: isRole },
  revoke: { room: isRoomName, user: isUser },
  members: { room: isRoomName },
  // Encrypted rooms (issue 18): an owner switches the room on for good.
  encrypt: { room: isRoomName },
  // Chat (issue 17): read cursors, typing, changes to a message.
  read: { room: isRoomName, seq: isSeq },
  typing: { room: isRoomName, on: isBool },
  edit: { room: isRoomName, seq: isSeq, body: isBodyText },
  delete: { room: isRoomName, seq: isSeq },
  react: { room: isRoomName, seq: isSeq, emoji: isEmoji, on: isBool },
};

/** Client frame types of protocol v1 (plus `batch`). */
export const CLIENT_TYPES = Object.freeze(Object.keys(CLIENT_FRAMES));

function checkFields(frame, spec) {
  for (const [key, check] of Object.entries(spec)) {
    const optional = key.endsWith('?');
    const name = optional ? key.slice(0, -1) : key;
    const value = frame[name];
    if (value === undefined && optional) continue;
    if (value === undefined) return `missing ${name}`;
    if (!check(value)) return `invalid ${name}`;
  }
  return null;
}

/**
 * Checks a client frame object as the server would, as far as the client can know.
 * Server-side state (joined rooms, peers in a room, rate buckets, hello order) is not checked.
 * @param {object} frame
 * @param {typeof DEFAULT_LIMITS} [limits]
 * @returns {{code: string, message: string} | null} null when valid
 */
export function validateClientFrame(frame, limits = DEFAULT_LIMITS) {
  if (!isObj(frame)) return bad('frame is not an object');
  if (!isStr(frame.t)) return bad('t must be a string');
  const spec = CLIENT_FRAMES[frame.t];
  if (!spec) return { code: 'unknown_type', message: `unknown type ${frame.t}` };
  if ('id' in frame && !isId(frame.id)) return bad('invalid id');
  const problem = checkFields(frame, spec);
  if (problem) return bad(problem);
  if (frame.t === 'history' && frame.limit > limits.maxHistoryLimit) return bad('limit too large');
  if ((frame.t === 'send' || frame.t === 'edit') && utf8Bytes(frame.body) > limits.maxBodyBytes) return tooLarge('body');
  if (frame.t === 'signal' && utf8Bytes(JSON.stringify(frame.data)) > limits.maxSignalBytes) return tooLarge('signal data');
  if (frame.t === 'batch') return checkBatchData(frame.data, limits);
  if (frame.t === 'hello' && frame.resume && Object.keys(frame.resume).length > limits.maxRooms) {
    return { code: 'too_many_rooms', message: 'too many rooms in resume' };
  }
  return null;
}

/**
 * Checks a client frame as text: valid JSON without duplicate keys, within the frame limit, then
 * {@link validateClientFrame}.
 */
export function validateClientText(text, limits = DEFAULT_LIMITS) {
  if (utf8Bytes(text) > limits.maxFrameBytes) return tooLarge('frame');
  let frame;
  try {
    frame = JSON.parse(text);
  } catch {
    return bad('invalid JSON');
  }
  if (hasDuplicateKeys(text)) return bad('duplicate key');
  return validateClientFrame(frame, limits);
}

const BASE64 = /^[A-Za-z0-9+/]+={0,3}$/;

/** A batch's items as the server checks them: the whole batch is refused for any bad item. */
function checkBatchData(data, limits) {
  let json;
  try {
    json = LZString.decompressFromBase64(data);
  } catch {
    json = null;
  }
  if (!json) return bad('data is not an LZ-String stream');
  if (json.length > 4 * limits.maxFrameBytes) return tooLarge('batch text');
  let items;
  try {
    items = JSON.parse(json);
  } catch {
    return bad('batch text is not JSON');
  }
  if (!Array.isArray(items) || items.length === 0) return bad('batch must be a non-empty array');
  if (items.length > MAX_BATCH_ITEMS) return tooLarge('batch');
  if (hasDuplicateKeys(json)) return bad('duplicate key in a batch item');
  for (const item of items) {
    if (!isObj(item) || !isCid(item.cid) || !isBodyText(item.body)) return bad('invalid batch item');
    if (item.ts !== undefined && !isNonNegInt(item.ts)) return bad('invalid batch item ts');
    if (utf8Bytes(item.body) > limits.maxBodyBytes) return tooLarge('batch item body');
  }
  return null;
}

const bad = (message) => ({ code: 'bad_request', message });
const tooLarge = (what) => ({ code: 'too_large', message: `${what} too large` });

/** True when some object in the (already valid) JSON text repeats a key; JSON.parse keeps the last. */
export function hasDuplicateKeys(text) {
  const stack = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const keys = stack[stack.length - 1];
      if (expectKey && keys) {
        const key = JSON.parse(text.slice(i, j + 1));
        if (keys.has(key)) return true;
        keys.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      stack.push(null);
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      expectKey = stack[stack.length - 1] !== null;
    }
  }
  return false;
}

const isReaction = (v) => isObj(v) && isStr(v.emoji) && isNonNegInt(v.count) && arrayOf(isStr)(v.users);
// A message's current state (issue 17): `body` is absent once deleted.
const messageState = {
  'body?': isStr, 'name?': isStr, 'rev?': isNonNegInt, 'edited?': isNonNegNum, 'deleted?': isBool, 'reactions?': arrayOf(isReaction),
};
const message = { room: isStr, seq: isNonNegInt, cid: isStr, from: isStr, ts: isNonNegNum, ...messageState };
const pageMessage = (v) => isObj(v) && checkFields(v, { seq: isNonNegInt, cid: isStr, from: isStr, ts: isNonNegNum, ...messageState }) === null && hasBody(v);
/** Every message has a body but a deleted one. */
const hasBody = (m) => m.deleted === true || isStr(m.body);
const isReads = (v) => isObj(v) && Object.values(v).every(isNonNegInt);
const isSeqItem = (v) => isObj(v) && isStr(v.cid) && isNonNegInt(v.seq) && v.seq >= 1 && isNonNegNum(v.ts);

const SERVER_FRAMES = {
  // `token` is the server's guest token; `name` and `expiresAt` (epoch ms) are absent when none / never.
  welcome: {
    session: isStr, user: isStr, 'token?': isStr, heartbeatMs: (v) => isInt(v) && v > 0, 'limits?': isObj, 'p2p?': isObj,
    'name?': isStr, 'expiresAt?': isNonNegInt,
  },
  authed: { user: isStr, 'name?': isStr, 'expiresAt?': isNonNegInt, 'token?': isStr },
  pong: {},
  joined: {
    room: isStr, head: isNonNegInt, mode: isMode, members: arrayOf(isStr), peers: arrayOf(isObj),
    'epoch?': isEpoch, 'recovered?': isBool, 'replayFrom?': isNonNegInt, 'divergedAfter?': isNonNegInt,
    'visibility?': isVisibility, 'role?': isRole, 'names?': isNames,
    'reads?': isReads, 'rev?': isNonNegInt, 'changesRecovered?': isBool, 'encrypted?': isBool,
  },
  // The room is end-to-end encrypted now (the answer to `encrypt`, or unsolicited to every member).
  encrypted: { room: isStr },
  // Unsolicited with a reason (e.g. 'removed'): the server ended this membership.
  left: { room: isStr, 'reason?': isStr },
  role: { room: isStr, role: isRole },
  granted: { room: isStr, user: isStr, role: isRole },
  revoked: { room: isStr, user: isStr },
  members: { room: isStr, 'visibility?': isVisibility, members: arrayOf(isMemberEntry) },
  mode: { room: isStr, mode: isMode, head: isNonNegInt },
  unread: { room: isStr, count: isNonNegInt, lastSeq: isNonNegInt, 'preview?': isStr },
  msg: message,
  ack: { room: isStr, cid: isStr, seq: isNonNegInt, stored: isBool },
  // The seqs a batch gave messages this client already holds from a DataChannel (no bodies).
  seqs: { room: isStr, from: isStr, items: (v) => Array.isArray(v) && v.length >= 1 && v.every(isSeqItem) },
  page: { room: isStr, messages: arrayOf(pageMessage), hasMore: isBool },
  // `room` on an unsolicited error names a room this connection was dropped from (room_unavailable).
  error: { code: isStr, message: isStr, 'room?': isStr },
  presence: { room: isStr, event: oneOf('join', 'leave', 'profile'), peer: isStr, user: isStr, 'profile?': isObj, 'name?': isStr },
  profile: { class: isStr },
  steer: { room: isStr, peer: isStr, mode: isPath, polite: isBool, 'iceServers?': Array.isArray, 'reason?': isStr },
  signal: { room: isStr, from: isStr, data: isObj },
  reads: { room: isStr, reads: isReads },
  typing: { room: isStr, peer: isStr, user: isStr, 'name?': isStr, on: isBool },
  changed: { room: isStr, seq: isNonNegInt, rev: isNonNegInt, ...messageState },
};

/** Server frame types the SDK understands. */
export const SERVER_TYPES = Object.freeze(Object.keys(SERVER_FRAMES));

/**
 * Decodes one server text frame.
 * @param {string} text
 * @returns {{t: string} & Record<string, any>}
 * @throws {Error} with `.code` 'bad_frame' (not JSON, not an object, wrong fields) or 'unknown_type'
 */
export function decodeServerFrame(text) {
  let frame;
  try {
    frame = JSON.parse(text);
  } catch {
    throw frameError('bad_frame', 'invalid JSON');
  }
  if (!isObj(frame) || !isStr(frame.t)) throw frameError('bad_frame', 'not a frame');
  const spec = SERVER_FRAMES[frame.t];
  if (!spec) throw frameError('unknown_type', `unknown server frame ${frame.t}`);
  const problem = checkFields(frame, spec);
  if (problem) throw frameError('bad_frame', `${frame.t}: ${problem}`);
  if ((frame.t === 'msg' || frame.t === 'changed') && !hasBody(frame)) throw frameError('bad_frame', `${frame.t}: missing body`);
  // Reconciliation needs both ends: held messages after divergedAfter, replayed ones from replayFrom.
  if (frame.t === 'joined' && frame.divergedAfter !== undefined && !(frame.replayFrom > frame.divergedAfter)) {
    throw frameError('bad_frame', 'joined: divergedAfter needs a replayFrom above it');
  }
  return frame;
}

function frameError(code, message) {
  return Object.assign(new Error(message), { code });
}
