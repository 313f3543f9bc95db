// Manual trigger: an operator starts a workflow for a record that already exists.
import type { Db, Queryable } from '../../db/types.ts';
import { startWorkflow } from '../../engine/index.ts';
import type { Registry } from '../../engine/index.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../../errors.ts';
import { findChargeback, findInvoice, findPayment, findRefund, findSubscription, getPlan } from '../records/index.ts';
import { WORKFLOW_TYPES } from '../workflows/types.ts';
import type { WorkflowType } from '../workflows/types.ts';

export interface TriggerRequest {
  type: string;
  /** The existing record the run is about: sub_, pay_, inv_, re_ or cb_. */
  subjectId: string;
  reason: string;
  /** Who asked, as the audit log names them (the caller audits the trigger under it). */
  actor: string;
  /** Same key → the same run, never two. */
  idempotencyKey?: string;
  now?: Date;
}

export interface TriggerResult {
  runId: string;
  type: WorkflowType;
  status: string;
  created: boolean;
  ownerRef: string;
}

interface Built {
  input: Record<string, unknown>;
  ownerRef: string;
}

/** Per type: which record it takes and the run input built from it (the record's own id included). */
const BUILDERS: Record<
  WorkflowType,
  { prefix: string; build(q: Queryable, id: string, reason: string): Promise<Built | undefined> }
> = {
  subscription_creation: {
    prefix: 'sub',
    async build(q, id) {
      const s = await findSubscription(q, id);
      if (!s) return undefined;
      const plan = await getPlan(q, s.plan_id);
      return {
        ownerRef: s.customer_id,
        input: {
          subscription_id: s.id,
          customer_id: s.customer_id,
          plan_code: plan.code,
          started_at: isoOf(s.started_at),
          ...(s.provider_subscription_id ? { provider_subscription_id: s.provider_subscription_id } : {}),
        },
      };
    },
  },
  subscription_cancellation: {
    prefix: 'sub',
    async build(q, id, reason) {
      const s = await findSubscription(q, id);
      // The gentlest cancellation: at the end of the paid period, nothing refunded.
      return (
        s && {
          ownerRef: s.customer_id,
          input: { subscription_id: s.id, mode: 'at_period_end', refund: 'none', reason },
        }
      );
    },
  },
  payment_success: paymentBuilder('succeeded'),
  payment_failure: paymentBuilder('failed'),
  invoice_creation: {
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
  },
  refund_creation: {
    prefix: 're',
    async build(q, id, reason) {
      const r = await findRefund(q, id);
      if (!r) return undefined;
      return {
        ownerRef: r.customer_id,
        input: {
          refund_id: r.id,
          payment_id: r.payment_id,
          amount: r.amount,
          reason: r.reason ?? reason,
          ...(r.provider_reference ? { provider_refund_id: r.provider_reference } : {}),
        },
      };
    },
  },
  chargeback_creation: {
    prefix: 'cb',
    async build(q, id) {
      const c = await findChargeback(q, id);
      if (!c) return undefined;
      return {
        ownerRef: c.customer_id,
        input: {
          chargeback_id: c.id,
          payment_id: c.payment_id,
          amount: c.amount,
          status: c.status,
          ...(c.reason ? { reason: c.reason } : {}),
          ...(c.provider_reference ? { provider_reference: c.provider_reference } : {}),
        },
      };
    },
  },
};

function paymentBuilder(status: 'succeeded' | 'failed') {
  return {
    prefix: 'pay',
    async build(q: Queryable, id: string): Promise<Built | undefined> {
      const p = await findPayment(q, id);
      if (!p) return undefined;
      if (p.status !== status) {
        throw new InvalidInputError([
          { field: 'subject_id', message: `payment ${p.id} is ${p.status}; this workflow needs a ${status} one` },
        ]);
      }
      const optional = {
        invoice_id: p.invoice_id,
        subscription_id: p.subscription_id,
        retry_of: p.retry_of,
        failure_code: p.failure_code,
        failure_message: p.failure_message,
        provider_reference: p.provider_reference,
      };
      return {
        ownerRef: p.customer_id,
        input: {
          payment_id: p.id,
          customer_id: p.customer_id,
          amount: p.amount,
          currency: p.currency,
          status: p.status,
          ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== null)),
        },
      };
    },
  };
}

function isoOf(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}

/**
 * Starts a workflow of `type` for the existing record `subjectId`, with the input built from the
 * record and its id, so the run's record step finds the record instead of making another. The
 * first (db) step runs right away; should it still refuse the record, nothing is left behind and
 * the answer is a 409.
 */
export async function triggerWorkflow(db: Db, registry: Registry, request: TriggerRequest): Promise<TriggerResult> {
  if (!(WORKFLOW_TYPES as readonly string[]).includes(request.type) || !registry.has(request.type)) {
    throw new InvalidInputError([{ field: 'type', message: `must be one of ${WORKFLOW_TYPES.join(', ')}` }]);
  }
  if (!request.reason.trim()) throw new InvalidInputError([{ field: 'reason', message: 'a reason is required' }]);
  const type = request.type as WorkflowType;
  const builder = BUILDERS[type];
  if (!request.subjectId.startsWith(`${builder.prefix}_`)) {
    throw new InvalidInputError([{ field: 'subject_id', message: `a ${type} run needs a ${builder.prefix}_ record` }]);
  }
  const built = await builder.build(db, request.subjectId, request.reason.trim());
  if (!built) throw new NotFoundError(`record ${request.subjectId} not found`);
  const definition = registry.get(type);
  try {
    const started = await startWorkflow(db, registry, {
      type,
      input: built.input,
      idempotencyKey: request.idempotencyKey,
      subjectRef: request.subjectId,
      ownerRef: built.ownerRef,
      runFirstStep: definition?.steps[0]?.kind === 'db',
      now: request.now,
    });
    return { runId: started.runId, type, status: started.status, created: started.created, ownerRef: built.ownerRef };
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ConflictError(
        `the first step of ${type} creates its record and cannot reuse the existing ${request.subjectId}`,
        { field: 'subject_id' },
      );
    }
    throw error;
  }
}

/** The id prefix of the record a manual trigger of `type` takes: sub, pay, inv, re or cb. */
export function triggerSubjectPrefix(type: WorkflowType): string {
  return BUILDERS[type].prefix;
}
