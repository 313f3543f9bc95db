// Once /readyz says ready, the command line reaches the server: on the embedded database its
// admin socket already listens (the CLI cannot open a folder the server holds).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TEST_DATABASES, freshDatabase } from '../helpers/databases.ts';
import { adminSocketPath, startLocalAdminSocket } from '../../src/http/admin-socket.ts';
import { BIN, billflow, freePort } from '../helpers/cli.ts';

/** Polls /readyz as fast as a client would until the server says ready. */
async function waitReady(url: string, exited: Promise<unknown>): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  for (;;) {
    if (gone) throw new Error('the server exited before it was ready');
    try {
      const response = await fetch(`${url}/readyz`);
      if (response.status === 200 && ((await response.json()) as { status: string }).status === 'ready') return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function socketAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    socket.on('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

async function startAndCreateKey(env: Record<string, string>, cwd: string, tag: string, embedded: boolean) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [BIN, 'start', '--port', String(port)], {
    cwd,
    env: { ...process.env, LOG_LEVEL: 'warn', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await waitReady(url, exited);
    if (embedded) {
      // Ready means every door is open, the admin socket included.
      assert.equal(await socketAnswers(adminSocketPath(env.BILLFLOW_DATA_DIR as string)), true, `${tag}: socket`);
    }
    const key = await billflow(['api-key', 'create', '--name', tag, '--role', 'viewer'], env, cwd);
    assert.equal(key.code, 0, `${tag}: ${key.stderr}`);
    const printed = key.stdout.trim();
    assert.match(printed, /^bf_[a-z0-9]{8}_[A-Za-z0-9_-]{43}$/);
    // The key was stored where the server reads: it authenticates.
    const session = await fetch(`${url}/api/v1/auth/session`, { headers: { authorization: `Bearer ${printed}` } });
    assert.equal(session.status, 200);
    assert.equal(((await session.json()) as { principal: { role: string } }).principal.role, 'viewer');
  } finally {
    child.kill('SIGTERM');
    const code = await exited;
    assert.equal(code, 0, stderr);
  }
}

test('on the embedded database, api-key create right after /readyz says ready succeeds, start after start', async () => {
  for (let i = 0; i < 3; i++) {
    // A new folder each time: the first start of a folder does the most before it is ready.
    const cwd = await mkdtemp(path.join(tmpdir(), 'billflow-ready-'));
    try {
      await startAndCreateKey({ BILLFLOW_DATA_DIR: path.join(cwd, 'state') }, cwd, `ready-${i}`, true);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  }
});

test(
  'on PostgreSQL, api-key create right after /readyz says ready succeeds',
  { skip: !TEST_DATABASES.includes('postgres') },
  async () => {
    const { url: databaseUrl } = await freshDatabase('postgres');
    const cwd = await mkdtemp(path.join(tmpdir(), 'billflow-ready-'));
    try {
      const env = { DATABASE_URL: databaseUrl as string, BILLFLOW_DATA_DIR: path.join(cwd, 'state') };
      await startAndCreateKey(env, cwd, 'ready-pg', false);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  },
);

test('the CLI waits for a server that holds the embedded database and opens its socket late', async () => {
  const cwd = await mkdtemp(path.join(tmpdir(), 'billflow-wait-'));
  const dataDir = path.join(cwd, 'state');
  let socket: { close(): Promise<void> } | undefined;
  try {
    // A live process (this one) holds the folder, as a server does from the moment it starts.
    await mkdir(path.join(dataDir, 'data'), { recursive: true });
    await writeFile(path.join(dataDir, 'data', 'billflow.pid'), String(process.pid));
    const { db } = await freshDatabase('pglite');
    const child = spawn(process.execPath, [BIN, 'api-key', 'create', '--name', 'late', '--role', 'viewer'], {
      cwd,
      env: { ...process.env, LOG_LEVEL: 'warn', BILLFLOW_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const waiting = new Promise<boolean>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d;
        if (/waiting up to \d+ s/.test(stderr)) resolve(true);
      });
      void exited.then(() => resolve(false));
    });
    assert.equal(await waiting, true, `the command gave up instead of waiting: ${stderr}`);
    // Longer than a server's start-up used to be allowed.
    await new Promise((resolve) => setTimeout(resolve, 6000));
    assert.equal(child.exitCode, null, `the command gave up while the server was starting: ${stderr}`);
    socket = await startLocalAdminSocket({ dataDir, db });
    assert.equal(await exited, 0, stderr);
    assert.match(stdout.trim(), /^bf_[a-z0-9]{8}_[A-Za-z0-9_-]{43}$/);
    const { rows } = await db.query<{ name: string; role: string }>(
      "SELECT name, role FROM api_keys WHERE name = 'late'",
    );
    assert.deepEqual(rows, [{ name: 'late', role: 'viewer' }]);
  } finally {
    await socket?.close();
    await rm(cwd, { recursive: true, force: true });
  }
});
