import type { Queryable } from '../db/types.ts';
import { deliverOnce } from './sends.ts';
import type { OnSend, SendOutcome } from './sends.ts';
import { postJson } from './http.ts';
import type { FetchFn } from './http.ts';

export interface SlackDeps {
  fetch: FetchFn;
  /** Per request; Slack answers within a second or two when healthy. */
  timeoutMs?: number;
  onSend?: OnSend;
}

export interface SlackTarget {
  id: string;
  name: string;
  url: string;
}

export interface SlackMessage {
  sendKey: string;
  kind: string;
  runId?: string | null;
  endpoint: SlackTarget;
  /** mrkdwn; also the notification text when `blocks` are given. */
  text: string;
  blocks?: unknown[];
  signal?: AbortSignal;
}

/**
 * Posts to a Slack incoming webhook, at least once under the send key. 5xx, 429 and network
 * trouble are retryable; other 4xx (bad payload, revoked or archived channel) are permanent.
 */
export async function postSlack(q: Queryable, deps: SlackDeps, message: SlackMessage): Promise<SendOutcome> {
  const body = JSON.stringify(message.blocks ? { text: message.text, blocks: message.blocks } : { text: message.text });
  return deliverOnce(
    q,
    {
      sendKey: message.sendKey,
      channel: 'slack',
      transport: 'slack',
      kind: message.kind,
      runId: message.runId,
      // The endpoint's name, never its URL: the URL is the credential.
      recipient: `slack:${message.endpoint.name}`,
      subject: message.text.split('\n', 1)[0]?.slice(0, 200) ?? null,
    },
    () =>
      postJson({
        fetch: deps.fetch,
        url: message.endpoint.url,
        body,
        timeoutMs: deps.timeoutMs ?? 10_000,
        signal: message.signal,
      }),
    deps.onSend,
  );
}
