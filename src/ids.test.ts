import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from './ids.ts';

test('ids made in a row sort in the order they were made, and never repeat', () => {
  const ids = Array.from({ length: 5000 }, () => newId('run'));
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
  assert.match(ids[0] as string, /^run_[0-9a-f]{28}$/);
});
