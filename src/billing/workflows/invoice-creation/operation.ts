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
import type { InvoiceRequest } from './input.ts';

/** The operation's field names → the API's: a line's price is `amount` there (per unit). */
function apiField(field: string): string {
  return field.replace(/^(lines\[\d+\])\.unit_amount$/, '$1.amount');
}

/**
 * Records an invoice and starts its invoice_creation run in one transaction. The API names a
 * line's price `amount` (per unit; the line total is amount × quantity) where the records say
 * `unit_amount`; errors name the caller's fields.
 */
export async function startInvoice(
  db: Db,
  registry: Registry,
  request: InvoiceRequest,
  options: OperationOptions = {},
): Promise<OperationResult<Invoice>> {
  if (request.provider_invoice_id) {
    const known = await findInvoiceByProviderId(db, request.provider_invoice_id);
    const existing = known && (await existingRecordRun(db, 'invoice_creation', known));
    if (existing) return existing;
  }
  const id = newId('inv');
  const { lines, ...rest } = request;
  const input = {
    ...rest,
    invoice_id: id,
    lines: lines.map(({ amount, ...line }) => ({ ...line, unit_amount: amount })),
  };
  try {
    return await startRecordRun(
      db,
      registry,
      { type: 'invoice_creation', input, recordId: id, idField: 'invoice_id', ownerRef: request.customer_id },
      options,
      getInvoice,
    );
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    throw new InvalidInputError(error.errors.map((e) => ({ ...e, field: apiField(e.field) })));
  }
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
