// A starter that already validated the input says so, and the definition's parser is told.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRegistry, defineWorkflow, startWorkflow } from '../../src/engine/index.ts';
import { eachDatabase, freshDatabase } from '../helpers/databases.ts';

const told: boolean[] = [];
const registry = createRegistry([
  defineWorkflow<{ n: number }>({
    type: 'counted',
    parseInput(input, checked) {
      told.push(checked);
      return input as { n: number };
    },
    steps: [{ name: 'noop', kind: 'external', run: async () => null }],
  }),
]);

eachDatabase((kind) => {
  test('parseInput learns whether the starter already checked the input (only a true inputChecked counts)', async () => {
    const { db } = await freshDatabase(kind);
    told.length = 0;
    await startWorkflow(db, registry, { type: 'counted', input: { n: 1 }, inputChecked: true });
    await startWorkflow(db, registry, { type: 'counted', input: { n: 2 } });
    await startWorkflow(db, registry, { type: 'counted', input: { n: 3 }, inputChecked: false });
    assert.deepEqual(told, [true, false, false]);
  });
});
