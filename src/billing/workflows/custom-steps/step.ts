// Running one pinned version of a custom step: a signed Standard Webhooks request to the step's
// URL through the SSRF guard (the same signing and guarded HTTP as event webhooks), whose 2xx JSON
// answer becomes the step's output. See docs/custom-steps.md for the payload and the outcomes.
import type { Queryable } from '../../../db/types.ts';
import { getRun } from '../../../engine/index.ts';
import type { ExternalStep, StepContext } from '../../../engine/index.ts';
import { NotFoundError, PermanentError, RetryableError } from '../../../errors.ts';
import { postGuarded, signWebhook, webhookId } from '../../../notify/index.ts';
import type { PostResult, Resolver, UrlGuard } from '../../../notify/index.ts';
import {
  getChargeback,
  getCustomer,
  getInvoice,
  getPayment,
  getPlanChange,
  getRefund,
  getSubscription,
} from '../../records/index.ts';
import type { CustomStepVersion } from './store.ts';

/** The largest answer kept as a step's output. */
export const CUSTOM_RESPONSE_LIMIT = 64 * 1024;
/** The message type a custom step's request carries. */
export const CUSTOM_STEP_EVENT = 'workflow.custom_step';
/** Of an answer that failed the step, what its error shows. */
const ERROR_EXCERPT = 1000;

export interface CustomStepDeps {
  /** Reads the run's record (external steps have no transaction of their own). */
  db: Queryable;
  guard: UrlGuard;
  resolver?: Resolver;
}

const RECORD_GETTERS: Record<string, (q: Queryable, id: string) => Promise<unknown>> = {
  cus: getCustomer,
  sub: getSubscription,
  pay: getPayment,
  inv: getInvoice,
  re: getRefund,
  cb: getChargeback,
  pch: getPlanChange,
};

/** The record the run is about, as it stands now; null when the run has none. */
async function subjectRecord(q: Queryable, runId: string): Promise<{ id: string | null; record: unknown }> {
  const run = await getRun(q, runId);
  const ref = run.subject_ref;
  const getter = ref ? RECORD_GETTERS[ref.slice(0, ref.indexOf('_'))] : undefined;
  if (!ref || !getter) return { id: ref, record: null };
  try {
    return { id: ref, record: await getter(q, ref) };
  } catch (error) {
    if (error instanceof NotFoundError) return { id: ref, record: null };
    throw error;
  }
}

/** The request body a custom step sends (Standard Webhooks: type, timestamp, data). */
export async function customStepBody(q: Queryable, def: CustomStepVersion, ctx: StepContext<unknown>, now: Date) {
  const subject = await subjectRecord(q, ctx.runId);
  return JSON.stringify({
    type: CUSTOM_STEP_EVENT,
    timestamp: now.toISOString(),
    data: {
      run_id: ctx.runId,
      workflow_type: ctx.type,
      step: def.name,
      step_version: def.version,
      pinned_step: def.pinned_name,
      attempt: ctx.attempt,
      idempotency_key: ctx.idempotencyKey,
      subject_id: subject.id,
      record: subject.record,
      input: ctx.input,
      outputs: ctx.outputs,
    },
  });
}

function excerpt(result: PostResult): string {
  const body = (result.body ?? '').trim();
  return body ? `: ${body.slice(0, ERROR_EXCERPT)}` : '';
}

/** What an answer means for the step: its output, or the error the engine retries or fails on. */
export function customStepOutcome(def: CustomStepVersion, result: PostResult): unknown {
  const origin = new URL(def.url).origin;
  if (result.refused) throw new PermanentError(`custom step ${def.name}: ${result.error ?? 'url refused'}`);
  if (result.status === null) {
    throw new RetryableError(`custom step ${def.name}: ${origin} ${result.error ?? 'did not answer'}`);
  }
  const status = result.status;
  if (result.ok) {
    if (result.truncated) {
      throw new PermanentError(`custom step ${def.name}: the answer from ${origin} is larger than 64 KB`);
    }
    const text = (result.body ?? '').trim();
    if (!text) return null;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // Not JSON: kept as text, so the run shows what the receiver said.
      return { response_text: text };
    }
  }
  const message = `custom step ${def.name}: ${origin} answered ${result.error ?? `HTTP ${status}`}${excerpt(result)}`;
  // A timeout or throttling answer may pass later; other 4xx (and redirects) will not.
  if (status >= 500 || status === 408 || status === 429) throw new RetryableError(message);
  throw new PermanentError(message);
}

/** The engine's step for one pinned version of a custom step. */
export function customStep(def: CustomStepVersion, deps: CustomStepDeps): ExternalStep<unknown> {
  return {
    name: def.pinned_name,
    kind: 'external',
    retry: def.retryPolicy,
    // The request's own timeout comes first; the engine's is the backstop.
    timeoutMs: def.timeout_ms + 5_000,
    whenSkipped: `The request to ${new URL(def.url).origin} is not sent; later steps see no answer from it.`,
    async run(ctx) {
      const now = ctx.now();
      const body = await customStepBody(deps.db, def, ctx, now);
      // The same id on every attempt of this step in this run: the receiver can tell a repeat.
      const headers = signWebhook(def.secret, webhookId(ctx.idempotencyKey), now, body);
      const result = await postGuarded(def.url, body, headers, {
        guard: deps.guard,
        resolver: deps.resolver,
        timeoutMs: def.timeout_ms,
        method: def.method,
        responseLimit: CUSTOM_RESPONSE_LIMIT,
        signal: ctx.signal,
      });
      return customStepOutcome(def, result);
    },
  };
}
