import type { EmailTransport } from './email.ts';
import type { FetchFn } from './http.ts';
import type { OnSend } from './sends.ts';

/** A failure alert that was raised (not one raised before under the same key). */
export interface AlertEvent {
  type: string;
  step: string;
  delivery: 'sent' | 'queued_for_digest' | 'retry_scheduled' | 'in_app_only';
}

/** What the notification senders need, built once by main.ts and passed down. */
export interface NotifyDeps {
  email: EmailTransport;
  fetch: FetchFn;
  clock: () => Date;
  slackTimeoutMs?: number;
  /** Base URL of the admin UI, for links to runs in alerts. */
  adminUrl?: string;
  /** Sender details every template may use as `company.*`, unless the data brings its own. */
  company?: { name: string; support_email?: string };
  /** Told of every Slack and webhook send (emails tell their transport's `onSend`). */
  onSend?: OnSend;
  /** Told of every failure alert raised. */
  onAlert?: (event: AlertEvent) => void;
}

export function withCompany(deps: NotifyDeps, data: Record<string, unknown>): Record<string, unknown> {
  return deps.company && data.company === undefined ? { ...data, company: deps.company } : data;
}

/** Link to a run in the admin UI, when its address is known. */
export function runUrl(deps: NotifyDeps, runId: string): string | undefined {
  return deps.adminUrl ? `${deps.adminUrl.replace(/\/+$/, '')}/runs/${encodeURIComponent(runId)}` : undefined;
}
