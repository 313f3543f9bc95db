// The two message steps every billing workflow ends with: send_customer_email and
// send_internal_notice. Both are external steps (at least once; each send is recorded under the
// step's idempotency key, so a retry only repeats what did not go out, and a resend after a
// cut-off attempt is flagged as a possible duplicate by the notify layer).
import type { Queryable } from '../../../db/types.ts';
import type { ExternalStep, RetryPolicy, StepContext } from '../../../engine/index.ts';
import { sendCustomerEmail, sendTeamNotice } from '../../../notify/index.ts';
import type {
  EmailAttachment,
  NotificationEvent,
  SendOutcome,
  Skipped,
  TeamNoticeResult,
} from '../../../notify/index.ts';
import { getCustomer } from '../../records/index.ts';
import type { Customer } from '../../records/index.ts';
import type { WorkflowDeps } from './deps.ts';
import { EXTERNAL_RETRY } from './steps.ts';

export interface MessageStepOptions {
  retry?: Partial<RetryPolicy>;
  timeoutMs?: number;
}

/** What a workflow wants mailed to its customer. */
export interface CustomerEmailSpec {
  /** Recipient and locale come from the customer record; `customer` is added to the data. */
  customerId: string;
  /** That record when the builder read it already (used only if its id is `customerId`). */
  customer?: Customer;
  /** The event's template data (its preview sample in the folder's notifications.ts shows the shape). */
  data: Record<string, unknown>;
  attachments?: EmailAttachment[];
}

/** What a workflow tells the team (in-app feed, Slack, team email, per the event's settings). */
export interface InternalNoticeSpec {
  /** When given, the customer is added to the data as `customer` (templates name them). */
  customerId?: string;
  data: Record<string, unknown>;
}

/** Returned by a spec builder instead of a spec: nothing to send, and why (shown in the UI). */
export interface SkipMessage {
  skip: string;
}

/** `db` is for reads outside any transaction (the step is external). */
export type SpecBuilder<I, S> = (ctx: StepContext<I>, db: Queryable) => Promise<S | SkipMessage> | S | SkipMessage;

/** The customer as every template names it. */
export function customerView(customer: Customer): { id: string; name: string; email: string } {
  return { id: customer.id, name: customer.name ?? customer.email, email: customer.email };
}

/** Step output shown in the admin UI: who got what, and whether it may be a duplicate. */
export interface CustomerEmailOutput {
  event: NotificationEvent;
  status: 'sent' | 'skipped';
  to?: string;
  transport?: string;
  message_id?: string | null;
  possible_duplicate?: boolean;
  already_sent?: boolean;
  reason?: string;
}

export interface InternalNoticeOutput {
  event: NotificationEvent;
  in_app: string;
  slack: string;
  team_email: string;
  possible_duplicate?: boolean;
  reason?: string;
}

function isSkip(value: unknown): value is SkipMessage {
  return value !== null && typeof value === 'object' && 'skip' in value;
}

function isSkipped(value: unknown): value is Skipped {
  return value !== null && typeof value === 'object' && (value as { status?: unknown }).status === 'skipped';
}

/** send_customer_email: renders the event's template in the customer's locale and mails it. */
export function customerEmailStep<I>(
  deps: WorkflowDeps,
  event: NotificationEvent,
  build: SpecBuilder<I, CustomerEmailSpec>,
  options: MessageStepOptions = {},
): ExternalStep<I> {
  return {
    name: 'send_customer_email',
    kind: 'external',
    retry: options.retry ?? EXTERNAL_RETRY,
    timeoutMs: options.timeoutMs,
    async run(ctx): Promise<CustomerEmailOutput> {
      const spec = await build(ctx, deps.db);
      if (isSkip(spec)) return { event, status: 'skipped', reason: spec.skip };
      const customer =
        spec.customer?.id === spec.customerId ? spec.customer : await getCustomer(deps.db, spec.customerId);
      const outcome = await sendCustomerEmail(deps.db, deps.notifications, deps.notify, {
        event,
        idempotencyKey: ctx.idempotencyKey,
        runId: ctx.runId,
        to: customer.email,
        locale: customer.locale,
        data: { customer: customerView(customer), ...spec.data },
        attachments: spec.attachments,
        signal: ctx.signal,
      });
      if (isSkipped(outcome)) return { event, status: 'skipped', reason: outcome.reason };
      return {
        event,
        status: 'sent',
        to: outcome.recipient,
        transport: outcome.transport,
        message_id: outcome.message_id,
        possible_duplicate: outcome.possible_duplicate,
        already_sent: outcome.already_sent,
      };
    },
  };
}

function summarize(part: SendOutcome[] | SendOutcome | { id: string } | Skipped): string {
  if (isSkipped(part)) return 'skipped';
  if (Array.isArray(part)) return `sent ${part.length}`;
  return 'sent';
}

function duplicate(result: TeamNoticeResult): boolean {
  const sends = [
    ...(Array.isArray(result.slack) ? result.slack : []),
    ...(isSkipped(result.team_email) ? [] : [result.team_email]),
  ];
  return sends.some((s) => s.possible_duplicate);
}

/** send_internal_notice: the team's in-app notice, Slack message and team email for the event. */
export function internalNoticeStep<I>(
  deps: WorkflowDeps,
  event: NotificationEvent,
  build: SpecBuilder<I, InternalNoticeSpec>,
  options: MessageStepOptions = {},
): ExternalStep<I> {
  return {
    name: 'send_internal_notice',
    kind: 'external',
    retry: options.retry ?? EXTERNAL_RETRY,
    timeoutMs: options.timeoutMs,
    async run(ctx): Promise<InternalNoticeOutput> {
      const spec = await build(ctx, deps.db);
      if (isSkip(spec)) {
        return { event, in_app: 'skipped', slack: 'skipped', team_email: 'skipped', reason: spec.skip };
      }
      const result = await sendTeamNotice(deps.db, deps.notifications, deps.notify, {
        event,
        idempotencyKey: ctx.idempotencyKey,
        runId: ctx.runId,
        data: spec.customerId
          ? { customer: customerView(await getCustomer(deps.db, spec.customerId)), ...spec.data }
          : spec.data,
        signal: ctx.signal,
      });
      const output: InternalNoticeOutput = {
        event,
        in_app: summarize(result.in_app),
        slack: summarize(result.slack),
        team_email: summarize(result.team_email),
      };
      if (duplicate(result)) output.possible_duplicate = true;
      return output;
    },
  };
}
