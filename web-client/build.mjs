// Bundles the SDK for the relay to serve at /sdk/switchboard.js and copies the demo pages beside it;
// bundles the admin port's dashboard (uPlot included: no CDN) into adminroot/ next to webroot/.
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

const dashboard = resolve(out, '..', 'adminroot');
await build({
  entryPoints: ['dashboard/dashboard.js'],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  outdir: dashboard, // dashboard.js and the CSS it imports (uPlot's) as dashboard.css
  entryNames: '[name]',
  logLevel: 'warning',
});
cpSync('dashboard/index.html', resolve(dashboard, 'index.html'));
cpSync('dashboard/favicon.svg', resolve(dashboard, 'favicon.svg'));
cpSync('dashboard/page.css', resolve(dashboard, 'page.css'));
