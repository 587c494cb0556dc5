import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decodeServerFrame, hasDuplicateKeys, isBodyText, SERVER_TYPES, validateClientFrame, validateClientText,
} from '../../src/protocol.js';
import LZString from 'lz-string';
import { encodeBatch } from '../../src/codec.js';
import { parseWireExamples } from './wire-examples.js';

const examples = parseWireExamples(readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8'));
const of = (kind) => examples.filter((e) => e.kind === kind).map((e) => [e.line, e]);

describe('docs/protocol.md wire examples', () => {
  it('has examples of every kind', () => {
    expect(of('C').length).toBeGreaterThan(10);
    expect(of('S').length).toBeGreaterThan(15);
    expect(of('X').length).toBeGreaterThan(30);
  });

  it.each(of('S'))('S> line %i decodes to a known server frame', (_, e) => {
    const frame = decodeServerFrame(e.text);
    expect(SERVER_TYPES).toContain(frame.t);
  });

  it.each(of('C'))('C> line %i is a frame the SDK would send', (_, e) => {
    expect(validateClientText(e.text)).toBeNull();
  });

  // Every X> example is about the frame itself, so the client can check all of them; what it cannot
  // check is server state (joined rooms, peers in a room, rate buckets, hello order), and no
  // example depends on it.
  it.each(of('X'))('X> line %i is rejected with its code', (_, e) => {
    expect(validateClientText(e.text)?.code).toBe(e.code);
  });
});

describe('client frame validation beyond the examples', () => {
  it('rejects bodies over the limit as too_large, counted in UTF-8 bytes', () => {
    const limits = { maxFrameBytes: 65536, maxBodyBytes: 10, maxRooms: 100, maxHistoryLimit: 100, maxSignalBytes: 100 };
    expect(validateClientFrame({ t: 'send', room: 'r', cid: 'c', body: '가나다' }, limits)).toBeNull(); // 9 bytes
    expect(validateClientFrame({ t: 'send', room: 'r', cid: 'c', body: '가나다라' }, limits)?.code).toBe('too_large');
  });

  it('rejects frames over the frame limit', () => {
    const limits = { maxFrameBytes: 50, maxBodyBytes: 16384, maxRooms: 100, maxHistoryLimit: 100, maxSignalBytes: 100 };
    expect(validateClientText(JSON.stringify({ t: 'send', room: 'r', cid: 'c', body: 'x'.repeat(60) }), limits)?.code).toBe('too_large');
  });

  it('accepts the batch frame the SDK uploads P2P messages with', () => {
    const data = encodeBatch([{ cid: 'c-1', body: '안녕 👋' }, { cid: 'c-2', body: 'hi' }]);
    expect(validateClientFrame({ t: 'batch', id: 3, room: 'lobby', enc: 'lz', data })).toBeNull();
    expect(validateClientFrame({ t: 'batch', room: 'lobby', enc: 'lz', data: encodeBatch([{ cid: 'has space', body: 'x' }]) })?.code)
      .toBe('bad_request');
    const tooMany = Array.from({ length: 51 }, (_, i) => ({ cid: `c${i}`, body: 'x' }));
    const fiftyOne = LZString.compressToBase64(JSON.stringify(tooMany));
    expect(validateClientFrame({ t: 'batch', room: 'lobby', enc: 'lz', data: fiftyOne })?.code).toBe('too_large');
    expect(validateClientFrame({ t: 'batch', room: 'lobby', enc: 'gzip', data: 'x' })?.code).toBe('bad_request');
  });

  it('checks the identity and access frames as the server does', () => {
    expect(validateClientFrame({ t: 'auth', id: 1, token: 'eyJ.x.y' })).toBeNull();
    expect(validateClientFrame({ t: 'auth', id: 1, token: '' })?.code).toBe('bad_request');
    expect(validateClientFrame({ t: 'grant', id: 2, room: 'r', user: 'd9f3|x@y.z', role: 'reader' })).toBeNull();
    expect(validateClientFrame({ t: 'grant', id: 2, room: 'r', user: 'u x', role: 'member' })?.code).toBe('bad_request');
    expect(validateClientFrame({ t: 'grant', id: 2, room: 'r', user: 'u'.repeat(129), role: 'member' })?.code).toBe('bad_request');
    expect(validateClientFrame({ t: 'grant', id: 2, room: 'r', user: 'u', role: 'admin' })?.code).toBe('bad_request');
    expect(validateClientFrame({ t: 'members', id: 3 })?.code).toBe('bad_request');
    expect(() => decodeServerFrame('{"t":"members","id":3,"room":"r","members":[{"user":"u","role":"king"}]}')).toThrow(/members/);
    expect(decodeServerFrame('{"t":"welcome","session":"s","user":"u","heartbeatMs":1,"name":"Ada","expiresAt":5}')).toMatchObject({ name: 'Ada' });
  });

  it('checks batch.to, batch.resend and the seqs frame (issue 17)', () => {
    const data = 'NobwRAxglgJmBcYAOAmJBaAjGANGARgPYwCeCYAFlAASEBuApgE7UDqD+ASgCoDCYAXxzhocRKgwpcBYmUSAJUcCqjdUC8G4GkdwQF0gA===';
    const batch = { t: 'batch', id: 1, room: 'r', enc: 'lz', data };
    expect(validateClientFrame({ ...batch, to: ['s-2'], resend: false })).toBeNull();
    expect(validateClientFrame({ ...batch, to: Array.from({ length: 64 }, (_, i) => `s-${i}`) })).toBeNull();
    for (const bad of [{ to: 's-2' }, { to: [7] }, { to: [''] }, { to: Array.from({ length: 65 }, (_, i) => `s-${i}`) }, { resend: 'no' }]) {
      expect(validateClientFrame({ ...batch, ...bad })?.code).toBe('bad_request');
    }
    const seqs = { t: 'seqs', room: 'r', from: 'u', items: [{ cid: 'c', seq: 4, ts: 5 }] };
    expect(decodeServerFrame(JSON.stringify(seqs))).toEqual(seqs);
    for (const items of [[], [{ cid: 'c', seq: 0, ts: 5 }], [{ cid: 'c', seq: 4 }], [{ seq: 4, ts: 5 }], 'c', [null]]) {
      expect(() => decodeServerFrame(JSON.stringify({ ...seqs, items }))).toThrow(/seqs/);
    }
    expect(() => decodeServerFrame(JSON.stringify({ ...seqs, from: undefined }))).toThrow(/seqs/);
  });

  it('finds duplicate keys at any depth only', () => {
    expect(hasDuplicateKeys('{"a":{"b":1,"c":{"b":2}},"b":[{"a":1},{"a":2}]}')).toBe(false);
    expect(hasDuplicateKeys('{"a":{"b":1,"b":2}}')).toBe(true);
    expect(hasDuplicateKeys('{"a":"\\"a\\":","a":1}')).toBe(true);
  });

  it('knows which bodies the server stores', () => {
    expect(isBodyText('안녕 👋')).toBe(true);
    expect(isBodyText('')).toBe(false);
    expect(isBodyText('a\u0000b')).toBe(false);
    expect(isBodyText('\ud83d')).toBe(false);
    expect(isBodyText('\ude4b x')).toBe(false);
  });
});

describe('room epochs', () => {
  it('hello.resume takes the last seq or {seq, epoch}, nothing else', () => {
    const resume = (v) => validateClientFrame({ t: 'hello', resume: { lobby: v } });
    expect(resume(41)).toBeNull();
    expect(resume({ seq: 41, epoch: 'k3f9a2x1' })).toBeNull();
    expect(resume({ seq: 0, epoch: 'A'.repeat(16) })).toBeNull();
    for (const bad of [
      { seq: 41 }, { epoch: 'k3f9a2x1' }, { seq: -1, epoch: 'k3f9a2x1' }, { seq: 1.5, epoch: 'k3f9a2x1' },
      { seq: 41, epoch: '' }, { seq: 41, epoch: 'A'.repeat(17) }, { seq: 41, epoch: 'k3f-9a2' }, { seq: 41, epoch: 7 },
      { seq: 41, epoch: 'k3f9a2x1', extra: true }, [41], '41', null,
    ]) {
      expect(resume(bad)?.code, JSON.stringify(bad)).toBe('bad_request');
    }
  });

  it('joined carries the epoch, and after a divergence where to reconcile from', () => {
    const joined = decodeServerFrame(
      '{"t":"joined","room":"lobby","head":45,"mode":"active","members":["u-ab12"],"peers":[],"epoch":"q8w2e4r6","recovered":false,"divergedAfter":40,"replayFrom":41}',
    );
    expect(joined).toMatchObject({ epoch: 'q8w2e4r6', divergedAfter: 40, replayFrom: 41 });
    const base = { t: 'joined', room: 'lobby', head: 45, mode: 'active', members: [], peers: [] };
    expect(decodeServerFrame(JSON.stringify(base)).epoch).toBeUndefined(); // a relay before epochs
    expect(() => decodeServerFrame(JSON.stringify({ ...base, epoch: 'no-dash' }))).toThrow(/epoch/);
    expect(() => decodeServerFrame(JSON.stringify({ ...base, epoch: 'e1', divergedAfter: -1, replayFrom: 1 }))).toThrow(/divergedAfter/);
    expect(() => decodeServerFrame(JSON.stringify({ ...base, epoch: 'e1', divergedAfter: 40 }))).toThrow(/replayFrom/);
    expect(() => decodeServerFrame(JSON.stringify({ ...base, epoch: 'e1', divergedAfter: 40, replayFrom: 40 }))).toThrow(/replayFrom/);
  });

  it('an unsolicited room_unavailable names its room', () => {
    expect(decodeServerFrame('{"t":"error","code":"room_unavailable","message":"sequenced elsewhere","room":"lobby"}').room).toBe('lobby');
    expect(() => decodeServerFrame('{"t":"error","code":"room_unavailable","message":"x","room":7}')).toThrow(/room/);
  });
});

describe('server frame decoding', () => {
  it('rejects what is not a valid frame', () => {
    expect(() => decodeServerFrame('{')).toThrow(expect.objectContaining({ code: 'bad_frame' }));
    expect(() => decodeServerFrame('[1]')).toThrow(expect.objectContaining({ code: 'bad_frame' }));
    expect(() => decodeServerFrame('{"t":"msg","room":"r","seq":"1","cid":"c","from":"u","body":"b","ts":1}')).toThrow(/seq/);
    expect(() => decodeServerFrame('{"t":"teleport"}')).toThrow(expect.objectContaining({ code: 'unknown_type' }));
  });

  it('ignores unknown fields (newer servers)', () => {
    expect(decodeServerFrame('{"t":"pong","id":"p1","ts":1,"future":true}').t).toBe('pong');
  });
});
