import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Db } from '../../src/db/types.ts';
import { createInvoice, createReceipt, formatDocumentNumber, recordPayment } from '../../src/billing/records/index.ts';
import { eachDatabase, freshDatabase } from '../helpers/databases.ts';
import { count, seedCustomer } from './helpers.ts';

function invoiceFor(db: Db, customerId: string, options: { fail?: boolean; providerId?: string } = {}) {
  return db.transaction(async (tx) => {
    const invoice = await createInvoice(tx, {
      customer_id: customerId,
      currency: 'USD',
      provider_invoice_id: options.providerId,
      lines: [{ description: 'Monthly plan', quantity: 1, unit_amount: 1200 }],
    });
    // A step that fails after its write: the whole transaction, number included, is undone.
    if (options.fail) throw new Error('step failed after writing');
    return invoice;
  });
}

const numbers = (n: number) => Array.from({ length: n }, (_, i) => formatDocumentNumber('invoice', i + 1));

eachDatabase((kind) => {
  test('invoice numbers are unique, gapless and increasing, even with concurrent and rolled-back writers', async () => {
    const { db } = await freshDatabase(kind);
    const customers = await Promise.all([seedCustomer(db), seedCustomer(db), seedCustomer(db)]);
    const attempts = Array.from({ length: 20 }, (_, i) =>
      invoiceFor(db, customers[i % 3]?.id as string, { fail: i % 5 === 4 }),
    );
    const settled = await Promise.allSettled(attempts);
    const created = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value.number] : []));
    assert.equal(created.length, 16);
    // Every committed invoice has its own number and no number was burnt by the rollbacks.
    assert.deepEqual([...created].sort(), numbers(16));
    assert.equal(await count(db, 'invoices'), 16);

    const next = await invoiceFor(db, customers[0]?.id as string);
    const after = await invoiceFor(db, customers[1]?.id as string);
    assert.equal(next.number, 'INV-000017');
    assert.equal(after.number, 'INV-000018');
    assert.ok(after.number > next.number);
  });

  test('the same provider invoice created concurrently is one invoice and uses one number', async () => {
    const { db } = await freshDatabase(kind);
    const customer = await seedCustomer(db);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => invoiceFor(db, customer.id, { providerId: 'in_same' })),
    );
    assert.equal(new Set(results.map((r) => r.id)).size, 1);
    assert.equal(results[0]?.number, 'INV-000001');
    assert.equal((await invoiceFor(db, customer.id)).number, 'INV-000002');
  });

  test('receipts: one per payment under concurrency, numbered without gaps', async () => {
    const { db } = await freshDatabase(kind);
    const customer = await seedCustomer(db);
    const payments = await Promise.all(
      Array.from({ length: 5 }, () =>
        recordPayment(db, { customer_id: customer.id, amount: 900, currency: 'USD', status: 'succeeded' }),
      ),
    );
    const receipts = await Promise.all(
      [...payments, ...payments, ...payments].map((p) => db.transaction((tx) => createReceipt(tx, p.id))),
    );
    assert.equal(new Set(receipts.map((r) => r.id)).size, 5);
    assert.deepEqual([...new Set(receipts.map((r) => r.number))].sort(), [
      'RCPT-000001',
      'RCPT-000002',
      'RCPT-000003',
      'RCPT-000004',
      'RCPT-000005',
    ]);
  });
});
