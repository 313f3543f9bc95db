import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs, { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { openPglite } from '../../src/db/pglite.ts';

const run = promisify(execFile);

// Opens the embedded database on `dir` in a process of its own, runs `sql`, and reports the
// answer and that process's peak resident memory.
async function openInProcess(dir: string, sql: string): Promise<{ rows: unknown[]; peakMb: number }> {
  const script = `
    const { openPglite } = await import(${JSON.stringify(path.resolve('src/db/pglite.ts'))});
    const db = await openPglite(process.argv[1]);
    const { rows } = await db.query(process.argv[2]);
    await db.close();
    console.log(JSON.stringify({ rows, peakMb: Math.round(process.resourceUsage().maxRSS / 1024) }));`;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dir, sql]);
  return JSON.parse(stdout.trim().split('\n').pop() as string) as { rows: unknown[]; peakMb: number };
}

test('a new embedded database is created outside the process that opens it, and kept', async () => {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'billflow-embedded-')), 'data');
  try {
    const first = await openInProcess(dir, 'CREATE TABLE kept AS SELECT 42 AS n');
    // initdb alone peaks near 900 MB; done in a child, the opener stays far below that.
    assert.ok(first.peakMb < 600, `peak RSS of the opening process: ${first.peakMb} MB`);
    const again = await openInProcess(dir, 'SELECT n FROM kept');
    assert.deepEqual(again.rows, [{ n: 42 }]);
  } finally {
    rmSync(path.dirname(dir), { recursive: true, force: true });
  }
});

test('on a data folder every commit is flushed to disk, and a new folder is flushed whole', async (t) => {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'billflow-durable-')), 'data');
  // Watches the flushes PostgreSQL asks for (through fs, as the embedded database reaches the
  // disk) by the path of the file flushed.
  const flushed: string[] = [];
  const realFdatasync = fs.fdatasyncSync;
  const realFsync = fs.fsyncSync;
  const record = (fd: number) => flushed.push(readlinkSync(`/proc/self/fd/${fd}`));
  t.mock.method(fs, 'fdatasyncSync', (fd: number) => (record(fd), realFdatasync(fd)));
  t.mock.method(fs, 'fsyncSync', (fd: number) => (record(fd), realFsync(fd)));
  try {
    const db = await openPglite(dir);
    // initdb's files, each flushed once before the folder is used (PGlite's initdb does not).
    assert.ok(flushed.some((file) => file.endsWith(path.join('global', 'pg_control'))));
    assert.ok(
      flushed.some((file) => file.endsWith(path.join(path.sep, 'data'))),
      'the folder itself',
    );
    const { rows } = await db.query(
      `SELECT current_setting('fsync') AS fsync, current_setting('shared_buffers') AS shared_buffers,
              current_setting('wal_init_zero') AS wal_init_zero`,
    );
    // Durable, and the memory settings of docs/performance.md (change 12).
    assert.deepEqual(rows, [{ fsync: 'on', shared_buffers: '8MB', wal_init_zero: 'off' }]);

    await db.query('CREATE TABLE t (n int)');
    flushed.length = 0;
    for (let i = 0; i < 5; i++) await db.query('INSERT INTO t VALUES ($1)', [i]);
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO t VALUES (5)');
      await tx.query('INSERT INTO t VALUES (6)');
    });
    const walFlushes = flushed.filter((file) => file.includes(`${path.sep}pg_wal${path.sep}`));
    assert.equal(walFlushes.length, 6, `one log flush per commit: ${flushed.join(', ')}`);
    await db.close();
  } finally {
    rmSync(path.dirname(dir), { recursive: true, force: true });
  }
});
