import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { compiled } from './compiled.ts';
import type { DatabaseName } from './protocol.ts';

/** A fresh place for one engine's data, and how to remove it afterwards. */
export interface Target {
  location: string;
  dispose(): Promise<void>;
}

async function admin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A new PostgreSQL database on the server of `adminUrl`, dropped (even if still in use) at
 * dispose. `adminUrl`'s own database is used for CREATE and DROP DATABASE only.
 */
async function freshPostgres(adminUrl: string, label: string): Promise<Target> {
  const name = `bench_${label.replace(/\W/g, '_')}_${process.pid}_${Date.now().toString(36)}`;
  const quoted = pg.escapeIdentifier(name);
  await admin(adminUrl, (c) => c.query(`CREATE DATABASE ${quoted}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    location: url.toString(),
    dispose: () => admin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`)).then(() => {}),
  };
}

/**
 * A new PGlite data folder on disk (the OS temp dir), initialized in a throwaway process, at
 * `dataSubdir` inside the folder when given (the service keeps its data in `<dir>/data`).
 */
async function freshPgliteDir(label: string, dataSubdir?: string): Promise<Target> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `billflow-bench-${label}-`));
  const dataDir = dataSubdir ? path.join(dir, dataSubdir) : dir;
  const init = compiled('init-pglite.ts');
  await new Promise<void>((resolve, reject) => {
    const child = fork(init, [dataDir], { stdio: ['ignore', 2, 2, 'ipc'] });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`initializing PGlite in ${dataDir} failed`)),
    );
  });
  return { location: dir, dispose: () => rm(dir, { recursive: true, force: true }) };
}

export function freshTarget(
  database: DatabaseName,
  label: string,
  adminUrl: string,
  options: { dataSubdir?: string } = {},
): Promise<Target> {
  return database === 'postgres' ? freshPostgres(adminUrl, label) : freshPgliteDir(label, options.dataSubdir);
}
