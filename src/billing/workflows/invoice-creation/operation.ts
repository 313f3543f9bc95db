// Invoices: create one (with its invoice_creation run) and mark one paid by hand.
import type { Db } from '../../../db/types.ts';
import { newId } from '../../../ids.ts';
import { wakeWaitingRuns } from '../../../engine/index.ts';
import type { Registry } from '../../../engine/index.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../../../errors.ts';
import { findInvoice, findInvoiceByProviderId, getInvoice, markInvoicePaid } from '../../records/index.ts';
import type { Invoice } from '../../records/index.ts';
import type { TriggerBuilder } from '../shared/module.ts';
import type { OperationOptions, OperationResult } from '../shared/operation-options.ts';
import { existingRecordRun, isoOf, startRecordRun } from '../shared/operation.ts';
import { parseInvoiceRunInput } from './input.ts';

/**
 * The API names a line's price `amount` (per unit; the line total is amount × quantity) where the
 * records say `unit_amount`: map it, and name the caller's field in errors.
 */
function apiLines(raw: unknown): { body: unknown; renamed: Set<number> } {
  const renamed = new Set<number>();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { body: raw, renamed };
  const body = raw as Record<string, unknown>;
  if (!Array.isArray(body.lines)) return { body, renamed };
  const lines = body.lines.map((line: unknown, i) => {
    if (line === null || typeof line !== 'object' || Array.isArray(line)) return line;
    const { amount, ...rest } = line as Record<string, unknown>;
    if (amount === undefined || 'unit_amount' in rest) return line;
    renamed.add(i);
    return { ...rest, unit_amount: amount };
  });
  return { body: { ...body, lines }, renamed };
}

/**
 * Records an invoice and starts its invoice_creation run in one transaction. raw: { customer_id,
 * subscription_id?, currency, lines: [{ description, amount, quantity? }], due_at?,
 * days_until_due?, provider_invoice_id? }.
 */
export async function startInvoice(
  db: Db,
  registry: Registry,
  raw: unknown,
  options: OperationOptions = {},
): Promise<OperationResult<Invoice>> {
  const id = newId('inv');
  const { body, renamed } = apiLines(raw);
  let input;
  try {
    input = parseInvoiceRunInput(
      body !== null && typeof body === 'object' && !Array.isArray(body) ? { ...body, invoice_id: id } : body,
    );
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    throw new InvalidInputError(
      error.errors.map((e) => {
        const m = /^lines\[(\d+)\]\.unit_amount$/.exec(e.field);
        return m && renamed.has(Number(m[1])) ? { ...e, field: `lines[${m[1]}].amount` } : e;
      }),
    );
  }
  if (input.provider_invoice_id) {
    const known = await findInvoiceByProviderId(db, input.provider_invoice_id);
    const existing = known && (await existingRecordRun(db, 'invoice_creation', known));
    if (existing) return existing;
  }
  return startRecordRun(
    db,
    registry,
    { type: 'invoice_creation', input: { ...input }, recordId: id, idField: 'invoice_id', ownerRef: input.customer_id },
    options,
    getInvoice,
  );
}

export interface PayInvoiceOptions extends OperationOptions {
  /** Why it is marked paid (bank transfer, cheque…): kept in the invoice run's history. */
  note?: string;
  /** Who marks it paid, as recorded in the run's history ("user:usr_1"); default "api". */
  actor?: string;
}

export interface PayInvoiceResult {
  record: Invoice;
  /** The invoice_creation runs woken: each ends as paid at once. */
  wokenRunIds: string[];
}

/**
 * Marks an open invoice paid (money received outside Billflow) and wakes its invoice_creation run,
 * which then ends as paid instead of waiting for the due date. Already paid or void → conflict.
 * No payment record is made: nothing was charged here, so nothing is counted as revenue.
 */
export async function payInvoice(
  db: Db,
  invoiceId: string,
  options: PayInvoiceOptions = {},
): Promise<PayInvoiceResult> {
  const woken = await db.transaction(async (tx) => {
    const { rows } = await tx.query<{ status: string; number: string }>(
      'SELECT status, number FROM invoices WHERE id = $1 FOR UPDATE',
      [invoiceId],
    );
    const row = rows[0];
    if (!row) throw new NotFoundError(`invoice ${invoiceId} not found`);
    if (row.status !== 'open') {
      throw new ConflictError(`invoice ${row.number} is already ${row.status}`, { status: row.status });
    }
    await markInvoicePaid(tx, invoiceId, { at: options.now });
    return wakeWaitingRuns(tx, {
      subjectRef: invoiceId,
      type: 'invoice_creation',
      now: options.now,
      actor: options.actor ?? 'api',
      reason: `marked paid${options.note?.trim() ? `: ${options.note.trim().slice(0, 500)}` : ''}`,
    });
  });
  return { record: await getInvoice(db, invoiceId), wokenRunIds: woken.map((w) => w.id) };
}

/** A manual trigger for an existing invoice: its run again, from the invoice as it is. */
export const invoiceCreationTrigger: TriggerBuilder = {
  prefix: 'inv',
  async build(q, id) {
    const i = await findInvoice(q, id);
    if (!i) return undefined;
    return {
      ownerRef: i.customer_id,
      input: {
        invoice_id: i.id,
        customer_id: i.customer_id,
        currency: i.currency,
        lines: i.lines.map((l) => ({ description: l.description, quantity: l.quantity, unit_amount: l.unit_amount })),
        due_at: isoOf(i.due_at),
        ...(i.subscription_id ? { subscription_id: i.subscription_id } : {}),
        ...(i.provider_invoice_id ? { provider_invoice_id: i.provider_invoice_id } : {}),
      },
    };
  },
};
