// `billflow backup` and `billflow restore`: the embedded database's folder to a file and back.
// A backup is taken by the process that has the database open: a running server through its
// admin socket, else this process. PostgreSQL has better tools of its own (pg_dump, PITR).
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';
import { BackupError, restoreBackup } from '../db/backup.ts';
import type { Db } from '../db/types.ts';
import { SERVER_WAIT_MS, describeAdminError, executeAdminCommand } from '../http/admin-socket.ts';
import { formatAdminResult } from '../http/admin-format.ts';

const POSTGRES_BACKUP =
  'billflow backup copies the embedded database only. On PostgreSQL (DATABASE_URL is set) use ' +
  "PostgreSQL's own tools: pg_dump for a logical copy, or base backups with WAL archiving for " +
  'point-in-time recovery (see docs/operations.md, "Backup and restore").';

const POSTGRES_RESTORE =
  'billflow restore restores the embedded database only. On PostgreSQL (DATABASE_URL is set) use ' +
  'pg_restore, or recover a base backup with its archived WAL (see docs/operations.md, "Backup and restore").';

function pad(version: number): string {
  return String(version).padStart(4, '0');
}

/** The folder of the embedded database inside BILLFLOW_DATA_DIR. */
export function embeddedDataDir(config: Config): string {
  return path.join(config.dataDir, 'data');
}

export async function backupCommand(options: {
  config: Config;
  to: string;
  openDb: () => Promise<Db>;
  actor?: string;
}): Promise<number> {
  const { config } = options;
  if (config.databaseUrl) {
    console.error(`billflow: ${POSTGRES_BACKUP}`);
    return 1;
  }
  const dataDir = embeddedDataDir(config);
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    console.error(`billflow: there is no embedded database in ${dataDir} to back up (is BILLFLOW_DATA_DIR right?)`);
    return 1;
  }
  const file = path.resolve(options.to);
  try {
    const result = await executeAdminCommand({
      command: { command: 'backup', file, actor: options.actor },
      dataDir: config.dataDir,
      embedded: true,
      openDb: options.openDb,
      // The folder as it is: a backup taken before an upgrade must not be migrated first.
      migrate: false,
      onWaiting: () =>
        console.error(
          `billflow: another process holds the embedded database; waiting up to ${SERVER_WAIT_MS / 1000} s ` +
            'for its admin socket…',
        ),
    });
    console.log(formatAdminResult(result));
    return 0;
  } catch (error) {
    const message = error instanceof BackupError ? error.message : describeAdminError(error);
    if (message === null) throw error;
    console.error(`billflow: ${message}`);
    return 1;
  }
}

export async function restoreCommand(options: { config: Config; from: string; force: boolean }): Promise<number> {
  const { config } = options;
  if (config.databaseUrl) {
    console.error(`billflow: ${POSTGRES_RESTORE}`);
    return 1;
  }
  const archive = path.resolve(options.from);
  try {
    const info = await restoreBackup({ archive, dataDir: embeddedDataDir(config), force: options.force });
    console.log(
      `restored ${archive} into ${info.dataDir}${info.replaced ? ', replacing the database there' : ''}: ` +
        `schema ${pad(info.schemaVersion)}, ${info.runs} run${info.runs === 1 ? '' : 's'}`,
    );
    console.log('billflow start applies any newer migrations of this version when it opens it.');
    return 0;
  } catch (error) {
    if (!(error instanceof BackupError)) throw error;
    console.error(`billflow: ${error.message}`);
    return 1;
  }
}
