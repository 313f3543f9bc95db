import { createHash, createHmac } from 'node:crypto';
import type { Queryable } from '../db/types.ts';
import { InvalidInputError } from '../errors.ts';
import { deliverOnce } from './sends.ts';
import type { OnSend, SendOutcome } from './sends.ts';
import { postJson } from './http.ts';
import type { FetchFn } from './http.ts';

export interface WebhookDeps {
  fetch: FetchFn;
  clock: () => Date;
  timeoutMs?: number;
  onSend?: OnSend;
}

export interface WebhookMessage {
  sendKey: string;
  kind: string;
  runId?: string | null;
  url: string;
  /** `whsec_` + base64 (Standard Webhooks), or any other string used as is. */
  secret: string;
  /** The event type, e.g. `payment.succeeded`. */
  type: string;
  data: unknown;
  signal?: AbortSignal;
}

/**
 * The webhook-id of a message: derived from the send key, so every retry of the same message
 * carries the same id and a receiver can drop the duplicates at-least-once delivery implies.
 */
export function webhookId(sendKey: string): string {
  return `msg_${createHash('sha256').update(sendKey).digest('base64url').slice(0, 32)}`;
}

function secretBytes(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
}

/** Standard Webhooks headers for a body: id, timestamp and an HMAC-SHA256 signature over both. */
export function signWebhook(secret: string, id: string, timestamp: Date, body: string): Record<string, string> {
  const seconds = Math.floor(timestamp.getTime() / 1000).toString();
  const signature = createHmac('sha256', secretBytes(secret)).update(`${id}.${seconds}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': seconds, 'webhook-signature': `v1,${signature}` };
}

/** Sends a signed webhook at least once under its send key (same ledger as email and Slack). */
export async function sendWebhook(q: Queryable, deps: WebhookDeps, message: WebhookMessage): Promise<SendOutcome> {
  let target: URL;
  try {
    target = new URL(message.url);
  } catch {
    throw new InvalidInputError([{ field: 'url', message: 'is not a URL' }]);
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') {
    throw new InvalidInputError([{ field: 'url', message: 'must be http(s)' }]);
  }
  if (!message.secret) throw new InvalidInputError([{ field: 'secret', message: 'is required' }]);
  const id = webhookId(message.sendKey);
  return deliverOnce(
    q,
    {
      sendKey: message.sendKey,
      channel: 'webhook',
      transport: 'webhook',
      kind: message.kind,
      runId: message.runId,
      // Origin only: a path or query may carry a token.
      recipient: target.origin,
      subject: message.type,
    },
    async () => {
      // Signed at send time: a retry carries a fresh timestamp, so it passes the receiver's tolerance.
      const now = deps.clock();
      const body = JSON.stringify({ type: message.type, timestamp: now.toISOString(), data: message.data });
      const delivered = await postJson({
        fetch: deps.fetch,
        url: message.url,
        body,
        headers: signWebhook(message.secret, id, now, body),
        timeoutMs: deps.timeoutMs ?? 15_000,
        signal: message.signal,
      });
      return { ...delivered, messageId: id };
    },
    deps.onSend,
  );
}
