// Two Stripe events about one unknown customer, handled at the same moment on PostgreSQL: the
// one without the name creates the customer, the one with it meets the insert and must still
// leave the name on the customer. (The embedded database runs one transaction at a time.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveCustomer } from '../../src/billing/inbound/index.ts';
import { findCustomerByProviderId } from '../../src/billing/records/index.ts';
import { TEST_DATABASES, freshDatabase } from '../helpers/databases.ts';

test(
  'PostgreSQL: the event that carries the name loses the race to create the customer, and the name stays',
  { skip: TEST_DATABASES.includes('postgres') ? false : 'needs PostgreSQL' },
  async () => {
    const { db } = await freshDatabase('postgres');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let inserted!: () => void;
    const insertedNow = new Promise<void>((resolve) => (inserted = resolve));
    // The first event's transaction creates the customer without a name and stays open.
    const first = db.transaction(async (tx) => {
      const r = await resolveCustomer(tx, {
        providerId: 'cus_race',
        email: 'ada@example.com',
        name: null,
        billflowId: null,
      });
      inserted();
      await held;
      return r;
    });
    await insertedNow;
    // The second one finds nothing committed yet, so it inserts too and waits on the first.
    const second = db.transaction((tx) =>
      resolveCustomer(tx, { providerId: 'cus_race', email: 'ada@example.com', name: 'Ada Lovelace', billflowId: null }),
    );
    // Let the first commit only once the second is blocked on its insert.
    for (let i = 0; ; i++) {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE wait_event_type = 'Lock' AND datname = current_database() AND query LIKE 'INSERT INTO customers%'`,
      );
      if ((rows[0]?.n ?? 0) > 0) break;
      assert.ok(i < 500, 'the second event never reached its insert');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    release();
    await Promise.all([first, second]);
    const customer = await findCustomerByProviderId(db, 'cus_race');
    assert.equal(customer?.name, 'Ada Lovelace');
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM customers`);
    assert.equal(rows[0]?.n, 1);
  },
);
