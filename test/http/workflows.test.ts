import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  countRunsPerHour,
  createRegistry,
  createWorker,
  defineWorkflow,
  getRun,
  startWorkflow,
} from '../../src/engine/index.ts';
import type { AnyWorkflow, Worker } from '../../src/engine/index.ts';
import { createCustomer } from '../../src/billing/records/index.ts';
import { PermanentError } from '../../src/errors.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { apiHarness, json } from './resource-harness.ts';
import type { ApiHarness } from './resource-harness.ts';

interface Activity {
  from: string;
  to: string;
  items: { hour: string; status: string; count: number }[];
}
const fieldOf = (res: { json(): unknown }) => (res.json() as { errors?: { field: string }[] }).errors?.[0]?.field;

interface RunErrors {
  error: { name: string; message: string; retryable: boolean; stack?: string };
  steps: { name: string; error: { message: string; stack?: string } | null }[];
}

interface Page {
  items: { id: string; status: string; owner_ref: string | null; customer_email?: string | null }[];
  next_cursor: string | null;
}

eachDatabase((kind) => {
  describe('workflow routes', () => {
    let h: ApiHarness;
    let worker: Worker;
    // The one step of `test_flaky` fails for good while this is set; restarts succeed once cleared.
    let broken = true;
    const flaky = defineWorkflow<unknown>({
      type: 'test_flaky',
      steps: [
        { name: 'prepare', kind: 'db', run: async () => ({ ok: true }) },
        {
          name: 'flaky',
          kind: 'external',
          retry: { maxAttempts: 1 },
          async run({ input }) {
            // One attempt: either error fails the run at once; only the permanent one is left out
            // of bulk restarts unless asked.
            if (broken && (input as { permanent?: boolean }).permanent) throw new PermanentError('card declined');
            if (broken) throw new Error('the test endpoint is down');
            return { delivered: true };
          },
        },
      ],
    }) as AnyWorkflow;

    async function startFlaky(n: number, owner: string, subject = 'inv_0abc') {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const started = await startWorkflow(h.db, registryWithTest(), {
          type: 'test_flaky',
          input: {},
          ownerRef: owner,
          subjectRef: subject,
          now: h.clock.now(),
        });
        ids.push(started.runId);
      }
      for (const id of ids) await h.settle(id);
      return ids;
    }
    /** One test_flaky run created at `at` (in the past of the worker's clock), settled unless `runAt` is later. */
    async function startFlakyAt(at: string, options: { runAt?: Date; owner?: string } = {}) {
      const started = await startWorkflow(h.db, registryWithTest(), {
        type: 'test_flaky',
        input: {},
        ownerRef: options.owner,
        now: new Date(at),
        runAt: options.runAt,
      });
      if (!options.runAt) await h.settle(started.runId);
      return started.runId;
    }
    let combined: ReturnType<typeof createRegistry> | undefined;
    const registryWithTest = () => (combined ??= createRegistry([...h.registry.values(), flaky]));

    // Built while the suite is declared, so the harness's own clean-up belongs to the suite.
    const setup = apiHarness(kind, { startWorker: false });
    before(async () => {
      h = await setup;
      worker = createWorker(h.db, { registry: registryWithTest(), pollIntervalMs: 20, clock: h.clock.now });
      await worker.start();
    });
    after(() => worker.stop({ graceMs: 1000 }));

    it('lists the workflow types with their labels and predefined steps, from the registry', async () => {
      const res = await h.call('viewer', 'GET', '/workflow-types');
      assert.equal(res.statusCode, 200, res.body);
      const { items } = json<{ items: { type: string; label: string; steps: string[]; subject_prefix: string }[] }>(
        res,
      );
      assert.deepEqual(
        items.map((t) => t.type),
        [...h.registry.keys()],
      );
      for (const t of items) {
        assert.deepEqual(
          t.steps,
          h.registry.get(t.type)?.steps.map((s) => s.name),
        );
        assert.ok(t.label.length > 0 && t.label !== t.type, t.type);
      }
      assert.deepEqual(
        items.find((t) => t.type === 'chargeback_creation'),
        {
          type: 'chargeback_creation',
          label: 'Chargeback',
          steps: ['record_chargeback', 'update_stats', 'send_customer_email', 'send_internal_notice'],
          when_skipped: {},
          subject_prefix: 'cb',
        },
      );
      const refunds = items.find((t) => t.type === 'refund_creation') as { when_skipped?: Record<string, string> };
      assert.deepEqual(Object.keys(refunds.when_skipped ?? {}), ['execute_provider_refund']);
      assert.match(refunds.when_skipped?.execute_provider_refund ?? '', /recorded as not made \(cancelled\)/);
      assert.equal((await h.app.inject({ method: 'GET', url: '/api/v1/workflow-types' })).statusCode, 401);
    });

    it('lists runs keyset-paged with filters, counts them and shows one in full', async () => {
      broken = true;
      const mine = await startFlaky(23, 'cus_0paging');
      await startFlaky(2, 'cus_0other');
      for (const id of mine) assert.equal((await getRun(h.db, id)).status, 'failed');

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const q: string = `/workflows?customer_id=cus_0paging&limit=5${cursor ? `&cursor=${cursor}` : ''}`;
        const res = await h.call('account_manager', 'GET', q);
        assert.equal(res.statusCode, 200, res.body);
        const page = json<Page>(res);
        assert.ok(page.items.length <= 5);
        seen.push(...page.items.map((r) => r.id));
        for (const r of page.items) assert.equal(r.owner_ref, 'cus_0paging');
        cursor = page.next_cursor;
        pages++;
      } while (cursor);
      assert.equal(pages, 5);
      assert.equal(new Set(seen).size, seen.length, 'no duplicates');
      assert.deepEqual([...seen].sort(), [...mine].sort(), 'no gaps');

      const failed = json<Page>(
        await h.call('account_manager', 'GET', '/workflows?type=test_flaky&failed_step=flaky&limit=200'),
      );
      assert.equal(failed.items.length, 25);
      const none = json<Page>(await h.call('account_manager', 'GET', '/workflows?type=test_flaky&status=completed'));
      assert.equal(none.items.length, 0);
      const future = json<Page>(
        await h.call(
          'account_manager',
          'GET',
          `/workflows?created_after=${encodeURIComponent('2999-01-01T00:00:00Z')}`,
        ),
      );
      assert.equal(future.items.length, 0);

      const counts = json<{ items: { type: string; status: string; count: number }[] }>(
        await h.call('account_manager', 'GET', '/workflows/counts'),
      );
      assert.deepEqual(
        counts.items.filter((c) => c.type === 'test_flaky'),
        [{ type: 'test_flaky', status: 'failed', count: 25 }],
      );

      const detail = json<{
        id: string;
        status: string;
        failed_step: string;
        steps: {
          name: string;
          status: string;
          attempts: { error?: { message?: string } }[];
          idempotency_key: string;
        }[];
        links: Record<string, string>;
      }>(await h.call('account_manager', 'GET', `/workflows/${mine[0]}`));
      assert.equal(detail.status, 'failed');
      assert.equal(detail.failed_step, 'flaky');
      assert.deepEqual(
        detail.steps.map((s) => [s.name, s.status]),
        [
          ['prepare', 'completed'],
          ['flaky', 'failed'],
        ],
      );
      assert.equal(detail.steps[1]?.idempotency_key, `${mine[0]}:flaky`);
      assert.match(JSON.stringify(detail.steps[1]?.attempts), /the test endpoint is down/);
      assert.deepEqual(detail.links, {
        invoice: '/api/v1/invoices/inv_0abc',
        customer: '/api/v1/customers/cus_0paging',
      });
    });

    it('counts runs per UTC hour and status in [from, to), per type; refuses bad ranges naming the field', async () => {
      broken = true;
      for (const at of ['2025-06-01T10:05:00Z', '2025-06-01T10:59:59.999Z', '2025-06-01T12:30:00Z']) {
        await startFlakyAt(at);
      }
      broken = false;
      for (const at of ['2025-06-01T10:30:00Z', '2025-06-01T13:00:00Z']) await startFlakyAt(at);
      // Not due for a year: stays pending.
      await startFlakyAt('2025-06-01T12:00:00Z', { runAt: new Date('2027-01-01T00:00:00Z') });
      // Just outside the range on both sides (`to` is exclusive).
      await startFlakyAt('2025-06-01T09:59:59.999Z');
      await startFlakyAt('2025-06-01T14:00:00Z');

      const activity = async (qs: string) => {
        const res = await h.call('account_manager', 'GET', `/workflows/activity?${qs}`);
        assert.equal(res.statusCode, 200, res.body);
        return json<Activity>(res);
      };
      const range = `from=2025-06-01T10:00:00Z&to=2025-06-01T14:00:00Z`;
      const all = await activity(range);
      assert.equal(all.from, '2025-06-01T10:00:00.000Z');
      assert.equal(all.to, '2025-06-01T14:00:00.000Z');
      assert.deepEqual(all.items, [
        { hour: '2025-06-01T10:00:00.000Z', status: 'completed', count: 1 },
        { hour: '2025-06-01T10:00:00.000Z', status: 'failed', count: 2 },
        { hour: '2025-06-01T12:00:00.000Z', status: 'failed', count: 1 },
        { hour: '2025-06-01T12:00:00.000Z', status: 'pending', count: 1 },
        { hour: '2025-06-01T13:00:00.000Z', status: 'completed', count: 1 },
      ]);
      // Hours are cut in UTC even when the session's time zone is half an hour off.
      const inKolkata = await h.db.transaction(async (tx) => {
        await tx.query(`SET LOCAL TimeZone = 'Asia/Kolkata'`);
        return countRunsPerHour(tx, { from: new Date('2025-06-01T10:00:00Z'), to: new Date('2025-06-01T14:00:00Z') });
      });
      assert.deepEqual(
        inKolkata.map((i) => ({ hour: i.hour.toISOString(), status: i.status, count: i.count })),
        all.items,
      );
      assert.deepEqual((await activity(`${range}&type=test_flaky`)).items, all.items);
      assert.deepEqual((await activity(`${range}&type=payment_success`)).items, []);
      // Offsets are honoured; a from inside an hour counts only the runs from there on.
      const offset = await activity(
        `from=${encodeURIComponent('2025-06-01T12:30:00+02:00')}&to=${encodeURIComponent('2025-06-01T13:00:00+02:00')}`,
      );
      assert.deepEqual(offset.items, [
        { hour: '2025-06-01T10:00:00.000Z', status: 'completed', count: 1 },
        { hour: '2025-06-01T10:00:00.000Z', status: 'failed', count: 1 },
      ]);
      // Exactly 7 days is allowed (and includes the two runs outside the 4-hour range).
      const week = await activity('from=2025-06-01T00:00:00Z&to=2025-06-08T00:00:00Z');
      assert.equal(
        week.items.reduce((n, i) => n + i.count, 0),
        8,
      );

      const bad = async (qs: string, field: string) => {
        const res = await h.call('account_manager', 'GET', `/workflows/activity?${qs}`);
        assert.equal(res.statusCode, 400, `${qs}: ${res.body}`);
        assert.equal(fieldOf(res), field, qs);
      };
      await bad('from=2025-06-01T00:00:00Z&to=2025-06-08T00:00:00.001Z', 'to');
      await bad('from=2025-06-01T10:00:00Z&to=2025-06-01T10:00:00Z', 'to');
      await bad('from=2025-06-02T00:00:00Z&to=2025-06-01T00:00:00Z', 'to');
      await bad('to=2025-06-01T00:00:00Z', 'from');
      await bad('from=2025-06-01T00:00:00Z', 'to');
      await bad('from=yesterday&to=2025-06-01T00:00:00Z', 'from');
      await bad(`${range}&type=Bad%20Type`, 'type');
      assert.equal((await h.call('customer_support', 'GET', `/workflows/activity?${range}`)).statusCode, 403);
    });

    it("lists runs with their customer's email and filters by it; an unknown email is an empty page", async () => {
      const zoe = await createCustomer(h.db, { email: 'Zoe@Example.com' });
      const max = await createCustomer(h.db, { email: 'max@example.com' });
      broken = true;
      const zoeRuns = await startFlaky(3, zoe.id);
      const maxRuns = await startFlaky(1, max.id);
      const ghost = await startFlaky(1, 'cus_0ghost');

      const page = json<Page>(await h.call('account_manager', 'GET', '/workflows?type=test_flaky&limit=200'));
      const emailOf = new Map(page.items.map((r) => [r.id, r.customer_email]));
      for (const id of zoeRuns) assert.equal(emailOf.get(id), 'Zoe@Example.com');
      assert.equal(emailOf.get(maxRuns[0] as string), 'max@example.com');
      assert.equal(emailOf.get(ghost[0] as string), null, 'no customer with that id');
      assert.ok(
        page.items.every((r) => r.customer_email === null || r.owner_ref === zoe.id || r.owner_ref === max.id),
        'only runs of real customers carry an email',
      );

      const byEmail = async (qs: string) => {
        const res = await h.call('account_manager', 'GET', `/workflows?${qs}`);
        assert.equal(res.statusCode, 200, res.body);
        return json<Page>(res);
      };
      const found = await byEmail('customer_email=zoe%40EXAMPLE.com&limit=2');
      assert.equal(found.items.length, 2);
      assert.ok(found.next_cursor);
      const rest = await byEmail(`customer_email=zoe%40example.com&limit=2&cursor=${found.next_cursor}`);
      assert.deepEqual([...found.items, ...rest.items].map((r) => r.id).sort(), [...zoeRuns].sort());
      for (const r of [...found.items, ...rest.items]) assert.equal(r.customer_email, 'Zoe@Example.com');
      assert.deepEqual(await byEmail('customer_email=nobody%40example.com'), { items: [], next_cursor: null });
      assert.deepEqual(await byEmail(`customer_email=max%40example.com&customer_id=${zoe.id}`), {
        items: [],
        next_cursor: null,
      });
      assert.deepEqual(
        (await byEmail(`customer_email=max%40example.com&customer_id=${max.id}`)).items.map((r) => r.id),
        maxRuns,
      );
      // Part of an address is a search, not bad input.
      const partial = await byEmail('customer_email=ZO');
      assert.deepEqual(partial.items.map((r) => r.id).sort(), [...zoeRuns].sort());
      const badEmail = await h.call('account_manager', 'GET', `/workflows?customer_email=${'z'.repeat(255)}`);
      assert.equal(badEmail.statusCode, 400);
      assert.equal(fieldOf(badEmail), 'customer_email');
    });

    it("shows every role that may see a run its errors' messages; stack traces only to developers and admins", async () => {
      broken = true;
      const customer = await createCustomer(h.db, { email: 'stacks@example.com' });
      const [id] = await startFlaky(1, customer.id, 'inv_0stacks');
      assert.ok(id);
      // The stack is recorded (developers debug from it) and holds the server's file paths.
      const stored = (await getRun(h.db, id)).error as { stack?: string };
      assert.match(stored.stack ?? '', /workflows\.test\.ts/);
      const views = (role: 'viewer' | 'account_manager' | 'developer' | 'admin') => [
        { what: `${role} GET /workflows/:id`, res: h.call(role, 'GET', `/workflows/${id}`) },
        { what: `${role} GET /workflows`, res: h.call(role, 'GET', `/workflows?customer_id=${customer.id}`) },
        { what: `${role} GET /search`, res: h.call(role, 'GET', `/search?q=${id}`) },
        { what: `${role} GET /customers/:id`, res: h.call(role, 'GET', `/customers/${customer.id}`) },
        {
          what: `${role} bulk-restart dry run`,
          res: h.call(role, 'POST', '/workflows/bulk-restart', {
            filter: { customer_id: customer.id },
            dry_run: true,
            reason: 'look',
          }),
        },
      ];
      for (const role of ['viewer', 'account_manager', 'developer', 'admin'] as const) {
        for (const view of views(role)) {
          const res = await view.res;
          if (role === 'viewer' && !view.what.includes('/customers/') && !view.what.includes('/search')) {
            assert.equal(res.statusCode, 403, view.what);
            continue;
          }
          assert.equal(res.statusCode, 200, `${view.what}: ${res.body}`);
          const stacks = role === 'developer' || role === 'admin';
          assert.equal(/workflows\.test\.ts/.test(res.body), stacks, `${view.what}: file paths shown`);
          assert.equal(res.body.includes('"stack"'), stacks, `${view.what}: stack shown`);
        }
        const seen = await h.call(role === 'viewer' ? 'account_manager' : role, 'GET', `/workflows/${id}`);
        const detail: RunErrors = json<RunErrors>(seen);
        // The message, name and code stay for everyone allowed to see the run.
        assert.equal(detail.error.message, 'the test endpoint is down');
        assert.equal(detail.error.name, 'Error');
        assert.equal(detail.error.retryable, true);
        const step = detail.steps.find((s) => s.name === 'flaky');
        assert.equal(step?.error?.message, 'the test endpoint is down');
      }
    });

    it('refuses bad list input naming the field, unknown runs and too low roles', async () => {
      const bad = await h.call('account_manager', 'GET', '/workflows?status=broken');
      assert.equal(bad.statusCode, 400);
      assert.equal(json<{ errors: { field: string }[] }>(bad).errors[0]?.field, 'status');
      const cursor = await h.call(
        'account_manager',
        'GET',
        `/workflows?cursor=${Buffer.from('["x","y"]').toString('base64url')}`,
      );
      assert.equal(cursor.statusCode, 400);
      assert.equal(json<{ errors: { field: string }[] }>(cursor).errors[0]?.field, 'cursor');
      const limit = await h.call('account_manager', 'GET', '/workflows?limit=0');
      assert.equal(json<{ errors: { field: string }[] }>(limit).errors[0]?.field, 'limit');
      const missing = await h.call('account_manager', 'GET', '/workflows/run_0000000000000000000000000000');
      assert.equal(missing.statusCode, 404);
      assert.equal((await h.call('customer_support', 'GET', '/workflows')).statusCode, 403);
      assert.equal((await h.call('viewer', 'GET', '/workflows/counts')).statusCode, 403);
    });

    it('restarts, skips, cancels and runs now; audited with actor and reason; 409 with the current status', async () => {
      broken = true;
      const [a, b, c] = await startFlaky(3, 'cus_0actions');
      assert.ok(a && b && c);

      const noReason = await h.call('account_manager', 'POST', `/workflows/${a}/restart`, {});
      assert.equal(noReason.statusCode, 400);
      assert.equal(json<{ errors: { field: string }[] }>(noReason).errors[0]?.field, 'reason');
      const blank = await h.call('account_manager', 'POST', `/workflows/${a}/restart`, { reason: '   ' });
      assert.equal(blank.statusCode, 400);
      assert.equal(json<{ errors: { field: string }[] }>(blank).errors[0]?.field, 'reason');
      const refused = await h.call('customer_support', 'POST', `/workflows/${a}/restart`, { reason: 'try' });
      assert.equal(refused.statusCode, 403);
      assert.equal((await getRun(h.db, a)).status, 'failed', 'nothing changed on refusal');

      broken = false;
      const restarted = await h.call('account_manager', 'POST', `/workflows/${a}/restart`, {
        reason: 'endpoint fixed',
      });
      assert.equal(restarted.statusCode, 200, restarted.body);
      assert.deepEqual(
        { ...json<Record<string, unknown>>(restarted), detail: undefined },
        { run_id: a, action: 'restart', previous_status: 'failed', status: 'in_progress', detail: undefined },
      );
      assert.equal((await h.settle(a)).status, 'completed');
      // The run shows the restart (who, when, why) and the failed step's attempts count on after it.
      const shown = json<{
        steps: { name: string; attempts: { number: number; attempt: number; outcome: string }[] }[];
        events: { action: string; actor: string; actor_name: string; reason: string; created_at: string }[];
        audit: { actor_name: string; action: string }[];
      }>(await h.call('account_manager', 'GET', `/workflows/${a}`));
      const flakyStep = shown.steps.find((st) => st.name === 'flaky');
      assert.deepEqual(
        flakyStep?.attempts.map((at) => [at.number, at.outcome]),
        [
          [1, 'failed'],
          [2, 'completed'],
        ],
      );
      const restart = shown.events.find((e) => e.action === 'restart');
      assert.equal(restart?.reason, 'endpoint fixed');
      assert.equal(restart?.actor, `api_key:${h.keys.account_manager.id}`);
      assert.equal(restart?.actor_name, 'API key "test account_manager"');
      assert.deepEqual(
        shown.audit.map((e) => [e.action, e.actor_name]),
        [['workflow.restart', 'API key "test account_manager"']],
      );

      const again = await h.call('account_manager', 'POST', `/workflows/${a}/restart`, { reason: 'twice' });
      assert.equal(again.statusCode, 409);
      const problem = json<{ status: number; current_status: string; detail: string }>(again);
      assert.equal(problem.status, 409);
      assert.equal(problem.current_status, 'completed');
      assert.match(again.headers['content-type'] as string, /application\/problem\+json/);

      const skipped = await h.call('account_manager', 'POST', `/workflows/${b}/skip-step`, { reason: 'sent by hand' });
      assert.equal(skipped.statusCode, 200, skipped.body);
      assert.equal(json(skipped).status, 'completed');
      const run = await getRun(h.db, b);
      assert.equal(run.steps[1]?.status, 'skipped');
      assert.match(run.steps[1]?.note ?? '', /sent by hand/);

      const cancelled = await h.call('account_manager', 'POST', `/workflows/${c}/cancel`, { reason: 'duplicate' });
      assert.equal(cancelled.statusCode, 200);
      assert.equal((await getRun(h.db, c)).status, 'cancelled');
      const cancelAgain = await h.call('account_manager', 'POST', `/workflows/${c}/cancel`, { reason: 'again' });
      assert.equal(cancelAgain.statusCode, 409);
      assert.equal(json(cancelAgain).current_status, 'cancelled');

      const later = await startWorkflow(h.db, registryWithTest(), {
        type: 'test_flaky',
        input: {},
        runAt: new Date(h.clock.now().getTime() + 86_400_000),
        now: h.clock.now(),
      });
      const runNowRes = await h.call('account_manager', 'POST', `/workflows/${later.runId}/run-now`, {
        reason: 'do it now',
      });
      assert.equal(runNowRes.statusCode, 200, runNowRes.body);
      assert.equal((await h.settle(later.runId)).status, 'completed');

      const missing = await h.call('account_manager', 'POST', '/workflows/run_0000000000000000000000000000/cancel', {
        reason: 'x',
      });
      assert.equal(missing.statusCode, 404);

      const audit = await h.db.query<{ actor: string; action: string; target: string; reason: string }>(
        `SELECT actor, action, target, reason FROM audit_log WHERE target = ANY($1::text[]) ORDER BY id`,
        [[a, b, c, later.runId]],
      );
      const actor = `api_key:${h.keys.account_manager.id}`;
      assert.deepEqual(audit.rows, [
        { actor, action: 'workflow.restart', target: a, reason: 'endpoint fixed' },
        { actor, action: 'workflow.skip_step', target: b, reason: 'sent by hand' },
        { actor, action: 'workflow.cancel', target: c, reason: 'duplicate' },
        { actor, action: 'workflow.run_now', target: later.runId, reason: 'do it now' },
      ]);
      const detail = json<{ events: { action: string; actor: string; reason: string }[]; audit: { action: string }[] }>(
        await h.call('account_manager', 'GET', `/workflows/${a}`),
      );
      assert.deepEqual(
        detail.events.map((e) => [e.action, e.actor, e.reason]),
        [['restart', actor, 'endpoint fixed']],
      );
      assert.deepEqual(
        detail.audit.map((e) => e.action),
        ['workflow.restart'],
      );
    });

    it('two operators restarting the same run at once restart it once', async () => {
      broken = true;
      const [id] = await startFlaky(1, 'cus_0race');
      assert.ok(id);
      broken = false;
      const answers = await Promise.all(
        ['first', 'second'].map((reason) => h.call('account_manager', 'POST', `/workflows/${id}/restart`, { reason })),
      );
      assert.deepEqual(answers.map((r) => r.statusCode).sort(), [200, 409]);
      assert.equal((await h.settle(id)).status, 'completed');
      const events = (await getRun(h.db, id)).events.filter((e) => e.action === 'restart');
      assert.equal(events.length, 1);
      const audit = await h.db.query(`SELECT 1 FROM audit_log WHERE target = $1`, [id]);
      assert.equal(audit.rows.length, 1, 'only the restart that happened is audited');
    });

    it('bulk-restarts by filter: a dry run counts, a real one restarts every match to the end', async () => {
      broken = true;
      const runs = await startFlaky(6, 'cus_0bulk');
      const before = json<Page>(
        await h.call('account_manager', 'GET', '/workflows?type=test_flaky&status=failed&limit=200'),
      );
      const failedNow = before.items.length;
      assert.ok(failedNow >= 6);

      const badDate = await h.call('account_manager', 'POST', '/workflows/bulk-restart', {
        filter: { created_after: 'yesterday' },
        dry_run: true,
        reason: 'x',
      });
      assert.equal(badDate.statusCode, 400);
      assert.equal(json<{ errors: { field: string }[] }>(badDate).errors[0]?.field, 'filter.created_after');

      const dry = await h.call('account_manager', 'POST', '/workflows/bulk-restart', {
        filter: { type: 'test_flaky', failed_step: 'flaky' },
        dry_run: true,
        reason: 'count first',
      });
      assert.equal(dry.statusCode, 200, dry.body);
      const preview = json<{ matched: number; operation_id: null; runs: { id: string; status: string }[] }>(dry);
      assert.equal(preview.matched, failedNow);
      assert.equal(preview.operation_id, null);
      // The runs it would restart, newest first: the six just failed lead the list.
      assert.equal(preview.runs.length, Math.min(failedNow, 25));
      assert.ok(preview.runs.every((r) => r.status === 'failed'));
      assert.deepEqual(
        preview.runs
          .slice(0, 6)
          .map((r) => r.id)
          .sort(),
        [...runs].sort(),
      );
      for (const id of runs) assert.equal((await getRun(h.db, id)).status, 'failed', 'a dry run changes nothing');
      const ofCustomer = async (customer_id: string) =>
        json<{ matched: number }>(
          await h.call('account_manager', 'POST', '/workflows/bulk-restart', {
            filter: { type: 'test_flaky', customer_id },
            dry_run: true,
            reason: 'one customer',
          }),
        ).matched;
      assert.equal(await ofCustomer('cus_0bulk'), 6);
      assert.equal(await ofCustomer('cus_0nobody'), 0);

      broken = false;
      const real = await h.call('account_manager', 'POST', '/workflows/bulk-restart', {
        filter: { type: 'test_flaky', failed_step: 'flaky' },
        dry_run: false,
        reason: 'endpoint back',
        name: 'test outage',
      });
      assert.equal(real.statusCode, 200, real.body);
      const { matched, operation_id } = json<{ matched: number; operation_id: string }>(real);
      assert.equal(matched, failedNow);
      assert.match(operation_id, /^op_/);

      let op: Record<string, unknown> = {};
      const deadline = Date.now() + 20_000;
      do {
        op = json(await h.call('account_manager', 'GET', `/workflow-operations/${operation_id}`));
        if (op.status === 'completed' && op.completed === matched) break;
        await new Promise((r) => setTimeout(r, 25));
      } while (Date.now() < deadline);
      assert.equal(op.status, 'completed');
      assert.equal(op.processed, matched);
      assert.equal(op.restarted, matched);
      assert.equal(op.completed, matched);
      assert.equal(op.name, 'test outage');
      for (const id of runs) assert.equal((await getRun(h.db, id)).status, 'completed');

      const audit = await h.db.query<{ target: string | null; reason: string; details: unknown }>(
        `SELECT target, reason, details FROM audit_log WHERE action = 'workflow.bulk_restart' ORDER BY id`,
      );
      assert.equal(audit.rows.length, 1, 'the real one only: dry runs change nothing and are not audited');
      assert.equal(audit.rows[0]?.target, operation_id);
      assert.equal(audit.rows[0]?.reason, 'endpoint back');
      const unknown = await h.call('account_manager', 'GET', '/workflow-operations/op_00000000000000000000');
      assert.equal(unknown.statusCode, 404);
    });

    it('bulk restart leaves runs that failed permanently out unless include_permanent says so', async () => {
      broken = true;
      const owner = 'cus_0permanent';
      const outage = await startFlaky(2, owner);
      const declined: string[] = [];
      for (let i = 0; i < 3; i++) {
        const started = await startWorkflow(h.db, registryWithTest(), {
          type: 'test_flaky',
          input: { permanent: true },
          ownerRef: owner,
          now: h.clock.now(),
        });
        declined.push(started.runId);
      }
      for (const id of declined) await h.settle(id);
      const dryRun = async (filter: Record<string, unknown>) => {
        const res = await h.call('account_manager', 'POST', '/workflows/bulk-restart', {
          filter: { type: 'test_flaky', customer_id: owner, ...filter },
          dry_run: true,
          reason: 'look',
        });
        assert.equal(res.statusCode, 200, res.body);
        return json<{ matched: number; permanent_excluded: number; runs: { id: string }[] }>(res);
      };
      const left = await dryRun({});
      assert.equal(left.matched, 2);
      assert.equal(left.permanent_excluded, 3);
      assert.deepEqual(left.runs.map((r) => r.id).sort(), [...outage].sort());
      const all = await dryRun({ include_permanent: true });
      assert.equal(all.matched, 5);
      assert.equal(all.permanent_excluded, 0);
      const wrong = await h.call('account_manager', 'POST', '/workflows/bulk-restart', {
        filter: { include_permanent: 'yes' },
        dry_run: true,
        reason: 'x',
      });
      assert.equal(wrong.statusCode, 400);
      assert.equal(json<{ errors: { field: string }[] }>(wrong).errors[0]?.field, 'filter.include_permanent');

      broken = false;
      const real = await h.call('account_manager', 'POST', '/workflows/bulk-restart', {
        filter: { type: 'test_flaky', customer_id: owner },
        dry_run: false,
        reason: 'provider back',
      });
      const answer = json<{ matched: number; permanent_excluded: number; operation_id: string }>(real);
      assert.deepEqual([answer.matched, answer.permanent_excluded], [2, 3]);
      const items = await h.db.query<{ run_id: string }>(
        'SELECT run_id FROM workflow_operation_items WHERE operation_id = $1 ORDER BY run_id',
        [answer.operation_id],
      );
      assert.deepEqual(
        items.rows.map((r) => r.run_id),
        [...outage].sort(),
        'only the outage runs are in the operation',
      );
      // The workers restart the operation's runs a batch at a time.
      for (const id of outage) await h.settle(id, (r) => r.status === 'completed');
      for (const id of declined) assert.equal((await getRun(h.db, id)).status, 'failed');
    });
  });
});
