// A request body is validated once: the start route's schema checks it, and the run's start takes
// it as checked (keeping the type's other rules); starts from code are still checked in full.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { billingRegistry } from '../../src/billing/workflows/index.ts';
import { createRegistry, getRun } from '../../src/engine/index.ts';
import type { AnyWorkflow } from '../../src/engine/index.ts';
import { createEmailTransport } from '../../src/notify/index.ts';
import { createSandboxProvider } from '../../src/providers/index.ts';
import { eachDatabase, freshDatabase, testClock } from '../helpers/databases.ts';
import { apiHarness } from './support.ts';

eachDatabase((kind) => {
  describe('workflow starts from the API', () => {
    test('parse the run input without a second schema check; a manual trigger checks it in full', async () => {
      // The registry the server runs, with each type's input parser recording how it was asked.
      const { db: probe } = await freshDatabase(kind);
      const clock = testClock(new Date('2026-03-01T10:00:00Z'));
      const notify = {
        email: createEmailTransport({ from: 'billing@example.com' }),
        fetch: globalThis.fetch,
        clock: clock.now,
      };
      const parses: { type: string; checked: boolean }[] = [];
      const provider = createSandboxProvider({ db: probe, now: clock.now });
      const real = billingRegistry({ db: probe, provider, notify });
      const registry = createRegistry(
        [...real.values()].map((definition): AnyWorkflow => {
          const parse = definition.parseInput;
          return parse
            ? {
                ...definition,
                parseInput(input, checked) {
                  parses.push({ type: definition.type, checked });
                  return parse(input, checked);
                },
              }
            : definition;
        }),
      );
      const h = await apiHarness(kind, { billing: { registry, provider, notify } });
      const call = async (url: string, payload: object) =>
        h.app.inject({ method: 'POST', url: `/api/v1${url}`, headers: h.apiKey('admin'), payload });

      const customer = await call('/customers', { email: 'checked@example.com', currency: 'EUR' });
      assert.equal(customer.statusCode, 201, customer.body);
      const customerId = customer.json<{ customer: { id: string } }>().customer.id;
      const paid = await call('/payments', {
        customer_id: customerId,
        amount: 700,
        currency: 'eur',
        status: 'succeeded',
      });
      assert.equal(paid.statusCode, 201, paid.body);
      assert.deepEqual(parses, [{ type: 'payment_success', checked: true }]);
      // What a schema cannot say still applies: the currency is upper-cased in the stored input.
      const run = await getRun(h.db, paid.json<{ workflow_run_id: string }>().workflow_run_id);
      assert.equal((run?.input as { currency: string }).currency, 'EUR');
      // ... and a rule between fields still refuses, naming the field, storing nothing.
      const runs = await h.db.query('SELECT count(*)::int AS n FROM workflow_runs');
      const failed = await call('/payments', {
        customer_id: customerId,
        amount: 700,
        currency: 'EUR',
        status: 'failed',
      });
      assert.equal(failed.statusCode, 400, failed.body);
      assert.equal(failed.json<{ errors: { field: string }[] }>().errors[0]?.field, 'failure_code');
      assert.deepEqual((await h.db.query('SELECT count(*)::int AS n FROM workflow_runs')).rows, runs.rows);

      parses.length = 0;
      const paymentId = paid.json<{ payment: { id: string } }>().payment.id;
      const again = await call('/workflows', {
        type: 'payment_success',
        subject_id: paymentId,
        reason: 'receipt lost',
      });
      assert.equal(again.statusCode, 201, again.body);
      assert.deepEqual(parses, [{ type: 'payment_success', checked: false }]);
      await h.app.close();
    });
  });
});
