import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createRegistry,
  defineWorkflow,
  getRun,
  isSkippedOutput,
  skipFailedStep,
  startWorkflow,
} from '../../src/engine/index.ts';
import type { AnyWorkflow } from '../../src/engine/index.ts';
import { PermanentError } from '../../src/errors.ts';
import { eachDatabase, freshDatabase, testClock } from '../helpers/databases.ts';
import { callCounter, testWorker } from '../helpers/engine.ts';

// A skipped step leaves an explicit marker that later steps read; an error no retry can change
// (a bug, an SQL data error) fails its step at once, while a network failure is still retried.

eachDatabase((kind) => {
  test('a skipped step leaves a skipped marker as its output, which the next steps see', async () => {
    const { db } = await freshDatabase(kind);
    const seen: unknown[] = [];
    const flow = defineWorkflow({
      type: 'skippy',
      steps: [
        {
          name: 'provider_call',
          kind: 'external',
          run: async () => {
            throw new PermanentError('refused');
          },
        },
        {
          name: 'count',
          kind: 'db',
          run: async (ctx) => {
            seen.push(ctx.outputs.provider_call);
            return { skipped_before: isSkippedOutput(ctx.outputs.provider_call) };
          },
        },
      ],
    }) as AnyWorkflow;
    const worker = testWorker(db, [flow]);
    const { runId } = await startWorkflow(db, createRegistry([flow]), { type: 'skippy', input: {} });
    await worker.drain();
    await skipFailedStep(db, { runId, actor: 'user:ana', reason: ' done by hand ' });
    await worker.drain();
    const run = await getRun(db, runId);
    assert.equal(run.status, 'completed');
    const marker = { $skipped: true, reason: 'done by hand', actor: 'user:ana' };
    assert.deepEqual(run.steps[0]?.output, marker);
    assert.deepEqual(seen, [marker]);
    assert.deepEqual(run.steps[1]?.output, { skipped_before: true });
  });

  test('a TypeError or an SQL data error fails the step at once; a network failure is retried', async () => {
    const { db } = await freshDatabase(kind);
    const clock = testClock();
    const calls = callCounter();
    const failures: Record<string, () => Promise<unknown>> = {
      missing_output: async () => (undefined as unknown as { id: string }).id,
      bad_sql: () => db.query(`SELECT 'not a number'::int`),
      network: async () => {
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
        });
      },
    };
    const flows = Object.entries(failures).map(
      ([type, fail]) =>
        defineWorkflow({
          type,
          steps: [
            {
              name: 'step',
              kind: 'external',
              retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1, jitter: 0 },
              run: async () => {
                calls.hit(type);
                return fail();
              },
            },
          ],
        }) as AnyWorkflow,
    );
    const registry = createRegistry(flows);
    const worker = testWorker(db, flows, { clock: clock.now });
    const runs = new Map<string, string>();
    for (const type of Object.keys(failures)) {
      runs.set(type, (await startWorkflow(db, registry, { type, input: {}, now: clock.now() })).runId);
    }
    for (let i = 0; i < 4; i++) {
      await worker.drain();
      clock.advance(60_000);
    }
    for (const [type, runId] of runs) {
      const run = await getRun(db, runId);
      assert.equal(run.status, 'failed', type);
      assert.equal(run.steps[0]?.attempts.length, type === 'network' ? 3 : 1, type);
      assert.equal((run.error as { retryable: boolean }).retryable, type === 'network', type);
    }
  });
});
