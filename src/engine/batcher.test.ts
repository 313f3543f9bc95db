import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBatcher } from './batcher.ts';

test('callers of one tick share a write; later callers wait for the next one', async () => {
  const writes: number[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const batcher = createBatcher<number, number>(
    async (items) => {
      writes.push(items);
      if (writes.length === 1) await gate;
      return new Map(items.map((i) => [i, i * 10]));
    },
    { maxBatch: 100, maxInFlight: 1 },
  );
  const first = [1, 2, 3].map((i) => batcher.add(i));
  await new Promise((r) => setImmediate(r));
  const second = [4, 5].map((i) => batcher.add(i));
  release();
  assert.deepEqual(await Promise.all([...first, ...second]), [10, 20, 30, 40, 50]);
  assert.deepEqual(writes, [
    [1, 2, 3],
    [4, 5],
  ]);
});

test('a failed write rejects only the callers in that batch', async () => {
  let calls = 0;
  const batcher = createBatcher<string, string>(
    async (items) => {
      calls++;
      if (calls === 1) throw new Error('connection lost');
      return new Map(items.map((i) => [i, i.toUpperCase()]));
    },
    { maxBatch: 2, maxInFlight: 1 },
  );
  const results = await Promise.allSettled(['a', 'b', 'c'].map((i) => batcher.add(i)));
  assert.equal(results[0]?.status, 'rejected');
  assert.equal(results[1]?.status, 'rejected');
  assert.deepEqual(results[2], { status: 'fulfilled', value: 'C' });
});
