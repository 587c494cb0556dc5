// Bundles the SDK for the relay to serve at /sdk/switchboard.js and copies the demo pages beside it.
import { build } from 'esbuild';
import { cpSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

const out = resolve(process.argv[2] ?? 'target/classes/webroot');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: ['src/index.js'],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: 'linked',
  legalComments: 'none',
  outfile: resolve(out, 'sdk/switchboard.js'),
  logLevel: 'warning',
});
cpSync('demo', out, { recursive: true });
