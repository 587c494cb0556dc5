// Browser benchmark of end-to-end encryption (issue 18): what sealing and opening one message costs
// in Debian's Chromium with the SDK's own code (src/e2ee.js: LZ-String, bucket padding, AES-GCM-256
// through WebCrypto, the room/sender/cid bound as associated data), for a few body sizes. Each run
// times a batch of messages one after another (awaiting each, as the SDK does) and divides: the
// browser coarsens performance.now() to 100 µs on a page that is not cross-origin isolated. Prints the
// median per message over the runs (and the sealed size) and writes
// bench/results/e2ee-<UTC timestamp>.json. Needs no relay: the module is bundled with esbuild and
// served from 127.0.0.1 (a secure context, as WebCrypto wants).
//
//   node web-client/bench/e2ee-bench.mjs [--batch 200] [--runs 15]
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { CHROMIUM, launchBrowser } from '../e2e/harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: { batch: { type: 'string', default: '200' }, runs: { type: 'string', default: '15' }, out: { type: 'string' } },
});
const BATCH = Number(args.batch);
const RUNS = Number(args.runs);
for (const [name, v] of [['batch', BATCH], ['runs', RUNS]]) {
  if (!Number.isInteger(v) || v < 1 || v > 10_000) {
    console.error(`--${name} must be an integer in 1..10000`);
    process.exit(2);
  }
}
if (!existsSync(CHROMIUM)) {
  console.error(`cannot run: ${CHROMIUM} not found (apt-get install chromium)`);
  process.exit(2);
}

// Chat-like texts: a short reply, a line, a paragraph, a long message (mixed Korean and English).
const SIZES = { reply: 'ok 👍', line: '점심 뭐 먹을까? the build is green again', paragraph: 120, long: 1000 };
const words = ['안녕하세요', 'see', 'you', 'at', '7', '점심', '뭐', '먹을까?', 'ok', 'the', 'build', 'is', 'green', 'again', 'ㅋㅋㅋ', 'meeting', 'moved'];
const text = n => Array.from({ length: n }, (_, i) => words[(i * 7 + 3) % words.length]).join(' ');
const bodies = Object.fromEntries(Object.entries(SIZES).map(([k, v]) => [k, typeof v === 'number' ? text(v) : v]));

const bundle = await build({
  entryPoints: [join(here, '../src/e2ee.js')], bundle: true, format: 'esm', write: false, minify: true, logLevel: 'silent',
});
const code = bundle.outputFiles[0].text;
const server = createServer((req, res) => {
  if (req.url === '/e2ee.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(code);
  else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>e2ee bench</title>');
});
await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

const browser = await launchBrowser();
try {
  const page = await (await browser.newContext()).newPage();
  page.on('pageerror', err => console.error('[page error]', err));
  await page.goto(`${origin}/`);
  const results = await page.evaluate(async ({ bodies, batch, runs }) => {
    const e2ee = await import('/e2ee.js');
    const key = await e2ee.newRoomKey();
    const keyId = e2ee.newKeyId();
    const keyOf = id => (id === keyId ? key : undefined);
    const median = xs => {
      const s = [...xs].sort((a, b) => a - b);
      return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    };
    const out = {};
    for (const [name, body] of Object.entries(bodies)) {
      const metas = Array.from({ length: batch }, (_, i) => ({ room: 'team:7', from: 'u-ab12', cid: `c-${name}-${i}` }));
      const sealed = [];
      const sealRuns = [];
      const openRuns = [];
      for (let run = 0; run <= runs; run++) { // run 0 warms the JIT and WebCrypto up, not counted
        let t0 = performance.now();
        for (let i = 0; i < batch; i++) sealed[i] = await e2ee.seal(key, keyId, body, metas[i]);
        const sealMs = performance.now() - t0;
        t0 = performance.now();
        for (let i = 0; i < batch; i++) {
          const opened = await e2ee.open(keyOf, sealed[i], metas[i]);
          if (opened.body !== body) throw new Error(`${name}: opened ${JSON.stringify(opened)}`);
        }
        const openMs = performance.now() - t0;
        if (run > 0) {
          sealRuns.push((sealMs * 1000) / batch);
          openRuns.push((openMs * 1000) / batch);
        }
      }
      out[name] = {
        chars: body.length, utf8Bytes: new TextEncoder().encode(body).length, sealedChars: sealed[0].length,
        sealUs: Math.round(median(sealRuns)), openUs: Math.round(median(openRuns)),
        sealUsMax: Math.round(Math.max(...sealRuns)), openUsMax: Math.round(Math.max(...openRuns)),
      };
    }
    return out;
  }, { bodies, batch: BATCH, runs: RUNS });

  const version = (await browser.version?.()) ?? 'chromium';
  console.log(`E2EE cost per message in ${version}: median of ${RUNS} runs of ${BATCH} messages each (µs)`);
  console.table(results);
  const dir = join(here, 'results');
  mkdirSync(dir, { recursive: true });
  const file = args.out ?? join(dir, `e2ee-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ browser: version, batch: BATCH, runs: RUNS, results }, null, 2));
  console.log(`written to ${file}`);
} finally {
  await browser.close();
  server.close();
}
