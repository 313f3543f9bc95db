import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { connectPostgres } from './postgres.ts';
import { openPglite } from './pglite.ts';
import { DataDirInUseError, lockDataDir } from './lock.ts';
import type { Db } from './types.ts';

export class DatabaseConfigError extends Error {}

export interface DatabaseConfig {
  /** A postgres:// URL; when absent the embedded database is used. */
  databaseUrl?: string;
  /** Folder for the embedded database's data; `undefined` with no URL means in memory. */
  dataDir?: string;
  maxConnections?: number;
  onError?: (error: Error) => void;
}

export function describeDatabase(config: DatabaseConfig): string {
  if (config.databaseUrl) {
    const url = new URL(config.databaseUrl);
    // A Unix socket's folder comes as ?host=/dir or as the percent-encoded host (libpq's forms).
    const host = url.searchParams.get('host') ?? decodeURIComponent(url.hostname);
    const where = host.startsWith('/') ? `unix:${host}` : host;
    return `PostgreSQL at ${where}:${url.port || 5432}${url.pathname}`;
  }
  return config.dataDir ? `embedded PGlite in ${path.resolve(config.dataDir)}` : 'embedded PGlite in memory';
}

/** Opens the configured database and proves it answers, with an error a person can act on. */
export async function openDatabase(config: DatabaseConfig): Promise<Db> {
  if (config.databaseUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(config.databaseUrl);
    } catch {
      throw new DatabaseConfigError(
        'DATABASE_URL is not a valid URL; expected postgres://user:password@host:5432/database',
      );
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
      throw new DatabaseConfigError(
        `DATABASE_URL must start with postgres:// or postgresql:// (got ${url.protocol}//)`,
      );
    }
    const db = connectPostgres({
      connectionString: config.databaseUrl,
      maxConnections: config.maxConnections,
      onError: config.onError,
    });
    try {
      await db.query('SELECT 1');
    } catch (error) {
      await db.close().catch(() => {});
      const reason = error instanceof Error ? error.message : String(error);
      throw new DatabaseConfigError(`cannot reach ${describeDatabase(config)}: ${reason}`);
    }
    return db;
  }
  let unlock = () => {};
  if (config.dataDir) {
    await mkdir(config.dataDir, { recursive: true });
    try {
      unlock = lockDataDir(config.dataDir);
    } catch (error) {
      if (error instanceof DataDirInUseError) throw new DatabaseConfigError(error.message, { cause: error });
      throw error;
    }
  }
  try {
    const db = await openPglite(config.dataDir);
    return {
      ...db,
      async close() {
        await db.close();
        unlock();
      },
    };
  } catch (error) {
    unlock();
    const reason = error instanceof Error ? error.message : String(error);
    throw new DatabaseConfigError(`cannot open ${describeDatabase(config)}: ${reason}`);
  }
}
