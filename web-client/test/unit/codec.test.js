import LZString from 'lz-string';
import { describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch, MAX_BATCH_ITEMS, packBody, unpackBody } from '../../src/codec.js';

const samples = ['hello', '안녕하세요 👋', '👩‍👩‍👧‍👦🇰🇷', 'a'.repeat(5000), '줄\n바꿈\t탭', 'mixed ascii 한글 emoji 🎉 and symbols ©∑'];

describe('body packing (cache)', () => {
  it.each(samples)('round-trips %#', (body) => {
    expect(unpackBody(packBody(body))).toBe(body);
  });

  it('compresses repetitive text', () => {
    const body = '안녕하세요 '.repeat(200);
    expect(packBody(body).length).toBeLessThan(body.length / 4);
  });

  it('treats damaged entries as missing, not as text', () => {
    expect(unpackBody('')).toBeNull();
  });
});

describe('batch encoding', () => {
  it('is LZ-String base64 of [{cid, body}] and decodes back', () => {
    const items = samples.map((body, i) => ({ cid: `c-${i}`, body, extra: 'dropped' }));
    const data = encodeBatch(items);
    expect(data).toMatch(/^[A-Za-z0-9+/=]+$/);
    const json = JSON.parse(LZString.decompressFromBase64(data));
    expect(json).toEqual(samples.map((body, i) => ({ cid: `c-${i}`, body })));
    expect(decodeBatch(data)).toEqual(json);
  });

  it('refuses empty and oversized batches', () => {
    expect(() => encodeBatch([])).toThrow(RangeError);
    const many = Array.from({ length: MAX_BATCH_ITEMS + 1 }, (_, i) => ({ cid: `c${i}`, body: 'x' }));
    expect(() => encodeBatch(many)).toThrow(RangeError);
    expect(() => encodeBatch(many.slice(0, MAX_BATCH_ITEMS))).not.toThrow();
  });
});
