// A server killed (kill -9) in the middle of requests with Idempotency-Keys: the keys' claims die
// with the process. Retrying the same keys (on another server, or on the restarted one) answers
// at once with the real result — each customer created once — not "still being processed".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../src/db/connect.ts';
import { migrate } from '../../src/db/migrate.ts';
import type { Db } from '../../src/db/types.ts';
import { createApiKey } from '../../src/http/auth/api-keys.ts';
import { TEST_DATABASES, freshDatabase } from '../helpers/databases.ts';
import { freePort } from '../helpers/cli.ts';

const BIN = path.resolve('bin/billflow.js');
const REQUESTS = 40;
/** A client's patience: it honours Retry-After, and gives up on a key after this long. */
const RETRY_BUDGET_MS = 8000;

interface Server {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

async function startServer(env: Record<string, string>, cwd: string): Promise<Server> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [BIN, 'start', '--port', String(port)], {
    cwd,
    env: { ...process.env, LOG_LEVEL: 'warn', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  for (;;) {
    if (gone) throw new Error('the server exited before it was ready');
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) return { child, url, exited };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function create(url: string, key: string, i: number, auth: string) {
  return fetch(`${url}/api/v1/customers`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify({ email: `crash-${i}@example.com` }),
  });
}

async function crashAndRetry(options: {
  /** Starts the process that gets killed mid-requests. */
  victim: () => Promise<Server>;
  auth: string;
  /** Unfinished claims left in the database once the victim is dead. */
  orphans: () => Promise<number>;
  /** The server that takes the retries (another process, or the victim restarted). */
  survivor: () => Promise<Server>;
  customers: () => Promise<{ id: string; email: string }[]>;
  /**
   * Whether a kill must leave a claim unfinished. On PostgreSQL it does. On the embedded database
   * requests run one after another and a create's answer commits with its work, so a kill almost
   * always falls between two requests: there the retries are checked whatever the kills left.
   */
  orphansRequired: boolean;
}) {
  const first = new Map<number, string>();
  let sent = 0;
  // Kill a server mid-flood until the kill leaves a claim that never finished (on the embedded
  // database requests run nearly one after another, so a kill can fall between two of them).
  const deadline = Date.now() + 120_000;
  for (let round = 0; round < 8 && Date.now() < deadline; round++) {
    const victim = await options.victim();
    let answered = 0;
    let killed!: () => void;
    const killedNow = new Promise<void>((resolve) => (killed = resolve));
    const requests = Array.from({ length: REQUESTS }, (_, n) => {
      const i = sent + n;
      return create(victim.url, `crash-key-${i}`, i, options.auth).then(
        async (res) => {
          if (res.status === 201) first.set(i, ((await res.json()) as { customer: { id: string } }).customer.id);
          // The kill comes after a later answer each round, never after more than were sent.
          if (++answered === Math.min(5 + round * 5, REQUESTS - 2)) {
            setTimeout(() => {
              victim.child.kill('SIGKILL');
              killed();
            }, round);
          }
        },
        () => {},
      );
    });
    sent += REQUESTS;
    await killedNow;
    await victim.exited;
    await Promise.all(requests);
    if ((await options.orphans()) > 0) break;
  }
  const orphans = await options.orphans();
  if (options.orphansRequired) assert.ok(orphans > 0, 'a kill left keys claimed by requests that never finished');
  console.log(`# ${sent} requests, ${first.size} answered before the kills, ${orphans} claims left unfinished`);

  const survivor = await options.survivor();
  const started = Date.now();
  let conflicts = 0;
  const results = await Promise.all(
    Array.from({ length: sent }, async (_, i) => {
      for (;;) {
        const res = await create(survivor.url, `crash-key-${i}`, i, options.auth);
        if (res.status === 409 && Date.now() - started < RETRY_BUDGET_MS) {
          conflicts++;
          await new Promise((resolve) => setTimeout(resolve, Number(res.headers.get('retry-after') ?? 1) * 1000));
          continue;
        }
        return { i, status: res.status, body: (await res.json()) as { customer?: { id: string }; detail?: string } };
      }
    }),
  );
  const elapsed = Date.now() - started;
  try {
    for (const r of results) assert.equal(r.status, 201, `key ${r.i}: ${r.status} ${r.body.detail ?? ''}`);
    assert.ok(elapsed < RETRY_BUDGET_MS, `retries took ${elapsed} ms (${conflicts} answers 409)`);
    // Each answer names a stored customer of its request; one the client saw is replayed as it was.
    const rows = await options.customers();
    const stored = new Map(rows.map((c) => [c.id, c.email]));
    const emails = rows.map((c) => c.email);
    assert.equal(new Set(emails).size, emails.length, 'no request created its customer twice');
    for (const r of results) {
      assert.equal(stored.get(r.body.customer?.id ?? ''), `crash-${r.i}@example.com`);
      const seen = first.get(r.i);
      if (seen) assert.equal(r.body.customer?.id, seen);
    }
  } finally {
    survivor.child.kill('SIGTERM');
    await survivor.exited;
  }
}

test(
  'PostgreSQL: a server killed mid-request; the same keys on another server answer at once',
  { skip: !TEST_DATABASES.includes('postgres') },
  async () => {
    const { db, url: databaseUrl } = await freshDatabase('postgres');
    const cwd = await mkdtemp(path.join(tmpdir(), 'billflow-crash-'));
    try {
      const { key } = await createApiKey(db, {
        name: 'crash',
        role: 'admin',
        expiresAt: null,
        createdBy: null,
        now: new Date(),
      });
      const env = { DATABASE_URL: databaseUrl as string, BILLFLOW_DATA_DIR: path.join(cwd, 'state') };
      const other = await startServer(env, cwd);
      await crashAndRetry({
        victim: () => startServer(env, cwd),
        auth: `Bearer ${key}`,
        orphans: async () =>
          (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM idempotency_keys WHERE status IS NULL'))
            .rows[0]?.n ?? 0,
        survivor: async () => other,
        orphansRequired: true,
        customers: async () =>
          (await db.query<{ id: string; email: string }>("SELECT id, email FROM customers WHERE email LIKE 'crash-%'"))
            .rows,
      });
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  },
);

test(
  'PGlite: a server killed mid-request; the same keys on the restarted server answer at once',
  { skip: !TEST_DATABASES.includes('pglite') },
  async () => {
    const cwd = await mkdtemp(path.join(tmpdir(), 'billflow-crash-'));
    const dataDir = path.join(cwd, 'state');
    const folder = () => openDatabase({ dataDir: path.join(dataDir, 'data') });
    const read = async <T>(fn: (db: Db) => Promise<T>): Promise<T> => {
      const db = await folder();
      try {
        return await fn(db);
      } finally {
        await db.close();
      }
    };
    try {
      const key = await read(async (db) => {
        await migrate(db);
        return (
          await createApiKey(db, { name: 'crash', role: 'admin', expiresAt: null, createdBy: null, now: new Date() })
        ).key;
      });
      const env = { BILLFLOW_DATA_DIR: dataDir };
      let survivor: Server | undefined;
      await crashAndRetry({
        victim: () => startServer(env, cwd),
        auth: `Bearer ${key}`,
        orphans: () =>
          read(
            async (db) =>
              (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM idempotency_keys WHERE status IS NULL'))
                .rows[0]?.n ?? 0,
          ),
        survivor: async () => (survivor = await startServer(env, cwd)),
        orphansRequired: false,
        customers: async () => {
          // The folder is the survivor's while it runs: read it after it stops.
          survivor?.child.kill('SIGTERM');
          await survivor?.exited;
          return read(
            async (db) =>
              (
                await db.query<{ id: string; email: string }>(
                  "SELECT id, email FROM customers WHERE email LIKE 'crash-%'",
                )
              ).rows,
          );
        },
      });
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  },
);
