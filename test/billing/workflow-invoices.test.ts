import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getRun, restartRun } from '../../src/engine/index.ts';
import type { RunDetail } from '../../src/engine/index.ts';
import { ConflictError, InvalidInputError } from '../../src/errors.ts';
import { listNotifications } from '../../src/notify/index.ts';
import { getCustomer, getInvoice } from '../../src/billing/records/index.ts';
import { compareStats } from '../../src/billing/stats/index.ts';
import { chargeInvoice, payInvoice, startInvoice } from '../../src/billing/workflows/index.ts';
import { eachDatabase } from '../helpers/databases.ts';
import { startStripeStandIn } from '../helpers/stripe-stand-in.ts';
import { pageCount, pdfText } from '../notify/support/pdf-text.ts';
import { billingHarness } from './harness.ts';
import type { BillingHarness } from './harness.ts';
import { count, seedCustomer } from './helpers.ts';
import {
  assertCompleted,
  attempts,
  driveRetries,
  mailsTo,
  rows,
  slackMentioning,
  step,
  switchableProvider,
} from './workflow-support.ts';
import type { SwitchableProvider } from './workflow-support.ts';

// invoice_creation end to end through startInvoice: PDF, email with the PDF, team notice, the
// durable wait until paid or due; paying by mark-paid or by charge ends the run at once; unpaid
// → overdue warning at the due date, customer disabled after the grace period.

const DAY = 86_400_000;
const standIn = await startStripeStandIn();

async function statsExact(h: BillingHarness) {
  const comparison = await compareStats(h.db);
  assert.deepEqual(comparison.differences, []);
}

function waitingAt(h: BillingHarness, runId: string, stepName: string): Promise<RunDetail> {
  return h.settle(
    runId,
    (r) => r.status !== 'in_progress' || (r.activity === 'waiting' && r.current_step === stepName),
  );
}

eachDatabase((kind) => {
  let switchable: SwitchableProvider | undefined;
  const harness = billingHarness(kind, {
    provider: (db, now) => (switchable = switchableProvider(standIn, db, now)).provider,
  });
  const setup = async (provider: 'sandbox' | 'stripe' = 'sandbox') => {
    const h = await harness;
    switchable?.use(provider);
    standIn.clearFaults();
    return h;
  };
  const invoiceFor = (h: BillingHarness, customerId: string, extra: Record<string, unknown> = {}, key?: string) =>
    startInvoice(
      h.db,
      h.registry,
      {
        customer_id: customerId,
        currency: 'EUR',
        lines: [
          { description: 'Pro plan, January', amount: 4900 },
          { description: 'Extra seats', amount: 1000, quantity: 3 },
        ],
        due_at: new Date(h.clock.now().getTime() + 10 * DAY).toISOString(),
        ...extra,
      },
      { now: h.clock.now(), ...(key && { idempotencyKey: key }) },
    );

  test('records the invoice, mails its PDF, tells the team, waits; mark-paid ends the run at once', async () => {
    const h = await setup();
    const customer = await seedCustomer(h.db, { name: 'Ada Lovelace' });
    const started = await invoiceFor(h, customer.id, {}, `api:inv-${kind}`);
    assert.equal(started.created, true);
    assert.match(started.record.id, /^inv_/);
    assert.equal(started.record.total, 7900);
    assert.deepEqual(
      started.record.lines.map((l) => [l.description, l.quantity, l.unit_amount, l.amount]),
      [
        ['Pro plan, January', 1, 4900, 4900],
        ['Extra seats', 3, 1000, 3000],
      ],
    );
    const again = await invoiceFor(h, customer.id, {}, `api:inv-${kind}`);
    assert.equal(again.created, false);
    assert.equal(again.record.id, started.record.id);

    let run = await waitingAt(h, started.runId, 'await_payment');
    assert.equal(run.status, 'in_progress');
    assert.equal(new Date(run.activity_until as Date).getTime(), started.record.due_at.getTime());
    assert.deepEqual(
      run.steps.map((s) => s.name),
      [
        'record_invoice',
        'render_invoice_pdf',
        'send_customer_email',
        'send_internal_notice',
        'await_payment',
        'send_overdue_warning',
        'await_grace_period',
        'disable_customer',
      ],
    );
    const rendered = step(run, 'render_invoice_pdf').output as { number: string; pages: number; bytes: number };
    assert.equal(rendered.number, started.record.number);
    assert.equal(rendered.pages, 1);
    assert.ok(rendered.bytes > 1000);

    const [mail, ...more] = mailsTo(h, customer.email);
    assert.equal(more.length, 0);
    assert.ok(mail);
    assert.equal(mail.mail.subject, `Invoice ${started.record.number}: €79.00 due January 15, 2026`);
    assert.match(mail.mail.text ?? '', /Hello Ada Lovelace,/);
    const pdf = mail.mail.attachments.find((a) => a.contentType === 'application/pdf');
    assert.ok(pdf, 'the invoice PDF is attached');
    assert.equal(pdf.filename, `${started.record.number}.pdf`);
    assert.equal(pageCount(pdf.content), 1);
    const text = pdfText(pdf.content);
    assert.match(text, new RegExp(started.record.number));
    assert.match(text, /Extra seats/);
    assert.ok(slackMentioning(h, started.record.number).some((t) => t.includes('€79.00')));

    const paid = await payInvoice(h.db, started.record.id, {
      now: h.clock.now(),
      note: 'bank transfer 2026-01-05',
      actor: 'user:finance',
    });
    assert.equal(paid.record.status, 'paid');
    assert.deepEqual(paid.wokenRunIds, [started.runId]);
    run = await h.settle(started.runId);
    assert.equal(run.status, 'completed');
    assert.equal(run.outcome, 'paid');
    assert.deepEqual(step(run, 'await_payment').output, {
      status: 'paid',
      paid_at: h.clock.now().toISOString(),
      payment_id: null,
    });
    for (const name of ['send_overdue_warning', 'await_grace_period', 'disable_customer']) {
      assert.equal(step(run, name).status, 'skipped');
    }
    const wake = run.events.find((e) => e.action === 'wake');
    assert.equal(wake?.actor, 'user:finance');
    assert.equal(wake?.reason, 'marked paid: bank transfer 2026-01-05');
    await assert.rejects(payInvoice(h.db, started.record.id, { now: h.clock.now() }), (error: unknown) => {
      assert.ok(error instanceof ConflictError);
      assert.deepEqual(error.details, { status: 'paid' });
      return true;
    });
    await statsExact(h);
  });

  test('charging the invoice pays it and ends its run; a repeated request charges once', async () => {
    const h = await setup();
    const customer = await seedCustomer(h.db);
    const invoice = await invoiceFor(h, customer.id);
    await waitingAt(h, invoice.runId, 'await_payment');
    const options = { payment_method: 'pm_card_ok', idempotencyKey: `api:charge-${kind}`, now: h.clock.now() };
    const charged = await chargeInvoice(
      h.db,
      { registry: h.registry, provider: h.provider },
      invoice.record.id,
      options,
    );
    assert.equal(charged.created, true);
    assert.equal(charged.record.status, 'succeeded');
    assert.equal(charged.record.amount, 7900);
    assert.equal(charged.record.invoice_id, invoice.record.id);
    assertCompleted(await h.settle(charged.runId));
    const run = await h.settle(invoice.runId);
    assert.equal(run.outcome, 'paid');
    assert.equal((step(run, 'await_payment').output as { payment_id: string }).payment_id, charged.record.id);
    assert.equal((await getInvoice(h.db, invoice.record.id)).status, 'paid');

    const repeated = await chargeInvoice(
      h.db,
      { registry: h.registry, provider: h.provider },
      invoice.record.id,
      options,
    );
    assert.equal(repeated.created, false);
    assert.equal(repeated.record.id, charged.record.id);
    assert.equal(repeated.runId, charged.runId);
    const charges = await rows<{ idempotency_key: string }>(
      h.db,
      'SELECT idempotency_key FROM provider_sandbox_charges WHERE idempotency_key LIKE $1',
      [`invoice:${invoice.record.id}:%`],
    );
    assert.deepEqual(
      charges.map((c) => c.idempotency_key),
      [`invoice:${invoice.record.id}:charge:api:charge-${kind}`],
    );
    await assert.rejects(
      chargeInvoice(h.db, { registry: h.registry, provider: h.provider }, invoice.record.id, {
        ...options,
        idempotencyKey: `api:charge-again-${kind}`,
      }),
      (error: unknown) => error instanceof ConflictError && error.details.status === 'paid',
    );
    // No payment method given and none on file: nothing to charge, the field is named.
    const unpaid = await invoiceFor(h, customer.id);
    await assert.rejects(
      chargeInvoice(h.db, { registry: h.registry, provider: h.provider }, unpaid.record.id, {}),
      (error: unknown) => error instanceof InvalidInputError && error.errors[0]?.field === 'payment_method',
    );
    await statsExact(h);
  });

  test('a declined charge (Stripe stand-in) starts payment_failure; the invoice stays open', async () => {
    const h = await setup('stripe');
    const customer = await seedCustomer(h.db);
    const invoice = await invoiceFor(h, customer.id);
    await waitingAt(h, invoice.runId, 'await_payment');
    const declined = await chargeInvoice(h.db, { registry: h.registry, provider: h.provider }, invoice.record.id, {
      payment_method: 'pm_card_chargeDeclinedInsufficientFunds',
      idempotencyKey: `api:decline-${kind}`,
      now: h.clock.now(),
    });
    assert.equal(declined.record.status, 'failed');
    assert.equal(declined.record.failure_code, 'insufficient_funds');
    assert.match(declined.record.provider_reference ?? '', /^pi_/);
    const failure = await getRun(h.db, declined.runId);
    assert.equal(failure.type, 'payment_failure');
    const intents = standIn
      .handled('POST', '/v1/payment_intents')
      .filter((r) => r.idempotencyKey === `invoice:${invoice.record.id}:charge:api:decline-${kind}`);
    assert.equal(intents.length, 1);
    assert.equal((await getInvoice(h.db, invoice.record.id)).status, 'open');
    // Dunning takes over; the invoice is then paid another way: its run ends, and so does dunning.
    const dunning = await h.settle(
      declined.runId,
      (r) => r.activity === 'waiting' && r.current_step === 'retry_payment',
    );
    assert.equal(dunning.status, 'in_progress');
    assert.equal((await getRun(h.db, invoice.runId)).current_step, 'await_payment');
    await payInvoice(h.db, invoice.record.id, { now: h.clock.now() });
    assert.equal((await h.settle(invoice.runId)).outcome, 'paid');
    h.clock.advance(DAY);
    const settled = await h.settle(declined.runId);
    assert.equal(settled.outcome, 'settled');
    assert.equal(
      (step(settled, 'retry_payment').output as { reason: string }).reason,
      `invoice ${invoice.record.number} is paid`,
    );
    assert.equal(
      standIn.handled('POST', '/v1/payment_intents').filter((r) => r.idempotencyKey?.startsWith(declined.runId)).length,
      0,
    );
    await statsExact(h);
  });

  test('unpaid: an overdue warning at the due date, the customer disabled after the grace period', async () => {
    const h = await setup();
    const customer = await seedCustomer(h.db, { name: 'Unpaid Ltd' });
    const invoice = await invoiceFor(h, customer.id);
    const due = invoice.record.due_at;
    await waitingAt(h, invoice.runId, 'await_payment');
    h.clock.set(due);
    let run = await waitingAt(h, invoice.runId, 'await_grace_period');
    const graceEnd = new Date(due.getTime() + 30 * DAY);
    assert.equal(new Date(run.activity_until as Date).getTime(), graceEnd.getTime());
    assert.deepEqual(step(run, 'await_payment').output, {
      status: 'open',
      waited_until: due.toISOString(),
      next: 'send_overdue_warning',
    });
    const overdue = mailsTo(h, customer.email).find((m) => m.mail.subject?.includes('overdue'));
    assert.ok(overdue);
    assert.equal(overdue.mail.subject, `Invoice ${invoice.record.number} is overdue`);
    const longDate = (d: Date) => new Intl.DateTimeFormat('en', { dateStyle: 'long', timeZone: 'UTC' }).format(d);
    assert.match(overdue.mail.text ?? '', new RegExp(`was due on ${longDate(due)}`));
    assert.match(overdue.mail.text ?? '', new RegExp(`Please pay it by ${longDate(graceEnd)}`));
    assert.equal((await getCustomer(h.db, customer.id)).status, 'new');

    h.clock.set(graceEnd);
    run = await h.settle(invoice.runId);
    assertCompleted(run);
    assert.equal(run.outcome, 'completed');
    const disabled = step(run, 'disable_customer').output as { status: string; status_before: string; notice: string };
    assert.equal(disabled.status, 'disabled');
    assert.equal(disabled.status_before, 'new');
    assert.match(disabled.notice, /^in-app ntf_/);
    assert.equal((await getCustomer(h.db, customer.id)).status, 'disabled');
    const feed = await listNotifications(h.db, {}, { limit: 50 });
    assert.ok(feed.items.some((n) => n.event === 'customer_disabled' && n.run_id === invoice.runId));
    await statsExact(h);
  });

  test('SMTP down: fails at send_customer_email; after a restart it completes without renumbering', async () => {
    const h = await setup();
    const customer = await seedCustomer(h.db);
    await h.smtp.stop();
    let up = false;
    try {
      const invoice = await invoiceFor(h, customer.id);
      const failed = await driveRetries(h, invoice.runId);
      assert.equal(failed.status, 'failed');
      assert.equal(failed.failed_step, 'send_customer_email');
      const invoicesBefore = await count(h.db, 'invoices');
      await h.smtp.restart();
      up = true;
      await restartRun(h.db, { runId: invoice.runId, actor: 'user:ops', reason: 'SMTP back', now: h.clock.now() });
      const run = await waitingAt(h, invoice.runId, 'await_payment');
      const counts = attempts(run);
      assert.equal(counts.record_invoice, 1);
      assert.equal(counts.render_invoice_pdf, 1);
      assert.equal(await count(h.db, 'invoices'), invoicesBefore);
      assert.equal((await getInvoice(h.db, invoice.record.id)).number, invoice.record.number);
      const mails = mailsTo(h, customer.email);
      assert.equal(mails.length, 1);
      assert.ok(mails[0]?.mail.attachments.some((a) => a.contentType === 'application/pdf'));
      await payInvoice(h.db, invoice.record.id, { now: h.clock.now() });
      assert.equal((await h.settle(invoice.runId)).outcome, 'paid');
    } finally {
      if (!up) await h.smtp.restart();
    }
  });

  test('bad input names the caller fields and writes nothing', async () => {
    const h = await setup();
    const before = await count(h.db, 'invoices');
    await assert.rejects(
      // Past the type system (a caller that does not check its own input): the run's start refuses
      // it, naming the caller's fields (a line's `amount`, which the run calls `unit_amount`).
      startInvoice(h.db, h.registry, {
        customer_id: 'cus_x1',
        currency: 'EUR',
        lines: [{ description: 'a', amount: 1.5 }, { amount: 10 }],
      } as Parameters<typeof startInvoice>[2]),
      (error: unknown) => {
        assert.ok(error instanceof InvalidInputError);
        assert.deepEqual(error.errors.map((e) => e.field).sort(), ['lines[0].amount', 'lines[1].description']);
        return true;
      },
    );
    await assert.rejects(
      startInvoice(h.db, h.registry, {
        customer_id: 'cus_unknown1',
        currency: 'EUR',
        lines: [{ description: 'a', amount: 1 }],
      }),
      (error: unknown) => error instanceof InvalidInputError && error.errors[0]?.field === 'customer_id',
    );
    assert.equal(await count(h.db, 'invoices'), before);
  });
});
