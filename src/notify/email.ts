import type { Queryable } from '../db/types.ts';
import { InvalidInputError } from '../errors.ts';
import type { FieldError } from '../errors.ts';
import { newId } from '../ids.ts';
import { isEmailAddress } from './events.ts';
import { checkKind, deliverOnce, getSend, sendResultOf, tellSend, toOutcome } from './sends.ts';
import type { OnSend, SendOutcome, SendRecord } from './sends.ts';
import { createSmtpSender } from './smtp.ts';
import type { SmtpOptions, SmtpSender } from './smtp.ts';

/**
 * Where emails go: an SMTP server, or, with none configured, the outbox table the admin UI
 * shows — an email is never dropped for want of a server.
 */
export type EmailTransport = (
  | { readonly kind: 'smtp'; readonly from: string; readonly smtp: SmtpSender }
  | { readonly kind: 'outbox'; readonly from: string }
) & { readonly onSend?: OnSend };

export interface EmailTransportOptions {
  /** SMTP_URL; absent or empty means the outbox. */
  smtpUrl?: string;
  /** The From header, e.g. "Acme Billing <billing@acme.example>". */
  from: string;
  timeouts?: Omit<SmtpOptions, 'url'>;
  /** Told of every send through this transport (metrics). */
  onSend?: OnSend;
}

export function createEmailTransport(options: EmailTransportOptions): EmailTransport {
  if (!options.from.trim()) throw new InvalidInputError([{ field: 'from', message: 'is required' }]);
  const observed = options.onSend ? { onSend: options.onSend } : {};
  if (!options.smtpUrl) return { kind: 'outbox', from: options.from, ...observed };
  return {
    kind: 'smtp',
    from: options.from,
    smtp: createSmtpSender({ url: options.smtpUrl, ...options.timeouts }),
    ...observed,
  };
}

/** Ends the transport's open SMTP connections (the outbox has none). */
export function closeEmailTransport(transport: EmailTransport): void {
  if (transport.kind === 'smtp') transport.smtp.close();
}

export interface EmailAttachment {
  filename: string;
  content: Uint8Array;
  contentType: string;
}

export interface EmailMessage {
  /** From `sendKey(ctx.idempotencyKey, kind)`: the same message of the same step, every attempt. */
  sendKey: string;
  /** What the message is, e.g. `customer_email`, `team_email`. */
  kind: string;
  runId?: string | null;
  to: string | string[];
  replyTo?: string;
  subject: string;
  text: string;
  html?: string | null;
  attachments?: EmailAttachment[];
  /** The step's signal: a timed-out step stops waiting for the server. */
  signal?: AbortSignal;
}

function recipientsOf(message: EmailMessage): string[] {
  const to = Array.isArray(message.to) ? message.to : [message.to];
  const errors: FieldError[] = [];
  if (to.length === 0) errors.push({ field: 'to', message: 'needs at least one address' });
  to.forEach((address, i) => {
    if (!isEmailAddress(address)) errors.push({ field: `to[${i}]`, message: 'is not an email address' });
  });
  if (message.replyTo !== undefined && !isEmailAddress(message.replyTo)) {
    errors.push({ field: 'replyTo', message: 'is not an email address' });
  }
  if (!message.subject.trim()) errors.push({ field: 'subject', message: 'is empty' });
  (message.attachments ?? []).forEach((a, i) => {
    if (!a.filename || /[\r\n/\\]/.test(a.filename))
      errors.push({ field: `attachments[${i}].filename`, message: 'is not a file name' });
  });
  // Bad data cannot succeed on retry: InvalidInputError is permanent for the engine.
  if (errors.length > 0) throw new InvalidInputError(errors);
  return to;
}

/**
 * Sends an email at least once under its send key (see `deliverOnce`): over SMTP when
 * configured, else into the outbox. SMTP refusals: 4xx and connection trouble are retryable,
 * 5xx (unknown recipient) permanent.
 */
export async function sendEmail(q: Queryable, transport: EmailTransport, message: EmailMessage): Promise<SendOutcome> {
  checkKind(message.kind);
  const to = recipientsOf(message);
  if (transport.kind === 'outbox') {
    const outcome = await writeToOutbox(q, transport.from, message, to);
    tellSend(transport.onSend, { channel: 'email', transport: 'outbox', kind: message.kind }, sendResultOf(outcome));
    return outcome;
  }
  return deliverOnce(
    q,
    {
      sendKey: message.sendKey,
      channel: 'email',
      transport: 'smtp',
      kind: message.kind,
      runId: message.runId,
      recipient: to.join(', '),
      subject: message.subject,
    },
    () =>
      transport.smtp.send(
        {
          from: transport.from,
          to,
          replyTo: message.replyTo,
          subject: message.subject,
          text: message.text,
          html: message.html ?? undefined,
          attachments: (message.attachments ?? []).map((a) => ({
            filename: a.filename,
            content: Buffer.from(a.content),
            contentType: a.contentType,
          })),
        },
        message.signal,
      ),
    transport.onSend,
  );
}

/**
 * The outbox path needs no 'sending' phase: the outbox row, its attachments and the 'sent'
 * record are one statement, so it happens exactly once. Only a key left 'sending' by an
 * earlier SMTP attempt (SMTP_URL since removed) makes it a possible duplicate.
 */
async function writeToOutbox(q: Queryable, from: string, message: EmailMessage, to: string[]): Promise<SendOutcome> {
  const id = newId('eml');
  const attachments = message.attachments ?? [];
  const params: unknown[] = [
    message.sendKey,
    message.kind,
    message.runId ?? null,
    to.join(', '),
    message.subject,
    id,
    from,
    to,
    message.replyTo ?? null,
    message.text,
    message.html ?? null,
  ];
  const values = attachments.map((a, i) => {
    params.push(i, a.filename, a.contentType, Buffer.from(a.content));
    const p = params.length;
    return `($${p - 3}::int, $${p - 2}::text, $${p - 1}::text, $${p}::bytea)`;
  });
  const attachmentInsert = values.length
    ? `, files AS (
         INSERT INTO email_outbox_attachments (outbox_id, position, filename, content_type, content)
         SELECT box.id, v.position, v.filename, v.content_type, v.content
         FROM box, (VALUES ${values.join(', ')}) AS v (position, filename, content_type, content))`
    : '';
  const { rows } = await q.query<SendRecord>(
    `WITH ledger AS (
       INSERT INTO message_sends (send_key, channel, transport, kind, run_id, recipient, subject, status,
         message_id, sent_at)
       VALUES ($1, 'email', 'outbox', $2, $3, $4, $5, 'sent', $6, now())
       ON CONFLICT (send_key) DO UPDATE SET
         status = 'sent', transport = 'outbox', attempts = message_sends.attempts + 1,
         possible_duplicate = message_sends.possible_duplicate OR message_sends.status = 'sending',
         recipient = EXCLUDED.recipient, subject = EXCLUDED.subject, message_id = EXCLUDED.message_id,
         last_error = NULL, sent_at = now(), updated_at = now()
       WHERE message_sends.status <> 'sent'
       RETURNING *),
     box AS (
       INSERT INTO email_outbox (id, send_key, run_id, kind, from_address, to_addresses, reply_to, subject,
         text_body, html_body)
       SELECT $6, $1, $3, $2, $7, $8::text[], $9, $5, $10, $11 FROM ledger
       RETURNING id)${attachmentInsert}
     SELECT send_key, channel, transport, kind, run_id, recipient, subject, status, attempts, possible_duplicate,
       message_id, response, last_error, created_at, updated_at, sent_at FROM ledger`,
    params,
  );
  if (rows[0]) return toOutcome(rows[0], false);
  const earlier = await getSend(q, message.sendKey);
  if (!earlier) throw new Error(`send ${message.sendKey} neither written nor found`);
  return toOutcome(earlier, true);
}
