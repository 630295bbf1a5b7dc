// The real parts the browser suite runs against: the release binary on a free port with a
// fresh SQLite database, and a real SMTP server (smtp-server) that receives its mail.

import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

const root = resolve(import.meta.dirname, '..', '..');
export const binary = process.env.POORTWACHTER_BIN ?? join(root, 'target', 'release', 'poortwachter');

export async function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

/** A real SMTP server on loopback that keeps every message it receives, parsed. */
export async function startMailbox() {
  const messages = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream, { keepCidLinks: true })
        .then((mail) => {
          mail.envelopeTo = session.envelope.rcptTo.map((r) => r.address);
          messages.push(mail);
          callback();
        })
        .catch(callback);
    },
  });
  const port = await freePort();
  await new Promise((done) => server.listen(port, '127.0.0.1', done));
  return {
    port,
    messages,
    /** Waits until a received message matches `predicate`, and returns it. */
    async waitFor(predicate, what, timeoutMs = 15000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = messages.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
        await new Promise((wake) => setTimeout(wake, 100));
      }
    },
    close: () => new Promise((done) => server.close(done)),
  };
}

/** Starts `poortwachter serve` with its own data folder; returns its URL, CLI and stop(). */
export async function startServer({ smtpPort, extraEnv = {}, host = '127.0.0.1' }) {
  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), 'poortwachter-e2e-'));
  // `host: 'localhost'` where passkeys are tested: WebAuthn needs a domain name, not an IP.
  const url = `http://${host}:${port}`;
  const env = {
    ...process.env,
    POORTWACHTER_BIND: `127.0.0.1:${port}`,
    POORTWACHTER_PUBLIC_URL: url,
    POORTWACHTER_DATA_DIR: data,
    POORTWACHTER_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    POORTWACHTER_OUTBOX_POLL_MS: '200',
    ...extraEnv,
  };
  const log = openSync(join(data, 'server.log'), 'w');
  const child = spawn(binary, ['serve'], { env, stdio: ['ignore', log, log] });
  const started = Date.now();
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}; see ${data}/server.log`);
    if (Date.now() - started > 15000) throw new Error('server did not start in 15 s');
    await new Promise((wake) => setTimeout(wake, 100));
  }
  const run = promisify(execFile);
  return {
    url,
    /** Runs an administrator command against the same database. */
    cli: async (...args) => (await run(binary, args, { env })).stdout,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((done) => child.once('exit', done));
      rmSync(data, { recursive: true, force: true });
    },
  };
}

/** Decodes a QR image with Debian's zbarimg: an independent reader, as a phone would be. */
export function decodeQr(png) {
  const dir = mkdtempSync(join(tmpdir(), 'poortwachter-qr-'));
  try {
    const file = join(dir, 'qr.png');
    writeFileSync(file, png);
    return execFileSync('zbarimg', ['--raw', '-q', file]).toString().trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
