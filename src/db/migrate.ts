import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Db } from './types.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
// Any constant works; it only has to be the same for every Billflow process on this database.
const MIGRATION_LOCK = 7_218_843_001;

/**
 * The database carries migrations this build does not have: a newer Billflow migrated it. Running
 * this build's queries on that schema could fail or, worse, write what the newer code no longer
 * expects, so a process of this build refuses to start rather than apply or run anything.
 */
export class SchemaTooNewError extends Error {
  readonly databaseVersion: number;
  readonly knownVersion: number;
  constructor(databaseVersion: number, knownVersion: number) {
    super(
      `the database schema is at ${pad(databaseVersion)}, this Billflow knows up to ${pad(knownVersion)}: ` +
        'upgrade Billflow (or run the newer version)',
    );
    this.name = 'SchemaTooNewError';
    this.databaseVersion = databaseVersion;
    this.knownVersion = knownVersion;
  }
}

function pad(version: number): string {
  return String(version).padStart(4, '0');
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
  return Promise.all(
    files.map(async (file) => ({
      version: Number(file.slice(0, 4)),
      name: file.replace(/\.sql$/, ''),
      sql: await readFile(new URL(file, `file://${dir}`), 'utf8'),
    })),
  );
}

/**
 * Applies pending migrations in order, each in its own transaction. Safe when several processes
 * start at once: a transaction-level advisory lock serializes them and the loser finds nothing to do.
 * Throws SchemaTooNewError, applying nothing, when the database has a migration this build lacks.
 */
export async function migrate(db: Db, migrations?: Migration[]): Promise<string[]> {
  const all = migrations ?? (await loadMigrations());
  const applied: string[] = [];
  await db
    .exec(
      `CREATE TABLE IF NOT EXISTS billflow_migrations (
      version int PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`,
    )
    .catch(async (error: unknown) => {
      // Two processes creating the table at once: one wins, the other sees a duplicate.
      const done = await db.query(`SELECT to_regclass('billflow_migrations') AS t`);
      if (!done.rows[0]?.t) throw error;
    });
  await assertSchemaKnown(db, all);
  for (const migration of all) {
    const ran = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const seen = await tx.query('SELECT 1 FROM billflow_migrations WHERE version = $1', [migration.version]);
      if (seen.rowCount > 0) return false;
      await runScript(tx, migration.sql);
      await tx.query('INSERT INTO billflow_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      return true;
    });
    if (ran) applied.push(migration.name);
  }
  return applied;
}

/**
 * Refuses a database migrated by a newer Billflow. By the set of versions, not their count or the
 * highest known one alone: a migration numbered below others can be applied after them (0019 came
 * after 0020 and 0021 on some databases), so only "applied but unknown here" means newer.
 */
export async function assertSchemaKnown(db: Db, migrations?: Migration[]): Promise<void> {
  const all = migrations ?? (await loadMigrations());
  const known = new Set(all.map((m) => m.version));
  const { rows } = await db.query<{ version: number }>('SELECT version FROM billflow_migrations');
  const unknown = rows.map((r) => r.version).filter((v) => !known.has(v));
  if (unknown.length === 0) return;
  const highest = Math.max(...rows.map((r) => r.version));
  throw new SchemaTooNewError(highest, Math.max(0, ...known));
}

/** Lists migrations not yet applied (for readiness checks). */
export async function pendingMigrations(db: Db, migrations?: Migration[]): Promise<string[]> {
  const all = migrations ?? (await loadMigrations());
  const exists = await db.query<{ t: string | null }>(`SELECT to_regclass('billflow_migrations')::text AS t`);
  if (!exists.rows[0]?.t) return all.map((m) => m.name);
  const done = await db.query<{ version: number }>('SELECT version FROM billflow_migrations');
  const versions = new Set(done.rows.map((r) => r.version));
  return all.filter((m) => !versions.has(m.version)).map((m) => m.name);
}

// Statements are separated by a line holding only `--;` so a migration can contain functions.
async function runScript(tx: { query: Db['query'] }, sql: string): Promise<void> {
  for (const statement of sql.split(/^--;\s*$/m)) {
    if (statement.trim()) await tx.query(statement);
  }
}
