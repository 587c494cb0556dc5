// Shared set-up for the browser end-to-end tests: the real relay jar on loopback with its
// embedded Postgres, and Debian's Chromium driven by playwright-core (never a downloaded browser).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const JAR = resolve(process.env.SWITCHBOARD_JAR ?? join(here, '../../relay/target/switchboard.jar'));
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Without the mDNS feature off, Chromium announces its host candidates by multicast out of the
// machine's interface merely by gathering them (see shared/NOTES.md): never allowed here.
export const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--use-fake-ui-for-media-stream', '--enable-blink-features=ForceEagerMeasureMemory',
  // Background services (sign-in, autofill, updates) still look up Google's hosts: tcpdump saw
  // ~150 DNS queries out of the interface in one run. A catch-all `MAP * ~NOTFOUND` would also
  // break WebRTC's lookup of stun:localhost (even with EXCLUDE localhost), so only their domains.
  '--host-resolver-rules=MAP *.google.com ~NOTFOUND, MAP google.com ~NOTFOUND, MAP *.googleapis.com ~NOTFOUND,'
    + ' MAP *.gstatic.com ~NOTFOUND, MAP *.gvt1.com ~NOTFOUND, MAP *.googleusercontent.com ~NOTFOUND',
];

/** Why these tests cannot run here, or null. Under CI=true a missing prerequisite is a failure. */
export function missingPrerequisite() {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} not found (apt-get install chromium)`;
  if (!existsSync(JAR)) return `${JAR} not found (./mvnw package first)`;
  return null;
}

/** node:test options: skip loudly when a prerequisite is missing, never under CI=true. */
export function suiteOptions() {
  const missing = missingPrerequisite();
  if (!missing) return {};
  if (process.env.CI === 'true') throw new Error(`browser E2E prerequisite missing under CI=true: ${missing}`);
  console.warn(`\n*** SKIPPING browser E2E tests: ${missing} ***\n`);
  return { skip: missing };
}

/**
 * Starts the relay jar on free loopback ports; resolves once it logged "ready: open …". With
 * `{ readmeDefaults: true }` only the ports (free ones) and the data folder are set: every other
 * setting is the README's default (host and STUN addresses 0.0.0.0, no public host).
 */
export async function startRelay(env = {}, { readmeDefaults = false, keepLog = false } = {}) {
  const dataDir = env.SWITCHBOARD_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'switchboard-e2e-'));
  const loopback = readmeDefaults ? {} : {
    SWITCHBOARD_HOST: '127.0.0.1', SWITCHBOARD_ADMIN_HOST: '127.0.0.1',
    SWITCHBOARD_P2P_STUN_ADDRESSES: '127.0.0.1', SWITCHBOARD_P2P_PUBLIC_HOST: '127.0.0.1',
  };
  const inherited = { ...process.env };
  for (const key of Object.keys(inherited)) if (key.startsWith('SWITCHBOARD_') && key !== 'SWITCHBOARD_JAR') delete inherited[key];
  const child = spawn('java', ['-Xmx256m', '-jar', JAR], {
    env: {
      ...inherited,
      SWITCHBOARD_PORT: '0', SWITCHBOARD_ADMIN_PORT: '0',
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_P2P_STUN_PORT: '0', SWITCHBOARD_P2P_STUN_ALT_PORT: '0',
      ...loopback,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = [];
  // keepLog: every byte the relay printed (a test searches all of it), not only the last 400 chunks
  const fullLog = keepLog ? [] : null;
  const up = new Promise((resolveUp, rejectUp) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM'); // else it (and its Postgres) outlives the suite and keeps node running
      rejectUp(new Error(`relay did not start in 60 s:\n${log.join('')}`));
    }, 60_000);
    const onData = chunk => {
      const text = chunk.toString();
      log.push(text);
      fullLog?.push(text);
      if (log.length > 400) log.splice(0, log.length - 400);
      const m = /ready: open http:\/\/(\S+):(\d+)\/.*?; admin http:\/\/\S+:(\d+)\//.exec(text);
      if (m) {
        clearTimeout(timer);
        resolveUp({ port: Number(m[2]), adminPort: Number(m[3]) });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', code => {
      clearTimeout(timer);
      rejectUp(new Error(`relay exited (${code}) before it was up:\n${log.join('')}`));
    });
  });
  const { port, adminPort } = await up;
  const base = `http://127.0.0.1:${port}`;
  return {
    base, port, adminPort, dataDir, log,
    /** All the relay's stdout and stderr so far (only with keepLog). */
    output: () => fullLog.join(''),
    ws: `ws://127.0.0.1:${port}/ws`,
    async admin(path) {
      const res = await fetch(`http://127.0.0.1:${adminPort}${path}`);
      return res.headers.get('content-type')?.includes('json') ? res.json() : res.text();
    },
    async history(room, query = '') {
      const res = await fetch(`${base}/api/rooms/${encodeURIComponent(room)}/messages${query}`);
      return res.json();
    },
    /** SIGKILL, as a crash: no shutdown hook runs, its rooms stay claimed until their leases run out. */
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise(r => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
    },
    /** SIGTERM; the data folder is deleted unless keepData (a restart on it follows). */
    async stop({ keepData = false } = {}) {
      if (child.exitCode === null && child.signalCode === null) { // not exited (nor killed by kill9)
        const exited = new Promise(r => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(timer);
      }
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: false, args: CHROMIUM_ARGS });
}

/**
 * A fresh profile (its own IndexedDB) with the media permissions that also keep host candidates
 * off mDNS; `base` is the origin the pages open (default the relay's 127.0.0.1 one).
 */
export async function newUser(browser, relay, base = relay.base) {
  const context = await browser.newContext({ baseURL: base });
  await context.grantPermissions(['camera', 'microphone'], { origin: base });
  const page = await context.newPage();
  page.on('pageerror', err => console.error('[page error]', err));
  return { context, page };
}

/** Polls fn in the page until it returns a truthy value. */
export async function until(page, fn, arg, timeout = 15_000) {
  const handle = await page.waitForFunction(fn, arg, { timeout, polling: 50 });
  return handle.jsonValue();
}
