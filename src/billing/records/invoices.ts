import type { Queryable } from '../../db/types.ts';
import { newId } from '../../ids.ts';
import { emitEvent } from '../../notify/index.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../../errors.ts';
import { requireCustomer, useCustomerCurrency } from './customers.ts';
import type { At } from './customers.ts';
import { assertSameCurrency, lineAmount, sumLines, toAmount } from './money.ts';
import { lockDocumentCounter, nextDocumentNumber } from './numbering.ts';
import { findSubscription } from './subscriptions.ts';

export const INVOICE_STATUSES = ['open', 'paid', 'void'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

export interface InvoiceLine {
  position: number;
  description: string;
  quantity: number;
  unit_amount: number;
  /** quantity × unit_amount */
  amount: number;
}

export interface InvoiceSummary {
  id: string;
  /** Gapless and human-readable: INV-000123. */
  number: string;
  customer_id: string;
  subscription_id: string | null;
  currency: string;
  total: number;
  status: InvoiceStatus;
  due_at: Date;
  paid_at: Date | null;
  paid_by_payment_id: string | null;
  voided_at: Date | null;
  provider_invoice_id: string | null;
  /** Stripe's hosted page and PDF of a Stripe Billing invoice (null for Billflow's own). */
  provider_hosted_url: string | null;
  provider_pdf_url: string | null;
  /** The service period the invoice bills (a subscription's renewal), or null. */
  period_start: Date | null;
  period_end: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface Invoice extends InvoiceSummary {
  lines: InvoiceLine[];
}

export interface InvoiceLineInput {
  description: string;
  quantity: number;
  unit_amount: number;
}

export interface InvoiceInput {
  customer_id: string;
  subscription_id?: string;
  currency: string;
  lines: InvoiceLineInput[];
  /** ISO timestamp; when absent, `days_until_due` after creation. */
  due_at?: string;
  days_until_due?: number;
  provider_invoice_id?: string;
  /** ISO timestamps, both or neither: the period a subscription's invoice bills. */
  period_start?: string;
  period_end?: string;
}

export const DEFAULT_DAYS_UNTIL_DUE = 30;

const COLUMNS = `id, number, customer_id, subscription_id, currency, total, status, due_at, paid_at,
  paid_by_payment_id, voided_at, provider_invoice_id, provider_hosted_url, provider_pdf_url, period_start, period_end,
  created_at, updated_at`;

function toSummary(row: InvoiceSummary): InvoiceSummary {
  return { ...row, total: toAmount(row.total) };
}

/**
 * Records an invoice with its lines and the next invoice number. The total is the sum of the
 * lines, computed here, never taken from the caller. With a provider invoice id the insert is
 * idempotent on it. Must run inside a transaction (the number's lock lasts until it ends).
 */
export async function createInvoice(q: Queryable, input: InvoiceInput, options: At = {}): Promise<Invoice> {
  const customer = await requireCustomer(q, input.customer_id);
  if (input.subscription_id) {
    const subscription = await findSubscription(q, input.subscription_id);
    if (!subscription || subscription.customer_id !== customer.id) {
      const message = subscription ? `belongs to another customer` : `no subscription ${input.subscription_id}`;
      throw new InvalidInputError([{ field: 'subscription_id', message }]);
    }
    assertSameCurrency(subscription.currency, input.currency, 'currency');
  }
  await useCustomerCurrency(q, customer, input.currency);
  // Lock first, then look for the provider's invoice: a concurrent insert of the same one has
  // committed by the time the lock is ours, so no number is consumed for a duplicate.
  await lockDocumentCounter(q, 'invoice');
  if (input.provider_invoice_id) {
    const existing = await findInvoiceByProviderId(q, input.provider_invoice_id);
    if (existing) {
      if (existing.customer_id !== customer.id) {
        throw new ConflictError(`provider invoice ${input.provider_invoice_id} belongs to another customer`, {
          field: 'provider_invoice_id',
        });
      }
      return existing;
    }
  }
  const id = options.id ?? newId('inv');
  const number = await nextDocumentNumber(q, 'invoice');
  const lines = input.lines.map((line, position) => ({ position, ...line, amount: lineAmount(line) }));
  const { rows } = await q.query<InvoiceSummary>(
    `INSERT INTO invoices (id, number, customer_id, subscription_id, currency, total, due_at, provider_invoice_id,
       period_start, period_end, created_at, updated_at)
     SELECT $1, $2, $3, $4, $5, $6,
       coalesce($7::timestamptz, ((created AT TIME ZONE 'UTC') + make_interval(days => $8::int)) AT TIME ZONE 'UTC'),
       $9, $11, $12, created, created
     FROM (SELECT coalesce($10::timestamptz, now()) AS created) t
     RETURNING ${COLUMNS}`,
    [
      id,
      number,
      customer.id,
      input.subscription_id ?? null,
      input.currency,
      sumLines(lines),
      input.due_at ?? null,
      input.days_until_due ?? DEFAULT_DAYS_UNTIL_DUE,
      input.provider_invoice_id ?? null,
      options.at ?? null,
      input.period_start ?? null,
      input.period_end ?? null,
    ],
  );
  // JSON carries the lines in one round trip on both drivers (no array-parameter differences).
  await q.query(
    `INSERT INTO invoice_lines (invoice_id, position, description, quantity, unit_amount, amount)
     SELECT $1, l.position, l.description, l.quantity, l.unit_amount, l.amount
     FROM jsonb_to_recordset($2::jsonb)
       AS l(position int, description text, quantity int, unit_amount bigint, amount bigint)`,
    [id, JSON.stringify(lines)],
  );
  return { ...toSummary(rows[0] as InvoiceSummary), lines };
}

async function withLines(q: Queryable, row: InvoiceSummary | undefined): Promise<Invoice | undefined> {
  if (!row) return undefined;
  const { rows } = await q.query<InvoiceLine>(
    `SELECT position, description, quantity, unit_amount, amount FROM invoice_lines
     WHERE invoice_id = $1 ORDER BY position`,
    [row.id],
  );
  const lines = rows.map((l) => ({ ...l, unit_amount: toAmount(l.unit_amount), amount: toAmount(l.amount) }));
  return { ...toSummary(row), lines };
}

export async function findInvoice(q: Queryable, id: string): Promise<Invoice | undefined> {
  const { rows } = await q.query<InvoiceSummary>(`SELECT ${COLUMNS} FROM invoices WHERE id = $1`, [id]);
  return withLines(q, rows[0]);
}

export async function getInvoice(q: Queryable, id: string): Promise<Invoice> {
  const invoice = await findInvoice(q, id);
  if (!invoice) throw new NotFoundError(`invoice ${id} not found`);
  return invoice;
}

export async function findInvoiceByNumber(q: Queryable, number: string): Promise<Invoice | undefined> {
  const { rows } = await q.query<InvoiceSummary>(`SELECT ${COLUMNS} FROM invoices WHERE number = $1`, [number]);
  return withLines(q, rows[0]);
}

export async function findInvoiceByProviderId(q: Queryable, ref: string): Promise<Invoice | undefined> {
  const { rows } = await q.query<InvoiceSummary>(`SELECT ${COLUMNS} FROM invoices WHERE provider_invoice_id = $1`, [
    ref,
  ]);
  return withLines(q, rows[0]);
}

/** Newest first, without lines. */
export async function listCustomerInvoices(
  q: Queryable,
  customerId: string,
  options: { status?: InvoiceStatus; before?: string; limit?: number } = {},
): Promise<InvoiceSummary[]> {
  const { rows } = await q.query<InvoiceSummary>(
    `SELECT ${COLUMNS} FROM invoices
     WHERE customer_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR id < $3)
     ORDER BY id DESC LIMIT $4`,
    [customerId, options.status ?? null, options.before ?? null, Math.min(options.limit ?? 100, 500)],
  );
  return rows.map(toSummary);
}

/**
 * Marks an invoice paid. Paying a paid invoice again is a no-op that returns it (a provider
 * event and a charge may both report the same payment); a void invoice cannot be paid.
 */
export async function markInvoicePaid(
  q: Queryable,
  id: string,
  options: At & { payment_id?: string } = {},
): Promise<InvoiceSummary> {
  const { rows } = await q.query<InvoiceSummary>(
    `UPDATE invoices SET status = 'paid', paid_at = coalesce($2::timestamptz, now()), paid_by_payment_id = $3,
       updated_at = coalesce($2::timestamptz, now())
     WHERE id = $1 AND status = 'open' RETURNING ${COLUMNS}`,
    [id, options.at ?? null, options.payment_id ?? null],
  );
  // The transaction that made it paid writes the event (docs/webhooks.md).
  if (rows[0]) return emitted(q, 'invoice.paid', toSummary(rows[0]));
  const current = await getInvoice(q, id);
  if (current.status === 'void') throw new ConflictError(`invoice ${current.number} is void`, { status: 'void' });
  return current;
}

/** Voids an open invoice; voiding twice is a no-op, a paid invoice cannot be voided. */
export async function voidInvoice(q: Queryable, id: string, options: At = {}): Promise<InvoiceSummary> {
  const { rows } = await q.query<InvoiceSummary>(
    `UPDATE invoices SET status = 'void', voided_at = coalesce($2::timestamptz, now()),
       updated_at = coalesce($2::timestamptz, now())
     WHERE id = $1 AND status = 'open' RETURNING ${COLUMNS}`,
    [id, options.at ?? null],
  );
  if (rows[0]) return toSummary(rows[0]);
  const current = await getInvoice(q, id);
  if (current.status === 'paid') throw new ConflictError(`invoice ${current.number} is paid`, { status: 'paid' });
  return current;
}

async function emitted(q: Queryable, type: 'invoice.paid', invoice: InvoiceSummary): Promise<InvoiceSummary> {
  await emitEvent(q, { type, payload: invoice });
  return invoice;
}

/** Keeps the links Stripe gives for its invoice (they appear when Stripe finalizes it). */
export async function setProviderInvoiceLinks(
  q: Queryable,
  id: string,
  links: { hostedUrl: string | null; pdfUrl: string | null },
): Promise<void> {
  await q.query(
    `UPDATE invoices SET provider_hosted_url = coalesce($2, provider_hosted_url),
       provider_pdf_url = coalesce($3, provider_pdf_url)
     WHERE id = $1 AND ($2::text IS NOT NULL OR $3::text IS NOT NULL)`,
    [id, links.hostedUrl, links.pdfUrl],
  );
}
