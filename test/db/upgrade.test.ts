// Upgrade safety: a process of this build refuses a database that a newer Billflow migrated
// (a migration it does not know is applied), says so in one line, and applies nothing. "Newer" is
// judged by the set of applied versions, not their count: 0019 was applied after 0020 and 0021 on
// some databases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TEST_DATABASES, eachDatabase, freshDatabase } from '../helpers/databases.ts';
import { SchemaTooNewError, loadMigrations, migrate } from '../../src/db/migrate.ts';
import type { Migration } from '../../src/db/migrate.ts';
import { openDatabase } from '../../src/db/connect.ts';
import type { Queryable } from '../../src/db/types.ts';
import { billflow } from '../helpers/cli.ts';
import Fastify from 'fastify';
import { healthRoutes } from '../../src/http/health.ts';

const pad = (n: number) => String(n).padStart(4, '0');
const KNOWN = Math.max(...(await loadMigrations()).map((m) => m.version));
const FUTURE = KNOWN + 2;
const REFUSAL =
  `the database schema is at ${pad(FUTURE)}, this Billflow knows up to ${pad(KNOWN)}: ` +
  'upgrade Billflow (or run the newer version)';

/** What a newer Billflow leaves behind: the record of a migration this build does not have. */
async function migrateByNewerVersion(q: Queryable): Promise<void> {
  await q.query('INSERT INTO billflow_migrations (version, name) VALUES ($1, $2)', [
    FUTURE,
    `${pad(FUTURE)}_from_a_newer_billflow`,
  ]);
}

async function applied(q: Queryable): Promise<number[]> {
  const { rows } = await q.query<{ version: number }>('SELECT version FROM billflow_migrations ORDER BY version');
  return rows.map((r) => r.version);
}

const probe = (version: number): Migration => ({
  version,
  name: `${pad(version)}_probe`,
  sql: `CREATE TABLE probe_${version} (id int)`,
});

eachDatabase((kind) => {
  test('a database migrated by a newer Billflow is refused, with nothing applied', async () => {
    const { db } = await freshDatabase(kind);
    await migrateByNewerVersion(db);
    // One of this build's migrations missing as well: it must not be applied either.
    await db.query('DELETE FROM billflow_migrations WHERE version = $1', [KNOWN]);
    const before = await applied(db);
    await assert.rejects(migrate(db), (error: unknown) => {
      assert.ok(error instanceof SchemaTooNewError);
      assert.equal(error.message, REFUSAL);
      return true;
    });
    assert.deepEqual(await applied(db), before);
  });

  test('a running process is no longer ready once a newer Billflow migrated the database', async () => {
    const { db } = await freshDatabase(kind);
    const app = Fastify();
    healthRoutes(app, db);
    try {
      assert.equal((await app.inject({ url: '/readyz' })).statusCode, 200);
      await migrateByNewerVersion(db);
      const res = await app.inject({ url: '/readyz' });
      assert.equal(res.statusCode, 503);
      assert.deepEqual(res.json(), { status: 'unavailable', database: kind, detail: REFUSAL });
    } finally {
      await app.close();
    }
  });

  test('a lower-numbered migration applied after higher ones is not "newer"', async () => {
    const { db } = await freshDatabase(kind, { migrate: false });
    // The first build shipped 1 and 3; the next added 2, applied after 3.
    assert.deepEqual(await migrate(db, [probe(1), probe(3)]), ['0001_probe', '0003_probe']);
    assert.deepEqual(await migrate(db, [probe(1), probe(2), probe(3)]), ['0002_probe']);
    assert.deepEqual(await migrate(db, [probe(1), probe(2), probe(3)]), []);
    // A build that knows only 1 and 2 is older than this database, whatever the count says.
    await assert.rejects(migrate(db, [probe(1), probe(2)]), (error: unknown) => {
      assert.ok(error instanceof SchemaTooNewError);
      assert.equal(
        error.message,
        'the database schema is at 0003, this Billflow knows up to 0002: ' +
          'upgrade Billflow (or run the newer version)',
      );
      return true;
    });
  });
});

test(
  'billflow worker, start and migrate refuse a newer schema on PostgreSQL',
  {
    skip: !TEST_DATABASES.includes('postgres'),
  },
  async () => {
    const cwd = await mkdtemp(path.join(tmpdir(), 'billflow-upgrade-pg-'));
    const { db, url } = await freshDatabase('postgres');
    try {
      await migrateByNewerVersion(db);
      const before = await applied(db);
      const env = { DATABASE_URL: url as string, BILLFLOW_DATA_DIR: path.join(cwd, 'state') };
      for (const args of [['worker'], ['start', '--port', '0'], ['migrate']]) {
        const exit = await billflow(args, env, cwd);
        assert.equal(exit.code, 1, `${args[0]}: ${exit.stderr}`);
        assert.equal(exit.stderr.trim().split('\n').at(-1), `billflow: ${REFUSAL}`, args[0]);
        assert.doesNotMatch(exit.stderr, /\n\s+at /, 'no stack trace');
      }
      assert.deepEqual(await applied(db), before);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  },
);

test('billflow start and migrate refuse a newer schema on the embedded database', async () => {
  const cwd = await mkdtemp(path.join(tmpdir(), 'billflow-upgrade-'));
  const env = { BILLFLOW_DATA_DIR: path.join(cwd, 'state') };
  const dataDir = path.join(env.BILLFLOW_DATA_DIR, 'data');
  try {
    let db = await openDatabase({ dataDir });
    try {
      await migrate(db);
      await migrateByNewerVersion(db);
    } finally {
      await db.close();
    }
    for (const args of [['start', '--port', '0'], ['migrate']]) {
      const exit = await billflow(args, env, cwd);
      assert.equal(exit.code, 1, `${args[0]}: ${exit.stderr}`);
      assert.equal(exit.stderr.trim().split('\n').at(-1), `billflow: ${REFUSAL}`, args[0]);
    }
    db = await openDatabase({ dataDir });
    try {
      assert.equal(Math.max(...(await applied(db))), FUTURE);
    } finally {
      await db.close();
    }
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
});
