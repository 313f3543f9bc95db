// Backups of the embedded database. A backup is PGlite's dump of the data folder (a gzipped tar),
// taken by the process that has the folder open; a restore loads it into a new folder, opens it
// there to prove it is a whole Billflow database, and only then puts it in place of the old one.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import { DataDirInUseError, lockDataDir } from './lock.ts';
import { SchemaTooNewError, assertSchemaKnown } from './migrate.ts';
import { pgliteOptions, wrapPglite } from './pglite.ts';
import { fsyncTree } from './pgliteDurable.ts';
import type { Db, Queryable } from './types.ts';

/** A backup or restore that cannot be done, said so a person can act on it. */
export class BackupError extends Error {}

/** Files in the folder that belong to a process, not to the database. */
const PROCESS_FILES = new Set(['billflow.pid', 'postmaster.pid']);

export interface BackupInfo {
  file: string;
  bytes: number;
  /** The highest migration applied in the copy. */
  schemaVersion: number;
}

export interface RestoreInfo {
  dataDir: string;
  schemaVersion: number;
  /** Whether a database was there before (and is now gone). */
  replaced: boolean;
  runs: number;
}

async function schemaVersion(q: Queryable): Promise<number> {
  const { rows } = await q.query<{ t: string | null }>(`SELECT to_regclass('billflow_migrations')::text AS t`);
  if (!rows[0]?.t) return 0;
  const max = await q.query<{ v: number | null }>('SELECT max(version)::int AS v FROM billflow_migrations');
  return max.rows[0]?.v ?? 0;
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes a backup of the open embedded database to `file` (an absolute path), readable by its
 * owner only: it holds password hashes and customer data. Written beside it first and renamed
 * when complete, so a failed backup never leaves a partial file or harms an earlier one there.
 */
export async function writeBackup(db: Db, file: string): Promise<BackupInfo> {
  if (!db.dumpDataDir) {
    throw new BackupError('billflow backup copies the embedded database; back PostgreSQL up with pg_dump or PITR');
  }
  if (!path.isAbsolute(file)) throw new BackupError(`the backup file must be an absolute path (got "${file}")`);
  const version = await schemaVersion(db);
  const data = await db.dumpDataDir();
  const partial = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.partial`);
  try {
    const handle = await open(partial, 'wx', 0o600);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(partial, file);
    await fsyncDir(path.dirname(file));
  } catch (error) {
    await rm(partial, { force: true });
    const reason = error instanceof Error ? error.message : String(error);
    throw new BackupError(`cannot write the backup to ${file}: ${reason}`, { cause: error });
  }
  return { file, bytes: data.byteLength, schemaVersion: version };
}

/** Whether the folder holds anything besides the files of a process. */
async function holdsData(dir: string): Promise<boolean> {
  if (!existsSync(dir)) return false;
  return (await readdir(dir)).some((name) => !PROCESS_FILES.has(name));
}

/**
 * Reads the archive through before PGlite gets it: a truncated or foreign file is refused here
 * with a reason (PGlite's own unpacking reports some damage as an error no caller can catch).
 * Returns the plain tar.
 */
function checkArchive(archive: string, data: Uint8Array): Uint8Array {
  let tar = data;
  // gzip's magic number: what billflow backup writes.
  if (data[0] === 0x1f && data[1] === 0x8b) {
    try {
      tar = gunzipSync(data);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new BackupError(`${archive} is not a usable backup: ${reason} (damaged or cut short)`, { cause: error });
    }
  }
  const names = tarNames(tar);
  if (names === null) throw new BackupError(`${archive} is not a usable backup: not a whole tar archive`);
  if (!names.has('PG_VERSION') || !names.has('global/pg_control')) {
    throw new BackupError(`${archive} is not a usable backup: it holds no database folder`);
  }
  return tar;
}

/** The file names in a tar, or null when it is not one or is cut short (ustar headers, checksums). */
function tarNames(tar: Uint8Array): Set<string> | null {
  const names = new Set<string>();
  const text = (from: number, length: number) =>
    Buffer.from(tar.subarray(from, from + length))
      .toString('latin1')
      .replace(/\0.*$/s, '');
  for (let at = 0; at + 512 <= tar.length;) {
    const header = tar.subarray(at, at + 512);
    if (header.every((byte) => byte === 0)) return names.size > 0 ? names : null;
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] as number);
    if (Number.parseInt(text(at + 148, 8).trim(), 8) !== sum) return null;
    const size = Number.parseInt(text(at + 124, 12).trim() || '0', 8);
    const prefix = text(at + 345, 155);
    const name = `${prefix ? `${prefix}/` : ''}${text(at, 100)}`.replace(/^\/+/, '');
    names.add(name);
    at += 512 + Math.ceil(size / 512) * 512;
    if (at > tar.length) return null;
  }
  // No end-of-archive block: cut short at a file boundary.
  return null;
}

/** Opens the folder a tar was loaded into, checks it is a Billflow database this build can run. */
async function loadAndVerify(
  archive: string,
  data: Uint8Array,
  dir: string,
): Promise<{ version: number; runs: number }> {
  const tar = checkArchive(archive, data);
  let pglite: PGlite;
  try {
    pglite = await PGlite.create({
      ...pgliteOptions(dir),
      loadDataDir: new Blob([tar], { type: 'application/x-tar' }),
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new BackupError(`${archive} is not a usable backup: ${reason}`, { cause: error });
  }
  const db = wrapPglite(pglite);
  try {
    const version = await schemaVersion(db);
    if (version === 0) throw new BackupError(`${archive} is not a Billflow backup: it has no Billflow tables`);
    // Restoring what this build cannot run would only move the refusal to `billflow start`.
    await assertSchemaKnown(db).catch((error: unknown) => {
      if (!(error instanceof SchemaTooNewError)) throw error;
      throw new BackupError(`${archive} comes from a newer Billflow: ${error.message}`, { cause: error });
    });
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM workflow_runs');
    return { version, runs: rows[0]?.n ?? 0 };
  } finally {
    // A clean shutdown: the folder is left checkpointed, with nothing to recover.
    await db.close();
  }
}

/**
 * Restores a backup into `dataDir` (the embedded database's folder). Refuses while a process has
 * the folder open, and refuses to replace a database there unless `force`. The backup is loaded
 * and opened in a new folder beside it first; the old folder is swapped out only once that
 * worked, so a damaged or foreign file changes nothing.
 */
export async function restoreBackup(options: {
  archive: string;
  dataDir: string;
  force: boolean;
}): Promise<RestoreInfo> {
  const { archive, dataDir } = options;
  let unlockOld = () => {};
  if (existsSync(dataDir)) {
    try {
      unlockOld = lockDataDir(dataDir);
    } catch (error) {
      if (error instanceof DataDirInUseError) {
        throw new BackupError(`${error.message.split(';')[0]}; stop it before restoring`, { cause: error });
      }
      throw error;
    }
  }
  const parent = path.dirname(dataDir);
  const name = path.basename(dataDir);
  const suffix = randomBytes(4).toString('hex');
  const incoming = path.join(parent, `.${name}.restore-${suffix}`);
  const outgoing = path.join(parent, `.${name}.replaced-${suffix}`);
  try {
    const replaced = await holdsData(dataDir);
    if (replaced && !options.force) {
      throw new BackupError(
        `${dataDir} already holds a database; restore replaces it only with --force (back it up first)`,
      );
    }
    let data: Uint8Array;
    try {
      data = await readFile(archive);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new BackupError(`cannot read ${archive}: ${reason}`, { cause: error });
    }
    await mkdir(incoming, { recursive: true, mode: 0o700 });
    let verified: { version: number; runs: number };
    try {
      verified = await loadAndVerify(archive, data, incoming);
      // The backup copied the pid files of the process that made it: they name no process here.
      for (const file of PROCESS_FILES) await rm(path.join(incoming, file), { force: true });
      fsyncTree(incoming);
    } catch (error) {
      await rm(incoming, { recursive: true, force: true });
      throw error;
    }
    // Held across the swap, so no server opens the folder half-way.
    lockDataDir(incoming);
    if (existsSync(dataDir)) await rename(dataDir, outgoing);
    try {
      await rename(incoming, dataDir);
    } catch (error) {
      if (existsSync(outgoing)) await rename(outgoing, dataDir);
      throw error;
    }
    await fsyncDir(parent);
    await rm(outgoing, { recursive: true, force: true });
    await rm(path.join(dataDir, 'billflow.pid'), { force: true });
    unlockOld = () => {};
    return { dataDir, schemaVersion: verified.version, replaced, runs: verified.runs };
  } finally {
    unlockOld();
    await rm(incoming, { recursive: true, force: true });
  }
}
