import type { Queryable } from '../db/types.ts';
import { InvalidInputError, PermanentError, RetryableError } from '../errors.ts';

export type SendChannel = 'email' | 'slack' | 'webhook';
export type SendTransport = 'smtp' | 'outbox' | 'slack' | 'webhook';

/** What a send step returns and the run history shows. */
export interface SendOutcome {
  send_key: string;
  channel: SendChannel;
  transport: SendTransport;
  kind: string;
  recipient: string;
  status: 'sent';
  message_id: string | null;
  attempts: number;
  /**
   * An earlier attempt may already have delivered this message (it was cut off after the
   * message left and before the send was recorded), so the recipient may have it twice.
   */
  possible_duplicate: boolean;
  /** True when this call found the message already sent and did not send it again. */
  already_sent: boolean;
  sent_at: Date;
}

export interface SendRecord {
  send_key: string;
  channel: SendChannel;
  transport: SendTransport;
  kind: string;
  run_id: string | null;
  recipient: string;
  subject: string | null;
  status: 'sending' | 'sent' | 'failed';
  attempts: number;
  possible_duplicate: boolean;
  message_id: string | null;
  response: string | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  sent_at: Date | null;
}

export interface SendMeta {
  sendKey: string;
  channel: SendChannel;
  transport: SendTransport;
  kind: string;
  runId?: string | null;
  recipient: string;
  subject?: string | null;
}

/**
 * A failed delivery, as the transport knows it: whether trying again could succeed, and
 * whether the message may have arrived anyway (a timeout after it was handed over), in which
 * case the record stays 'sending' so the next attempt is flagged as a possible duplicate.
 */
export class DeliveryFailure extends Error {
  readonly retryable: boolean;
  readonly mayHaveBeenDelivered: boolean;
  constructor(message: string, options: { retryable: boolean; mayHaveBeenDelivered: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'DeliveryFailure';
    this.retryable = options.retryable;
    this.mayHaveBeenDelivered = options.mayHaveBeenDelivered;
  }
}

/** How one send call ended, for metrics: `possible_duplicate` went out flagged as maybe a second copy. */
export type SendResult = 'sent' | 'possible_duplicate' | 'failed' | 'already_sent';

export interface SendEvent {
  channel: SendChannel;
  transport: SendTransport;
  kind: string;
  outcome: SendResult;
}

/** Told of every send (metrics attach here); called after the fact, a throw is ignored. */
export type OnSend = (event: SendEvent) => void;

export function tellSend(onSend: OnSend | undefined, meta: Omit<SendEvent, 'outcome'>, outcome: SendResult): void {
  if (!onSend) return;
  try {
    onSend({ channel: meta.channel, transport: meta.transport, kind: meta.kind, outcome });
  } catch {
    // Counting a send must never change what happened to it.
  }
}

/** The result of a send that did not fail, as `tellSend` names it. */
export function sendResultOf(outcome: SendOutcome): SendResult {
  if (outcome.already_sent) return 'already_sent';
  return outcome.possible_duplicate ? 'possible_duplicate' : 'sent';
}

export interface Delivered {
  messageId?: string | null;
  response?: string | null;
}

const KIND = /^[a-z][a-z0-9_.:-]{0,199}$/;

export function checkKind(kind: string): void {
  if (!KIND.test(kind)) throw new InvalidInputError([{ field: 'kind', message: 'must be lower snake_case' }]);
}

/** The send key of one message of a step: its idempotency key and the message kind. */
export function sendKey(idempotencyKey: string, kind: string): string {
  checkKind(kind);
  if (!idempotencyKey) throw new InvalidInputError([{ field: 'idempotencyKey', message: 'is required' }]);
  return `${idempotencyKey}:${kind}`;
}

const COLUMNS = `send_key, channel, transport, kind, run_id, recipient, subject, status, attempts,
  possible_duplicate, message_id, response, last_error, created_at, updated_at, sent_at`;

export function toOutcome(record: SendRecord, alreadySent: boolean): SendOutcome {
  return {
    send_key: record.send_key,
    channel: record.channel,
    transport: record.transport,
    kind: record.kind,
    recipient: record.recipient,
    status: 'sent',
    message_id: record.message_id,
    attempts: record.attempts,
    possible_duplicate: record.possible_duplicate,
    already_sent: alreadySent,
    sent_at: record.sent_at ?? record.updated_at,
  };
}

export async function getSend(q: Queryable, key: string): Promise<SendRecord | undefined> {
  const { rows } = await q.query<SendRecord>(`SELECT ${COLUMNS} FROM message_sends WHERE send_key = $1`, [key]);
  return rows[0];
}

/** The messages a run sent or tried to send, oldest first (for its history). */
export async function listSends(q: Queryable, runId: string): Promise<SendRecord[]> {
  const { rows } = await q.query<SendRecord>(
    `SELECT ${COLUMNS} FROM message_sends WHERE run_id = $1 ORDER BY created_at, send_key`,
    [runId],
  );
  return rows;
}

/**
 * Claims a send: records 'sending' unless the key is already 'sent'. A key found 'sending'
 * means an earlier attempt was cut off inside the send window: the flag `possible_duplicate` is
 * set (and stays set: once a copy may be out, every later success may be the second one).
 * Returns undefined when the message was already sent.
 */
async function claimSend(q: Queryable, meta: SendMeta): Promise<SendRecord | undefined> {
  const { rows } = await q.query<SendRecord>(
    `INSERT INTO message_sends (send_key, channel, transport, kind, run_id, recipient, subject, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'sending')
     ON CONFLICT (send_key) DO UPDATE SET
       status = 'sending',
       attempts = message_sends.attempts + 1,
       possible_duplicate = message_sends.possible_duplicate OR message_sends.status = 'sending',
       transport = EXCLUDED.transport, recipient = EXCLUDED.recipient, subject = EXCLUDED.subject,
       run_id = COALESCE(EXCLUDED.run_id, message_sends.run_id), updated_at = now()
     WHERE message_sends.status <> 'sent'
     RETURNING ${COLUMNS}`,
    [meta.sendKey, meta.channel, meta.transport, meta.kind, meta.runId ?? null, meta.recipient, meta.subject ?? null],
    { name: 'billflow_claim_send' },
  );
  return rows[0];
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 2000);
}

/**
 * Sends a message at least once, recorded under its send key: 'sending' before, 'sent' after.
 * A key already sent is not sent again (the earlier record is returned); a resend after a
 * cut-off attempt is marked `possible_duplicate`, never silent. Failures become RetryableError
 * or PermanentError for the engine.
 */
export async function deliverOnce(
  q: Queryable,
  meta: SendMeta,
  send: () => Promise<Delivered>,
  onSend?: OnSend,
): Promise<SendOutcome> {
  checkKind(meta.kind);
  const claimed = await claimSend(q, meta);
  if (!claimed) {
    const earlier = await getSend(q, meta.sendKey);
    if (!earlier) throw new RetryableError(`send ${meta.sendKey} vanished while being read`);
    tellSend(onSend, meta, 'already_sent');
    return toOutcome(earlier, true);
  }
  let delivered: Delivered;
  try {
    delivered = await send();
  } catch (error) {
    const failure =
      error instanceof DeliveryFailure
        ? error
        : new DeliveryFailure(errorText(error), { retryable: true, mayHaveBeenDelivered: true, cause: error });
    // Known not delivered → 'failed', so the retry is not flagged; possibly delivered → stays 'sending'.
    await q
      .query(
        `UPDATE message_sends SET status = $2, last_error = $3, updated_at = now()
         WHERE send_key = $1 AND status = 'sending'`,
        [meta.sendKey, failure.mayHaveBeenDelivered ? 'sending' : 'failed', errorText(failure)],
      )
      .catch(() => {});
    tellSend(onSend, meta, 'failed');
    const message = `${meta.channel} to ${meta.recipient} failed: ${failure.message}`;
    throw failure.retryable
      ? new RetryableError(message, { cause: failure })
      : new PermanentError(message, { cause: failure });
  }
  const { rows } = await q.query<SendRecord>(
    `UPDATE message_sends SET status = 'sent', message_id = $2, response = $3, last_error = NULL,
       sent_at = now(), updated_at = now()
     WHERE send_key = $1 RETURNING ${COLUMNS}`,
    [meta.sendKey, delivered.messageId ?? null, delivered.response?.slice(0, 2000) ?? null],
    { name: 'billflow_mark_send_sent' },
  );
  const outcome = toOutcome(rows[0] ?? { ...claimed, status: 'sent', sent_at: new Date() }, false);
  tellSend(onSend, meta, sendResultOf(outcome));
  return outcome;
}
