// Public entry point: everything an app or a test needs is importable from here. No browser API is
// touched at import time, so the module also loads in Node (unit tests).
export { connect, Client, ClientEvent } from './client.js';
export { Room, RoomEvent } from './room.js';
export { SwitchboardError, ErrorCode } from './errors.js';
export { State } from './connection.js';
export { SmartMessageWindow, compareMessages } from './window.js';
export { nextRetryDelay, CircuitBreaker, DEFAULT_BACKOFF, DEFAULT_BREAKER } from './backoff.js';
export { DEFAULT_OPTIONS } from './options.js';
export {
  decodeServerFrame, validateClientFrame, validateClientText, utf8Bytes, DEFAULT_LIMITS, CLIENT_TYPES, SERVER_TYPES,
} from './protocol.js';
export { parsePeerFrame } from './peer-frame.js';
export { encodeBatch, decodeBatch } from './codec.js';

/** SDK version (matches package.json). */
export const version = '0.1.0';
