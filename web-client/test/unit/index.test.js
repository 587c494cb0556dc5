import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as sdk from '../../src/index.js';

describe('public entry point', () => {
  it('exports the documented API and a version matching package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(sdk.version).toBe(pkg.version);
    for (const name of ['connect', 'SwitchboardError', 'ErrorCode', 'State', 'RoomEvent', 'ClientEvent', 'nextRetryDelay', 'CircuitBreaker', 'SmartMessageWindow', 'decodeServerFrame', 'validateClientFrame', 'parsePeerFrame']) {
      expect(sdk[name], name).toBeDefined();
    }
  });

  it('every runtime export is declared in index.d.ts', () => {
    const dts = readFileSync(new URL('../../src/index.d.ts', import.meta.url), 'utf8');
    for (const name of Object.keys(sdk)) expect(dts, name).toMatch(new RegExp(`export declare (const|function|class) ${name}\\b`));
  });

  it('SwitchboardError carries code and ref', () => {
    const err = sdk.SwitchboardError.fromFrame({ t: 'error', code: 'not_joined', message: 'join first', ref: 4 });
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: 'SwitchboardError', code: 'not_joined', ref: 4, message: 'join first' });
  });
});
