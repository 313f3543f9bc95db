import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getRun, restartRun } from '../../src/engine/index.ts';
import { ConflictError, InvalidInputError } from '../../src/errors.ts';
import { getInvoice, getPayment } from '../../src/billing/records/index.ts';
import { compareStats } from '../../src/billing/stats/index.ts';
import { startInvoice, startPayment } from '../../src/billing/workflows/index.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { pdfText } from '../notify/support/pdf-text.ts';
import { billingHarness } from './harness.ts';
import type { BillingHarness } from './harness.ts';
import { count, seedCustomer } from './helpers.ts';
import {
  assertCompleted,
  attempts,
  counters,
  driveRetries,
  mailsTo,
  rows,
  slackMentioning,
  step,
} from './workflow-support.ts';

// payment_success end to end through startPayment: record, receipt, stats, receipt email with
// its PDF, team notice; paying an invoice; idempotency; bad input; SMTP down and restart.

async function statsExact(h: BillingHarness) {
  const comparison = await compareStats(h.db);
  assert.deepEqual(comparison.differences, []);
}

eachDatabase((kind) => {
  const harness = billingHarness(kind);

  test('records the payment, numbers its receipt, counts revenue, mails the receipt PDF, tells the team', async () => {
    const h = await harness;
    const customer = await seedCustomer(h.db, { name: 'Grace Hopper' });
    const before = await counters(h.db, 'EUR');
    const started = await startPayment(
      h.db,
      h.registry,
      {
        customer_id: customer.id,
        amount: 4900,
        currency: 'eur',
        status: 'succeeded',
        provider_reference: `ext_${kind}_1`,
      },
      { idempotencyKey: `api:pay-${kind}`, now: h.clock.now() },
    );
    assert.equal(started.created, true);
    assert.match(started.record.id, /^pay_/);
    assert.equal(started.record.status, 'succeeded');
    assert.equal(started.record.currency, 'EUR');

    const run = await h.settle(started.runId);
    assertCompleted(run);
    assert.equal(run.type, 'payment_success');
    assert.equal(run.subject_ref, started.record.id);
    assert.equal(run.owner_ref, customer.id);
    assert.deepEqual(
      run.steps.map((s) => s.name),
      ['record_payment', 'generate_receipt', 'update_stats', 'send_customer_email', 'send_internal_notice'],
    );
    assert.ok(Object.values(attempts(run)).every((n) => n === 1));

    const receipts = await rows<{ id: string; number: string }>(
      h.db,
      'SELECT id, number FROM receipts WHERE payment_id = $1',
      [started.record.id],
    );
    assert.equal(receipts.length, 1);
    const receipt = receipts[0] as { id: string; number: string };
    assert.match(receipt.number, /^RCPT-\d{6}$/);
    assert.deepEqual(step(run, 'generate_receipt').output, { receipt_id: receipt.id, number: receipt.number });
    assert.deepEqual(step(run, 'update_stats').output, {
      counted: true,
      revenue: { amount: 4900, currency: 'EUR' },
      customer_status: 'new',
    });

    const after = await counters(h.db, 'EUR');
    const day = h.clock.now().toISOString().slice(0, 10);
    assert.equal((after[`revenue ${day}`] ?? 0) - (before[`revenue ${day}`] ?? 0), 4900);
    await statsExact(h);

    const [mail, ...more] = mailsTo(h, customer.email);
    assert.equal(more.length, 0);
    assert.ok(mail);
    assert.equal(mail.mail.subject, `Receipt ${receipt.number} for your payment of €49.00`);
    assert.match(mail.mail.text ?? '', /Hello Grace Hopper,/);
    assert.match(mail.mail.text ?? '', /€49\.00/);
    const pdf = mail.mail.attachments.find((a) => a.contentType === 'application/pdf');
    assert.ok(pdf, 'the receipt PDF is attached');
    assert.equal(pdf.filename, `${receipt.number}.pdf`);
    const text = pdfText(pdf.content);
    assert.match(text, new RegExp(receipt.number));
    assert.match(text, /Grace Hopper/);

    const slack = slackMentioning(h, 'Payment received');
    assert.ok(slack.some((t) => t.includes('€49.00') && t.includes('Grace Hopper')));
    assert.deepEqual(step(run, 'send_internal_notice').output, {
      event: 'payment_succeeded',
      in_app: 'sent',
      slack: 'sent 1',
      team_email: 'skipped',
    });

    // The same request again: the first record and run, nothing new written or sent.
    const again = await startPayment(
      h.db,
      h.registry,
      {
        customer_id: customer.id,
        amount: 4900,
        currency: 'EUR',
        status: 'succeeded',
        provider_reference: `ext_${kind}_1`,
      },
      { idempotencyKey: `api:pay-${kind}`, now: h.clock.now() },
    );
    assert.equal(again.created, false);
    assert.equal(again.runId, started.runId);
    assert.equal(again.record.id, started.record.id);
    // The same provider payment under another key (a second event for it): still the first run.
    const viaEvent = await startPayment(
      h.db,
      h.registry,
      {
        customer_id: customer.id,
        amount: 4900,
        currency: 'EUR',
        status: 'succeeded',
        provider_reference: `ext_${kind}_1`,
      },
      { idempotencyKey: `stripe:evt-${kind}`, now: h.clock.now() },
    );
    assert.equal(viaEvent.runId, started.runId);
    assert.equal(await count(h.db, `payments WHERE customer_id = '${customer.id}'`), 1);
  });

  test('bad input names the fields and writes nothing', async () => {
    const h = await harness;
    const runsBefore = await count(h.db, 'workflow_runs');
    const paymentsBefore = await count(h.db, 'payments');
    await assert.rejects(
      // Past the type system (a caller that does not check its own input): the run's start refuses it.
      startPayment(h.db, h.registry, {
        customer_id: 'nope',
        amount: 9.99,
        currency: 'USD',
        status: 'paid',
      } as unknown as Parameters<typeof startPayment>[2]),
      (error: unknown) => {
        assert.ok(error instanceof InvalidInputError);
        const fields = error.errors.map((e) => e.field).sort();
        assert.deepEqual(fields, ['amount', 'customer_id', 'status']);
        return true;
      },
    );
    // What a schema cannot say is checked once the shape is right: a currency nobody knows.
    await assert.rejects(
      startPayment(h.db, h.registry, {
        customer_id: 'cus_unknown1',
        amount: 100,
        currency: 'XXQ',
        status: 'succeeded',
      }),
      (error: unknown) => error instanceof InvalidInputError && error.errors[0]?.field === 'currency',
    );
    await assert.rejects(
      startPayment(h.db, h.registry, { customer_id: 'cus_unknown1', amount: 100, currency: 'EUR', status: 'failed' }),
      (error: unknown) => error instanceof InvalidInputError && error.errors[0]?.field === 'failure_code',
    );
    // A customer that does not exist is found inside the transaction: nothing is left behind.
    await assert.rejects(
      startPayment(h.db, h.registry, {
        customer_id: 'cus_unknown1',
        amount: 100,
        currency: 'EUR',
        status: 'succeeded',
      }),
      (error: unknown) => error instanceof InvalidInputError && error.errors[0]?.field === 'customer_id',
    );
    assert.equal(await count(h.db, 'workflow_runs'), runsBefore);
    assert.equal(await count(h.db, 'payments'), paymentsBefore);
  });

  test('a payment for an open invoice marks it paid and ends the invoice run early', async () => {
    const h = await harness;
    const customer = await seedCustomer(h.db);
    const invoice = await startInvoice(
      h.db,
      h.registry,
      { customer_id: customer.id, currency: 'USD', lines: [{ description: 'Consulting', amount: 12500, quantity: 2 }] },
      { now: h.clock.now() },
    );
    const waiting = await h.settle(invoice.runId, (r) => r.activity === 'waiting' || r.status !== 'in_progress');
    assert.equal(waiting.current_step, 'await_payment');
    const paid = await startPayment(
      h.db,
      h.registry,
      { customer_id: customer.id, invoice_id: invoice.record.id, amount: 25000, currency: 'USD', status: 'succeeded' },
      { now: h.clock.now() },
    );
    const paymentRun = await h.settle(paid.runId);
    assertCompleted(paymentRun);
    assert.deepEqual(step(paymentRun, 'record_payment').output, {
      payment_id: paid.record.id,
      customer_id: customer.id,
      amount: 25000,
      currency: 'USD',
      status: 'succeeded',
      invoice_id: invoice.record.id,
      retry_of: null,
      invoice_status: 'paid',
      woken_runs: [invoice.runId],
    });
    const invoiceRun = await h.settle(invoice.runId);
    assert.equal(invoiceRun.status, 'completed');
    assert.equal(invoiceRun.outcome, 'paid');
    assert.deepEqual(step(invoiceRun, 'await_payment').output, {
      status: 'paid',
      paid_at: h.clock.now().toISOString(),
      payment_id: paid.record.id,
    });
    assert.equal(step(invoiceRun, 'send_overdue_warning').status, 'skipped');
    assert.equal(step(invoiceRun, 'disable_customer').status, 'skipped');
    const stored = await getInvoice(h.db, invoice.record.id);
    assert.equal(stored.status, 'paid');
    assert.equal(stored.paid_by_payment_id, paid.record.id);
    // The receipt lists the invoice.
    const mail = mailsTo(h, customer.email).find((m) => m.mail.subject?.startsWith('Receipt'));
    const pdf = mail?.mail.attachments.find((a) => a.contentType === 'application/pdf');
    assert.ok(pdf);
    assert.match(pdfText(pdf.content), new RegExp(stored.number));
    await statsExact(h);
  });

  test('SMTP down: the run fails at send_customer_email; after a restart it completes, nothing before it repeats', async () => {
    const h = await harness;
    const customer = await seedCustomer(h.db);
    await h.smtp.stop();
    let smtpUp = false;
    try {
      const started = await startPayment(
        h.db,
        h.registry,
        { customer_id: customer.id, amount: 1500, currency: 'GBP', status: 'succeeded' },
        { now: h.clock.now() },
      );
      const failed = await driveRetries(h, started.runId);
      assert.equal(failed.status, 'failed');
      assert.equal(failed.failed_step, 'send_customer_email');
      assert.ok(step(failed, 'send_customer_email').attempts.length > 1, 'the email step was retried first');
      assert.equal(mailsTo(h, customer.email).length, 0);
      const statsBefore = await counters(h.db, 'GBP');
      const receiptsBefore = await count(h.db, 'receipts');

      await h.smtp.restart();
      smtpUp = true;
      await restartRun(h.db, { runId: started.runId, actor: 'user:ops', reason: 'SMTP is back', now: h.clock.now() });
      const run = await h.settle(started.runId);
      assertCompleted(run);
      const counts = attempts(run);
      assert.equal(counts.record_payment, 1);
      assert.equal(counts.generate_receipt, 1);
      assert.equal(counts.update_stats, 1);
      assert.equal(await count(h.db, 'receipts'), receiptsBefore);
      assert.deepEqual(await counters(h.db, 'GBP'), statsBefore);
      assert.equal(mailsTo(h, customer.email).length, 1);
      assert.equal((await getPayment(h.db, started.record.id)).status, 'succeeded');
      assert.equal((await getRun(h.db, started.runId)).events.filter((e) => e.action === 'restart').length, 1);
      await statsExact(h);
    } finally {
      if (!smtpUp) await h.smtp.restart();
    }
  });

  test('a payment for a paid invoice is recorded, the invoice is left as it is', async () => {
    const h = await harness;
    const customer = await seedCustomer(h.db);
    const invoice = await startInvoice(
      h.db,
      h.registry,
      { customer_id: customer.id, currency: 'USD', lines: [{ description: 'Setup', amount: 1000 }] },
      { now: h.clock.now() },
    );
    const first = await startPayment(
      h.db,
      h.registry,
      { customer_id: customer.id, invoice_id: invoice.record.id, amount: 1000, currency: 'USD', status: 'succeeded' },
      { now: h.clock.now() },
    );
    const second = await startPayment(
      h.db,
      h.registry,
      { customer_id: customer.id, invoice_id: invoice.record.id, amount: 1000, currency: 'USD', status: 'succeeded' },
      { now: h.clock.now() },
    );
    const run = await h.settle(second.runId);
    assertCompleted(run);
    assert.equal((step(run, 'record_payment').output as { invoice_status: string }).invoice_status, 'paid');
    assert.equal((await getInvoice(h.db, invoice.record.id)).paid_by_payment_id, first.record.id);
    await h.settle(first.runId);
    await h.settle(invoice.runId);
    await assert.rejects(
      startPayment(
        h.db,
        h.registry,
        { customer_id: customer.id, amount: 1000, currency: 'USD', status: 'failed', failure_code: 'x' },
        { idempotencyKey: `api:pay-${kind}` },
      ),
      ConflictError,
    );
  });
});
