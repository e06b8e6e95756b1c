// Starts a real chatcore-server on a free port with a fresh SQLite database.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DIST_DIR = path.join(WEB_DIR, 'dist');

export function serverBinary() {
  const bin = process.env.CHATCORE_SERVER_BIN
    ? path.resolve(WEB_DIR, process.env.CHATCORE_SERVER_BIN)
    : path.resolve(WEB_DIR, '../../target/release/chatcore-server');
  if (!fs.existsSync(bin)) {
    throw new Error(
      `chatcore-server binary not found at ${bin}.\n` +
        'Build it (cargo build --release -p chatcore-examples --bin chatcore-server) or set CHATCORE_SERVER_BIN.',
    );
  }
  fs.accessSync(bin, fs.constants.X_OK);
  return bin;
}

export function checkDist() {
  if (!fs.existsSync(path.join(DIST_DIR, 'index.html'))) {
    throw new Error(`${DIST_DIR}/index.html is missing: run \`npm run build\` first (npm run e2e does).`);
  }
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Provider credentials are dropped so the server runs its `offline` provider.
const DROP_ENV = /(_API_KEY|_API_BASE|_BASE_URL)$|^(GEMINI|OPENAI|ANTHROPIC|LLM)_|^CHATCORE_PROVIDERS$/;

/**
 * @param {{ name: string, env?: Record<string,string> }} opts
 * @returns {Promise<{ url: string, port: number, dir: string, logFile: string, stop: () => Promise<void>, logTail: (n?: number) => string }>}
 */
export async function startServer({ name, env = {} }) {
  const bin = serverBinary();
  checkDist();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `chatcore-e2e-${name}-`));
  const db = path.join(dir, 'e2e.db');
  fs.writeFileSync(db, ''); // an empty file is a valid empty SQLite database (works without mode=rwc)
  const port = await freePort();
  const logFile = path.join(dir, 'server.log');
  const log = fs.openSync(logFile, 'a');
  const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !DROP_ENV.test(k)));
  const childEnv = {
    ...baseEnv,
    DATABASE_URL: `sqlite://${db}`,
    ROCKET_PORT: String(port),
    ROCKET_ADDRESS: '127.0.0.1',
    CHATCORE_WEB_DIR: DIST_DIR,
    CHATCORE_OFFLINE_DELAY_MS: '150',
    CHATCORE_LOGIN_LIMIT: '0',
    CHATCORE_MESSAGES_PER_MINUTE: '0',
    JWT_SECRET: randomBytes(32).toString('hex'),
    RUST_LOG: process.env.RUST_LOG ?? 'info',
    ...env,
  };
  const child = spawn(bin, [], { cwd: dir, env: childEnv, stdio: ['ignore', log, log] });
  let exited = null;
  child.on('exit', (code, signal) => (exited = { code, signal }));
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);

  const url = `http://127.0.0.1:${port}`;
  const logTail = (n = 40) => {
    try {
      return fs.readFileSync(logFile, 'utf8').split('\n').slice(-n).join('\n');
    } catch {
      return '';
    }
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', killOnExit);
    if (exited) {
      fs.closeSync(log);
      return; // exited by itself: keep its directory (log, database) for a look
    }
    child.kill('SIGTERM');
    const t0 = Date.now();
    while (!exited && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 50));
    if (!exited) child.kill('SIGKILL');
    fs.closeSync(log);
    // Keep the database and log for debugging with CHATCORE_E2E_KEEP=1.
    if (process.env.CHATCORE_E2E_KEEP !== '1') fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`e2e: kept ${dir}`);
  };

  const deadline = Date.now() + Number(process.env.CHATCORE_E2E_START_TIMEOUT_MS ?? 60000);
  let lastErr = '';
  while (Date.now() < deadline) {
    if (exited) {
      throw new Error(`chatcore-server (${name}) exited early (${JSON.stringify(exited)}). Log:\n${logTail()}`);
    }
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) {
        const body = await res.json();
        return { url, port, dir, logFile, stop, logTail, health: body };
      }
      lastErr = `status ${res.status}`;
    } catch (e) {
      lastErr = String(e?.cause?.code ?? e);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`chatcore-server (${name}) did not answer GET /health in time (${lastErr}). Log:\n${logTail()}`);
}
