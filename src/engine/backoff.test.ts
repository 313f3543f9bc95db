import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { retryDelayMs } from './backoff.ts';
import { DEFAULT_RETRY } from './define.ts';

test('delays grow exponentially and stop at the cap', () => {
  const policy = { ...DEFAULT_RETRY, initialDelayMs: 100, factor: 2, maxDelayMs: 1000, jitter: 0 };
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(policy, n)),
    [100, 200, 400, 800, 1000, 1000],
  );
});

test('jitter only shortens a delay, by at most its share', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 10_000 }),
      fc.integer({ min: 1, max: 30 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.double({ min: 0, max: 0.9999, noNaN: true }),
      (initial, attempt, jitter, random) => {
        const policy = { ...DEFAULT_RETRY, initialDelayMs: initial, maxDelayMs: 60_000, jitter };
        const full = Math.min(60_000, initial * 2 ** (attempt - 1));
        const delay = retryDelayMs(policy, attempt, () => random);
        return delay <= Math.round(full) && delay >= Math.floor(full * (1 - jitter)) - 1;
      },
    ),
  );
});
