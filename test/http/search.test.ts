import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { eachDatabase } from '../helpers/databases.ts';
import { apiHarness, json } from './resource-harness.ts';
import type { ApiHarness } from './resource-harness.ts';

interface RunItem {
  id: string;
  type: string;
  status: string;
  owner_ref: string | null;
  subject_ref: string | null;
  customer_email: string | null;
  failed_at?: string | null;
}
interface Search {
  query: string;
  match: string;
  runs: RunItem[];
  runs_visible: boolean;
  runs_next_cursor: string | null;
  runs_total: number;
  runs_total_capped: boolean;
  customers: { id: string; email: string; name: string | null }[];
  record: { kind: string; id: string; path: string } | null;
}
const fieldOf = (res: { json(): unknown }) => (res.json() as { errors?: { field: string }[] }).errors?.[0]?.field;

// The operator's ways in: a partial email in the run list, one search box for ids, emails and
// names, and the failed runs of every type sorted by when they failed.
eachDatabase((kind) => {
  describe('search and the failed-runs inbox', () => {
    let h: ApiHarness;
    const setup = apiHarness(kind);
    const customers: Record<string, string> = {};
    const subscriptions: Record<string, string> = {};
    const runs: Record<string, string> = {};
    before(async () => {
      h = await setup;
      const plan = await h.call('customer_support', 'POST', '/plans', {
        code: 'search-pro',
        name: 'Pro',
        amount: 900,
        currency: 'EUR',
        interval: 'month',
      });
      assert.equal(plan.statusCode, 201, plan.body);
      for (const [key, email, name] of [
        ['carl', 'Carl@Example.com', 'Carl Jung'],
        ['carla', 'carla@example.org', 'Carla Bruni'],
        ['ada', 'ada@example.com', 'Ada Lovelace'],
        // A wildcard in an address is a character like any other.
        ['under', 'c_rl@example.com', null],
      ] as const) {
        const c = await h.call('customer_support', 'POST', '/customers', { email, ...(name ? { name } : {}) });
        assert.equal(c.statusCode, 201, c.body);
        customers[key] = json<{ customer: { id: string } }>(c).customer.id;
        const s = await h.call('customer_support', 'POST', '/subscriptions', {
          customer_id: customers[key],
          plan_code: 'search-pro',
          payment_method: 'pm_card_ok',
        });
        assert.equal(s.statusCode, 201, s.body);
        const started = json<{ subscription: { id: string }; workflow_run_id: string }>(s);
        subscriptions[key] = started.subscription.id;
        runs[key] = started.workflow_run_id;
      }
    });

    const search = async (q: string, role: 'account_manager' | 'customer_support' = 'account_manager') => {
      const res = await h.call(role, 'GET', `/search?q=${encodeURIComponent(q)}`);
      assert.equal(res.statusCode, 200, res.body);
      return json<Search>(res);
    };

    it('the run list takes the start of an email: `carl` finds carl@… and carla@…, never a 400', async () => {
      const list = async (email: string) => {
        const res = await h.call('account_manager', 'GET', `/workflows?customer_email=${encodeURIComponent(email)}`);
        assert.equal(res.statusCode, 200, res.body);
        return json<{ items: RunItem[] }>(res).items;
      };
      assert.deepEqual((await list('carl')).map((r) => r.customer_email).sort(), [
        'Carl@Example.com',
        'carla@example.org',
      ]);
      assert.deepEqual(
        (await list('CARL@')).map((r) => r.id),
        [runs.carl],
      );
      assert.deepEqual(
        (await list('carl@example.com')).map((r) => r.id),
        [runs.carl],
      );
      assert.deepEqual(
        (await list('c_rl')).map((r) => r.id),
        [runs.under],
        '_ is not a wildcard',
      );
      assert.deepEqual(await list('nobody'), []);
      assert.deepEqual(await list('%'), [], '% is not a wildcard');
      // With customer_id as well: both must hold.
      const both = await h.call(
        'account_manager',
        'GET',
        `/workflows?customer_email=carl&customer_id=${customers.carla}`,
      );
      assert.deepEqual(
        json<{ items: RunItem[] }>(both).items.map((r) => r.id),
        [runs.carla],
      );
      const tooLong = await h.call('account_manager', 'GET', `/workflows?customer_email=${'a'.repeat(255)}`);
      assert.equal(tooLong.statusCode, 400);
      assert.equal(fieldOf(tooLong), 'customer_email');
    });

    it('one search box: run id, record id, customer id, partial email or name', async () => {
      const byRun = await search(`  ${runs.ada}  `);
      assert.equal(byRun.match, 'run');
      assert.deepEqual(
        byRun.runs.map((r) => r.id),
        [runs.ada],
      );
      assert.equal(byRun.runs[0]?.customer_email, 'ada@example.com');

      const bySubscription = await search(subscriptions.carla ?? '');
      assert.equal(bySubscription.match, 'record');
      assert.deepEqual(bySubscription.record, {
        kind: 'subscription',
        id: subscriptions.carla,
        path: `/api/v1/subscriptions/${subscriptions.carla}`,
      });
      assert.ok(bySubscription.runs.some((r) => r.id === runs.carla));
      assert.ok(bySubscription.runs.every((r) => r.subject_ref === subscriptions.carla));

      const byCustomer = await search(customers.ada ?? '');
      assert.equal(byCustomer.match, 'customer');
      assert.deepEqual(
        byCustomer.customers.map((c) => c.email),
        ['ada@example.com'],
      );
      assert.ok(byCustomer.runs.every((r) => r.owner_ref === customers.ada));

      const byEmail = await search('carl');
      assert.equal(byEmail.match, 'text');
      assert.deepEqual(
        byEmail.customers.map((c) => c.email),
        ['Carl@Example.com', 'carla@example.org'],
      );
      assert.deepEqual(byEmail.runs.map((r) => r.id).sort(), [runs.carl, runs.carla].sort());

      const byName = await search('ada love');
      assert.deepEqual(
        byName.customers.map((c) => c.id),
        [customers.ada],
      );
      assert.deepEqual(
        byName.runs.map((r) => r.id),
        [runs.ada],
      );

      const nothing = await search('zz-nobody');
      assert.deepEqual([nothing.customers, nothing.runs, nothing.record], [[], [], null]);
      const unknownRun = await search('run_0000000000000000000000000000');
      assert.deepEqual([unknownRun.match, unknownRun.runs], ['run', []]);

      // customer_support finds customers but not runs, which it may not see.
      const support = await search('carl', 'customer_support');
      assert.equal(support.customers.length, 2);
      assert.deepEqual([support.runs, support.runs_visible], [[], false]);

      for (const q of ['', '   ']) {
        const blank = await h.call('account_manager', 'GET', `/search?q=${encodeURIComponent(q)}`);
        assert.equal(blank.statusCode, 400, q);
        assert.equal(fieldOf(blank), 'q');
      }
      assert.equal((await h.call('viewer', 'GET', '/search?q=carl')).statusCode, 200);
    });

    it('failed runs of every type, newest or oldest failure first, keyset-paged', async () => {
      // Three failures at known times, of two types.
      const failures: [string, string, string][] = [
        [runs.carl ?? '', '2026-03-01T10:00:00Z', 'subscription_creation'],
        [runs.carla ?? '', '2026-03-01T12:00:00Z', 'subscription_creation'],
        [runs.ada ?? '', '2026-03-01T11:00:00Z', 'subscription_creation'],
      ];
      // Not running a step right now (done, or waiting for a retry), so nothing else writes the run.
      for (const [id] of failures) {
        await h.settle(id, (r) => r.status !== 'pending' && r.activity !== 'running' && r.activity !== 'queued');
      }
      for (const [id, at] of failures) {
        await h.db.query(
          `UPDATE workflow_runs SET status = 'failed', failed_at = $2, failed_step = 'send_customer_email' WHERE id = $1`,
          [id, at],
        );
      }
      const page = async (sort: string, cursor?: string) => {
        const res = await h.call(
          'account_manager',
          'GET',
          `/workflows?status=failed&sort=${sort}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        );
        assert.equal(res.statusCode, 200, res.body);
        return json<{ items: RunItem[]; next_cursor: string | null }>(res);
      };
      const first = await page('failed_desc');
      assert.deepEqual(
        first.items.map((r) => r.id),
        [runs.carla, runs.ada],
      );
      const second = await page('failed_desc', first.next_cursor ?? '');
      assert.deepEqual(
        second.items.map((r) => r.id),
        [runs.carl],
      );
      assert.equal(second.next_cursor, null);
      // Each shows the failure time it is sorted by.
      assert.deepEqual(
        [...first.items, ...second.items].map((r) => r.failed_at),
        ['2026-03-01T12:00:00Z', '2026-03-01T11:00:00Z', '2026-03-01T10:00:00Z'].map((at) =>
          new Date(at).toISOString(),
        ),
      );
      const all = json<{ items: RunItem[] }>(await h.call('account_manager', 'GET', '/workflows?limit=200')).items;
      assert.ok(all.some((r) => r.status !== 'failed'));
      for (const r of all) if (r.status !== 'failed') assert.equal(r.failed_at, null, `${r.id} is not failed`);
      const oldest = await page('failed_asc');
      assert.deepEqual(
        oldest.items.map((r) => r.id),
        [runs.carl, runs.ada],
      );
      const counts = json<{ items: { type: string; status: string; count: number }[] }>(
        await h.call('account_manager', 'GET', '/workflows/counts'),
      );
      assert.equal(
        counts.items.filter((c) => c.status === 'failed').reduce((n, c) => n + c.count, 0),
        3,
        'the inbox total',
      );
      const needsFailed = await h.call('account_manager', 'GET', '/workflows?sort=failed_desc');
      assert.equal(needsFailed.statusCode, 400);
      assert.equal(fieldOf(needsFailed), 'sort');
      const badSort = await h.call('account_manager', 'GET', '/workflows?sort=sideways');
      assert.equal(badSort.statusCode, 400);
      assert.equal(fieldOf(badSort), 'sort');
    });

    it('search pages its runs beyond the first page: keyset cursor, total, sort and page size', async () => {
      const carl = customers.carl ?? '';
      for (let i = 0; i < 7; i++) {
        const paid = await h.call('customer_support', 'POST', '/payments', {
          customer_id: carl,
          amount: 100 + i,
          currency: 'EUR',
          status: 'succeeded',
        });
        assert.equal(paid.statusCode, 201, paid.body);
      }
      const stored = async (direction: 'DESC' | 'ASC') =>
        (
          await h.db.query<{ id: string }>(
            `SELECT id FROM workflow_runs WHERE owner_ref = $1 ORDER BY created_at ${direction}, id ${direction}`,
            [carl],
          )
        ).rows.map((r) => r.id);
      const expected = await stored('DESC');
      assert.equal(expected.length, 8);
      const walk = async (sort: string) => {
        const seen: string[] = [];
        const sizes: number[] = [];
        let cursor: string | null = null;
        do {
          const url: string = `/search?q=${carl}&limit=3&sort=${sort}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
          const res = await h.call('account_manager', 'GET', url);
          assert.equal(res.statusCode, 200, res.body);
          const body = json<Search>(res);
          assert.equal(body.runs_total, 8);
          assert.equal(body.runs_total_capped, false);
          seen.push(...body.runs.map((r) => r.id));
          sizes.push(body.runs.length);
          cursor = body.runs_next_cursor;
        } while (cursor);
        return { seen, sizes };
      };
      const newest = await walk('created_desc');
      assert.deepEqual(newest.seen, expected);
      assert.deepEqual(newest.sizes, [3, 3, 2]);
      const oldest = await walk('created_asc');
      assert.deepEqual(oldest.seen, await stored('ASC'));

      const badSort = await h.call('account_manager', 'GET', `/search?q=${carl}&sort=failed_desc`);
      assert.equal(badSort.statusCode, 400);
      assert.equal(fieldOf(badSort), 'sort');
      const badCursor = await h.call('account_manager', 'GET', `/search?q=${carl}&cursor=bm9wZQ`);
      assert.equal(badCursor.statusCode, 400);
      assert.equal(fieldOf(badCursor), 'cursor');
      const support = await search(carl, 'customer_support');
      assert.equal(support.runs_visible, false);
      assert.deepEqual([support.runs.length, support.runs_total, support.runs_next_cursor], [0, 0, null]);
    });
  });
});
