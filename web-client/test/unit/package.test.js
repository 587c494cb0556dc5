// The npm package as a user gets it: `npm pack` ships exactly the SDK (no tests, demo, dashboard,
// bench, build script or the Java test under src/test), and the packed tarball, installed into a
// project of its own, imports by its name in Node through `exports`.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const npm = (...args) => execFileSync('npm', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** What should ship: the SDK's modules and types, README, LICENSE, package.json (npm always adds the last three). */
const intended = () => [
  'LICENSE', 'README.md', 'package.json', 'src/index.d.ts',
  ...readdirSync(join(root, 'src')).filter((f) => f.endsWith('.js')).map((f) => `src/${f}`),
].sort();

describe('npm package', () => {
  let tmp;
  beforeAll(() => { tmp = mkdtempSync(join(tmpdir(), 'switchboard-pack-')); });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('is publishable: not private, with the fields a registry and a bundler read', () => {
    expect(pkg.private).toBeUndefined();
    expect(pkg).toMatchObject({
      name: '@switchboard/web-client', license: 'Apache-2.0', type: 'module', sideEffects: false,
      repository: { type: 'git', directory: 'web-client' },
    });
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+(-[\w.]+)?$/);
    expect(pkg.description.length).toBeGreaterThan(20);
    expect(pkg.keywords.length).toBeGreaterThan(0);
    expect(pkg.engines.node).toBeDefined();
    // TypeScript takes the first condition that matches: `types` must come before `import`/`default`.
    expect(Object.keys(pkg.exports['.'])[0]).toBe('types');
    expect(pkg.exports['.']).toMatchObject({ types: './src/index.d.ts', import: './src/index.js' });
    // The copy shipped in the tarball is the repository's licence, not an edited one.
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toBe(readFileSync(join(root, '..', 'LICENSE'), 'utf8'));
  });

  it('`npm pack --dry-run` lists exactly the intended files', () => {
    const [report] = JSON.parse(npm('pack', '--dry-run', '--json'));
    expect(report.files.map((f) => f.path).sort()).toEqual(intended());
    expect(report.name).toBe(pkg.name);
  });

  /** The packed tarball installed into a project of its own (once per run); returns that project's folder. */
  let app;
  function installed() {
    if (app) return app;
    const [report] = JSON.parse(npm('pack', '--json', '--pack-destination', tmp));
    // `npm install --offline <tgz>` would need idb's and lz-string's registry metadata in the npm
    // cache, which `npm ci` does not keep: unpack the tarball and copy the dependencies instead.
    app = join(tmp, 'app');
    const dest = join(app, 'node_modules', ...pkg.name.split('/'));
    mkdirSync(dest, { recursive: true });
    execFileSync('tar', ['-xzf', join(tmp, report.filename), '-C', dest, '--strip-components=1']);
    for (const dep of Object.keys(pkg.dependencies)) {
      cpSync(join(root, 'node_modules', dep), join(app, 'node_modules', dep), { recursive: true });
    }
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    return app;
  }

  it('the packed tarball, installed into another project, imports by name in Node', () => {
    const app = installed();
    writeFileSync(join(app, 'main.js'), [
      `const before = new Set(Object.getOwnPropertyNames(globalThis));`,
      `const resources = process.getActiveResourcesInfo().length;`,
      `const sdk = await import(${JSON.stringify(pkg.name)});`,
      `const { default: { version } } = await import(${JSON.stringify(`${pkg.name}/package.json`)}, { with: { type: 'json' } });`,
      // sideEffects:false: importing touches no global and starts no timer, socket or listener.
      `const added = Object.getOwnPropertyNames(globalThis).filter((k) => !before.has(k));`,
      `console.log(JSON.stringify({ exports: Object.keys(sdk).sort(), version: sdk.version, pkgVersion: version,`,
      `  connect: typeof sdk.connect, added, resources: process.getActiveResourcesInfo().length - resources }));`,
      `process.exit(0);`, // a timer the import started must fail the check above, not hang the test
    ].join('\n'));
    const out = JSON.parse(execFileSync(process.execPath, ['main.js'], { cwd: app, encoding: 'utf8', timeout: 30_000 }));
    expect(out.exports).toEqual(Object.keys(sdkExportsFromSource()).sort());
    expect(out).toMatchObject({ version: pkg.version, pkgVersion: pkg.version, connect: 'function', added: [], resources: 0 });
  });

  it('a bundler drops what an app does not import (sideEffects:false), taking the `import` entry', async () => {
    const { build } = await import('esbuild');
    const bundle = async (code) => (await build({
      stdin: { contents: code, resolveDir: installed(), loader: 'js' }, bundle: true, format: 'esm', platform: 'browser',
      conditions: ['import'], write: false, logLevel: 'silent',
    })).outputFiles[0].text;
    const codecOnly = await bundle(`import { encodeBatch } from '${pkg.name}'; console.log(encodeBatch([]));`);
    const everything = await bundle(`import { connect } from '${pkg.name}'; console.log(connect);`);
    expect(everything).toContain('RTCPeerConnection'); // the marker below is really in the client's modules
    expect(codecOnly).toContain('compressToBase64');
    expect(codecOnly).not.toContain('RTCPeerConnection');
    expect(codecOnly.length).toBeLessThan(everything.length / 3);
  });
});

/** The names src/index.js exports, read from its text (the tarball must expose the same). */
function sdkExportsFromSource() {
  const text = readFileSync(join(root, 'src', 'index.js'), 'utf8');
  const names = {};
  for (const [, list] of text.matchAll(/export\s*\{([^}]*)\}/g)) {
    for (const name of list.split(',').map((s) => s.trim()).filter(Boolean)) names[name.split(/\s+as\s+/).pop()] = true;
  }
  for (const [, name] of text.matchAll(/export\s+(?:const|function|class|async function)\s+(\w+)/g)) names[name] = true;
  return names;
}
