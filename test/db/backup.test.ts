// Backups of the embedded database, in process: a backup taken while transactions keep committing
// holds each of them whole or not at all; a restore checks the file before it replaces anything.
// (PostgreSQL has no backup of Billflow's own: test/http/cli-backup.test.ts checks it says so.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BackupError, restoreBackup, writeBackup } from '../../src/db/backup.ts';
import { openDatabase } from '../../src/db/connect.ts';
import { migrate } from '../../src/db/migrate.ts';
import { freshDatabase, TEST_DATABASES } from '../helpers/databases.ts';

const TRANSACTIONS = 150;

test('a backup taken while transactions commit holds each one whole, and restores', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'billflow-backup-'));
  const source = path.join(root, 'source', 'data');
  const file = path.join(root, 'billflow.backup');
  try {
    const db = await openDatabase({ dataDir: source });
    let inBackup: number;
    try {
      await migrate(db);
      await db.exec('CREATE TABLE backup_pairs (tx int NOT NULL, half int NOT NULL)');
      let committed = 0;
      // Each transaction writes two rows, yielding between them so a copy taken inside one
      // would catch a single row. (A running server refusing a restore: test/http/cli-backup.test.ts.)
      const writer = (async () => {
        for (let tx = 1; tx <= TRANSACTIONS; tx++) {
          await db.transaction(async (q) => {
            await q.query('INSERT INTO backup_pairs VALUES ($1, 1)', [tx]);
            await new Promise((resolve) => setImmediate(resolve));
            await q.query('INSERT INTO backup_pairs VALUES ($1, 2)', [tx]);
          });
          committed = tx;
        }
      })();
      while (committed < 20) await new Promise((resolve) => setImmediate(resolve));
      const info = await writeBackup(db, file);
      inBackup = committed;
      await writer;
      assert.equal(info.file, file);
      assert.ok(info.bytes > 0);
      assert.ok(info.schemaVersion >= 21);
      assert.equal((await stat(file)).mode & 0o777, 0o600, 'readable by its owner only');
      assert.deepEqual(
        (await readdir(root)).filter((f) => f.includes('partial')),
        [],
        'no partial file left beside it',
      );
    } finally {
      await db.close();
    }

    const target = path.join(root, 'restored', 'data');
    const restored = await restoreBackup({ archive: file, dataDir: target, force: false });
    assert.equal(restored.replaced, false);
    assert.ok(!(await readdir(target)).includes('billflow.pid'), "the backup's pid file is not restored");
    assert.deepEqual(
      (await readdir(path.dirname(target))).filter((f) => f !== 'data'),
      [],
      'no temporary folder left',
    );
    const copy = await openDatabase({ dataDir: target });
    try {
      const { rows } = await copy.query<{ tx: number; halves: number }>(
        'SELECT tx, count(*)::int AS halves FROM backup_pairs GROUP BY tx ORDER BY tx',
      );
      assert.ok(rows.length >= 20, `at least the transactions committed before the backup (${rows.length})`);
      assert.ok(rows.length <= TRANSACTIONS);
      assert.deepEqual(
        rows.filter((r) => r.halves !== 2),
        [],
        'no transaction is in the copy by half',
      );
      // Every transaction up to the last one in the copy, none skipped.
      assert.equal(rows.at(-1)?.tx, rows.length);
      assert.ok(rows.length <= inBackup + 1, 'nothing committed after the backup returned');
      assert.deepEqual(await migrate(copy), [], 'the copy is fully migrated');
    } finally {
      await copy.close();
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('restore checks the file before it replaces anything, and replaces a database only when forced', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'billflow-restore-'));
  const target = path.join(root, 'state', 'data');
  const file = path.join(root, 'good.backup');
  try {
    const db = await openDatabase({ dataDir: target });
    try {
      await migrate(db);
      await db.exec(`CREATE TABLE restore_marker (v text); INSERT INTO restore_marker VALUES ('before')`);
      await writeBackup(db, file);
      await db.exec(`UPDATE restore_marker SET v = 'after'`);
    } finally {
      await db.close();
    }
    const marker = async () => {
      const d = await openDatabase({ dataDir: target });
      try {
        return (await d.query<{ v: string }>('SELECT v FROM restore_marker')).rows[0]?.v;
      } finally {
        await d.close();
      }
    };

    await assert.rejects(
      restoreBackup({ archive: file, dataDir: target, force: false }),
      (e: unknown) => e instanceof BackupError && /already holds a database; .*only with --force/.test(e.message),
    );
    const garbage = path.join(root, 'garbage.backup');
    await writeFile(garbage, 'not a backup at all');
    await assert.rejects(
      restoreBackup({ archive: garbage, dataDir: target, force: true }),
      (e: unknown) => e instanceof BackupError && e.message.startsWith(`${garbage} is not a usable backup`),
    );
    const truncated = path.join(root, 'truncated.backup');
    const whole = await readFile(file);
    await writeFile(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
    await assert.rejects(
      restoreBackup({ archive: truncated, dataDir: target, force: true }),
      (e: unknown) => e instanceof BackupError,
    );
    await assert.rejects(
      restoreBackup({ archive: path.join(root, 'missing.backup'), dataDir: target, force: true }),
      (e: unknown) => e instanceof BackupError && /cannot read .*missing\.backup: ENOENT/.test(e.message),
    );
    assert.equal(await marker(), 'after', 'refused restores changed nothing');
    assert.deepEqual((await readdir(path.dirname(target))).sort(), ['data'], 'and left no folder behind');

    const forced = await restoreBackup({ archive: file, dataDir: target, force: true });
    assert.equal(forced.replaced, true);
    assert.equal(await marker(), 'before');
    assert.ok(!existsSync(path.join(target, 'billflow.pid')));
    assert.deepEqual((await readdir(path.dirname(target))).sort(), ['data']);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('PostgreSQL has no backup of Billflow’s own', { skip: !TEST_DATABASES.includes('postgres') }, async () => {
  const { db } = await freshDatabase('postgres');
  await assert.rejects(
    writeBackup(db, path.join(tmpdir(), 'never-written.backup')),
    (e: unknown) => e instanceof BackupError && /pg_dump or PITR/.test(e.message),
  );
  assert.ok(!existsSync(path.join(tmpdir(), 'never-written.backup')));
});
