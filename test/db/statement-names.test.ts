// A statement name stands for one SQL text on both databases: a second text under a name in use
// is refused the first time it runs, in or out of a transaction, and nothing of it runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eachDatabase, freshDatabase } from '../helpers/databases.ts';

eachDatabase((kind) => {
  test('a named statement runs again under its name; another text under that name is refused', async () => {
    const { db } = await freshDatabase(kind, { migrate: false });
    await db.query('CREATE TABLE named_probe (n int)');
    const insert = 'INSERT INTO named_probe (n) VALUES ($1) RETURNING n';
    for (const n of [1, 2]) {
      const { rows } = await db.query<{ n: number }>(insert, [n], { name: 'probe_insert' });
      assert.deepEqual(rows, [{ n }]);
    }
    await assert.rejects(
      db.query('INSERT INTO named_probe (n) VALUES ($1 + 100) RETURNING n', [3], { name: 'probe_insert' }),
      /the statement name probe_insert already stands for other SQL/,
    );
    await assert.rejects(
      db.transaction((tx) => tx.query('DELETE FROM named_probe WHERE n = $1', [1], { name: 'probe_insert' })),
      /the statement name probe_insert already stands for other SQL/,
    );
    const inTx = await db.transaction((tx) => tx.query<{ n: number }>(insert, [4], { name: 'probe_insert' }));
    assert.deepEqual(inTx.rows, [{ n: 4 }]);
    const { rows } = await db.query<{ n: number }>('SELECT n FROM named_probe ORDER BY n');
    assert.deepEqual(
      rows.map((r) => r.n),
      [1, 2, 4],
    );
  });
});
