// Headless Debian Chromium driven by playwright-core. Never downloads a browser.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function checkChromium() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}. Install the Debian package: \`apt-get install -y chromium\` ` +
        '(do NOT run `playwright install`).',
    );
  }
}

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Launches Chromium. playwright's launch() always starts it with a fresh,
 * temporary user-data-dir (it refuses an explicit --user-data-dir); we also
 * point TMPDIR-based caches at our own temp dir. Each context is isolated
 * (own localStorage): two contexts = two devices.
 */
export async function launch() {
  checkChromium();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'chatcore-e2e-browser-'));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    env: { ...process.env, TMPDIR: profile, HOME: profile },
  });
  return {
    browser,
    async newContext() {
      return browser.newContext({ viewport: { width: 1280, height: 860 } });
    },
    async close() {
      await browser.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Records console errors/warnings and page errors. `check(allow)` returns the
 * unexpected ones; `allow` are regexps for expected messages (e.g. a 401 on a
 * wrong-password login is logged by Chromium as "Failed to load resource").
 */
export function watchConsole(page) {
  const seen = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') seen.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => seen.push(`pageerror: ${err.message}`));
  return {
    seen,
    unexpected(allow = []) {
      return seen.filter((m) => !allow.some((re) => re.test(m)));
    },
  };
}

/** Records WebSocket frames of /ws (sent and received, parsed JSON). */
export function watchSocket(page) {
  const frames = [];
  page.on('websocket', (ws) => {
    if (!ws.url().endsWith('/ws')) return;
    const rec = (dir) => (f) => {
      try {
        frames.push({ dir, at: Date.now(), ...JSON.parse(typeof f.payload === 'string' ? f.payload : f.payload.toString()) });
      } catch {
        frames.push({ dir, at: Date.now(), raw: String(f.payload) });
      }
    };
    ws.on('framesent', rec('out'));
    ws.on('framereceived', rec('in'));
  });
  return frames;
}
