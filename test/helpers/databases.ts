import { after, describe } from 'node:test';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { connectPostgres } from '../../src/db/postgres.ts';
import { wrapPglite } from '../../src/db/pglite.ts';
import { migrate } from '../../src/db/migrate.ts';
import type { Db, DatabaseKind } from '../../src/db/types.ts';

/** The server the PostgreSQL half of the suite runs on (a fresh database per test file). */
export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    if (process.env.CI === 'true') {
      throw new Error(`PostgreSQL is required in CI but unreachable at ${ADMIN_URL}: ${String(error)}`);
    }
    console.warn(`# PostgreSQL unreachable at ${ADMIN_URL}; running on PGlite only (never in CI)`);
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function selectedKinds(): DatabaseKind[] {
  const wanted = process.env.BILLFLOW_TEST_DATABASES ?? 'pglite,postgres';
  return wanted.split(',').map((k) => k.trim()) as DatabaseKind[];
}

const kinds = selectedKinds();
export const TEST_DATABASES: DatabaseKind[] =
  kinds.includes('postgres') && !(await postgresReachable()) ? kinds.filter((k) => k !== 'postgres') : kinds;

let fileDatabaseUrl: Promise<string> | undefined;
let sharedPglite: Promise<PGlite> | undefined;
const toClose: Db[] = [];
let fileDatabaseName: string | undefined;

// Registered at import, so it runs once when the whole test file is done.
after(async () => {
  await Promise.all(toClose.splice(0).map((db) => db.close().catch(() => {})));
  if (sharedPglite) await (await sharedPglite).close();
  if (fileDatabaseName) {
    const c = new pg.Client({ connectionString: ADMIN_URL });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${fileDatabaseName} WITH (FORCE)`);
    await c.end();
  }
});

/** A database of its own for this test file on the PostgreSQL server; dropped when the file ends. */
export function postgresFileDatabase(): Promise<string> {
  fileDatabaseUrl ??= (async () => {
    const name = `billflow_test_${process.pid}_${randomBytes(3).toString('hex')}`;
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    fileDatabaseName = name;
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    return url.toString();
  })();
  return fileDatabaseUrl;
}

/** A URL whose connections work in their own schema (so tests in one file do not see each other). */
export function withSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

export interface TestDatabase {
  db: Db;
  kind: DatabaseKind;
  /** For PostgreSQL: a URL other processes can use to reach the same schema. */
  url?: string;
}

/** A migrated, empty database for one test: a new schema in this file's database. */
export async function freshDatabase(kind: DatabaseKind, options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const migrated = options.migrate ?? true;
  const schema = `t_${randomBytes(5).toString('hex')}`;
  if (kind === 'postgres') {
    const base = await postgresFileDatabase();
    const setup = new pg.Client({ connectionString: base });
    await setup.connect();
    await setup.query(`CREATE SCHEMA ${schema}`);
    await setup.end();
    const url = withSchema(base, schema);
    const db = connectPostgres({ connectionString: url, maxConnections: 10 });
    toClose.push(db);
    if (migrated) await migrate(db);
    return { db, kind, url };
  }
  // PGlite takes seconds to boot: one instance per file, a schema per test.
  sharedPglite ??= PGlite.create();
  const pglite = await sharedPglite;
  await pglite.exec(`CREATE SCHEMA ${schema}; SET search_path TO ${schema};`);
  const db = { ...wrapPglite(pglite), close: async () => {} };
  if (migrated) await migrate(db);
  return { db, kind };
}

/** Declares the same tests once per database kind under test. */
export function eachDatabase(fn: (kind: DatabaseKind) => void): void {
  for (const kind of TEST_DATABASES) describe(kind, () => fn(kind));
}

export function testClock(start = new Date('2026-01-05T10:00:00Z')) {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
    set(date: Date) {
      now = date.getTime();
    },
  };
}
