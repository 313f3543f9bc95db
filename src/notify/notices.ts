import type { Queryable } from '../db/types.ts';
import { InvalidInputError, PermanentError, RetryableError, isRetryable } from '../errors.ts';
import type { NotifyDeps } from './deps.ts';
import { withCompany } from './deps.ts';
import { sendEmail } from './email.ts';
import type { EmailAttachment } from './email.ts';
import type { NotificationCatalogue } from './catalogue.ts';
import type { NotificationEvent } from './events.ts';
import { createNotification } from './inbox.ts';
import { sendKey } from './sends.ts';
import type { SendOutcome } from './sends.ts';
import { readEventSetup } from './event-setup.ts';
import { postSlack } from './slack.ts';
import { renderWithOverrides } from './templates.ts';

export interface Skipped {
  status: 'skipped';
  reason: string;
}

export interface CustomerEmailRequest<E extends string = NotificationEvent> {
  event: E;
  /** The step's `ctx.idempotencyKey`: every attempt of the step sends under the same key. */
  idempotencyKey: string;
  runId?: string | null;
  to: string;
  locale?: string;
  data: Record<string, unknown>;
  attachments?: EmailAttachment[];
  signal?: AbortSignal;
}

/** The customer email of an event (send_customer_email), unless switched off for the event. */
export async function sendCustomerEmail<E extends string>(
  q: Queryable,
  catalogue: NotificationCatalogue<E>,
  deps: NotifyDeps,
  request: CustomerEmailRequest<E>,
): Promise<SendOutcome | Skipped> {
  if (catalogue.internalOnly.includes(request.event)) {
    throw new InvalidInputError([{ field: 'event', message: `${request.event} is never sent to customers` }]);
  }
  const { settings, overrides } = await readEventSetup(q, catalogue, request.event, {
    channels: ['email'],
    locale: request.locale,
  });
  if (!settings.customer_email) return { status: 'skipped', reason: `customer emails for ${request.event} are off` };
  const message = await renderWithOverrides(overrides, catalogue, {
    event: request.event,
    channel: 'email',
    locale: request.locale,
    data: withCompany(deps, request.data),
  });
  return sendEmail(q, deps.email, {
    sendKey: sendKey(request.idempotencyKey, 'customer_email'),
    kind: 'customer_email',
    runId: request.runId,
    to: request.to,
    subject: message.subject,
    text: message.body,
    html: message.html,
    attachments: request.attachments,
    signal: request.signal,
  });
}

export interface TeamNoticeRequest<E extends string = NotificationEvent> {
  event: E;
  /** Whose settings route it (default `event`): alerts outside the settings go where run failures go. */
  settingsOf?: E;
  /** False when the in-app feed already has it (an alert created with its own dedupe key). */
  inApp?: boolean;
  idempotencyKey: string;
  runId?: string | null;
  data: Record<string, unknown>;
  signal?: AbortSignal;
}

export interface TeamNoticeResult {
  in_app: { id: string } | Skipped;
  slack: SendOutcome[] | Skipped;
  team_email: SendOutcome | Skipped;
}

/**
 * The internal notice of an event (send_internal_notice): in-app feed, Slack, team email, each
 * per the event's settings. Every channel is tried before failing, and each is idempotent on
 * its own (dedupe key, send keys), so a retry only repeats what did not go out.
 */
export async function sendTeamNotice<E extends string>(
  q: Queryable,
  catalogue: NotificationCatalogue<E>,
  deps: NotifyDeps,
  request: TeamNoticeRequest<E>,
): Promise<TeamNoticeResult> {
  // One read for the settings, the texts and the endpoints, whichever of them the settings use.
  const setup = await readEventSetup(q, catalogue, request.event, {
    channels: ['internal', 'slack'],
    slackTargets: true,
    settingsOf: request.settingsOf,
  });
  const routed = setup.settings;
  const settings = request.inApp === false ? { ...routed, in_app: false } : routed;
  const data = withCompany(deps, request.data);
  const targets = settings.slack ? setup.slackTargets : [];
  const needsText = settings.in_app || (settings.team_email && settings.team_emails.length > 0);
  const text = needsText
    ? await renderWithOverrides(setup.overrides, catalogue, { event: request.event, channel: 'internal', data })
    : undefined;
  const failures: unknown[] = [];
  const attempt = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (error) {
      failures.push(error);
      return undefined;
    }
  };
  const off = (what: string): Skipped => ({ status: 'skipped', reason: `${what} for ${request.event} is off` });

  let inApp: TeamNoticeResult['in_app'] = off('in-app');
  if (settings.in_app && text) {
    const created = await createNotification(q, {
      kind: 'notice',
      event: request.event,
      title: text.subject,
      body: text.body,
      runId: request.runId,
      dedupeKey: sendKey(request.idempotencyKey, 'in_app'),
    });
    inApp = { id: created.id };
  }

  let slack: TeamNoticeResult['slack'] = settings.slack
    ? { status: 'skipped', reason: 'no Slack endpoint enabled' }
    : off('Slack');
  if (targets.length > 0) {
    const slackText = await renderWithOverrides(setup.overrides, catalogue, {
      event: request.event,
      channel: 'slack',
      data,
    });
    const sent: SendOutcome[] = [];
    for (const endpoint of targets) {
      const kind = `team_slack:${endpoint.id}`;
      const outcome = await attempt(() =>
        postSlack(
          q,
          { fetch: deps.fetch, timeoutMs: deps.slackTimeoutMs, onSend: deps.onSend },
          {
            sendKey: sendKey(request.idempotencyKey, kind),
            kind,
            runId: request.runId,
            endpoint,
            text: slackText.body,
            signal: request.signal,
          },
        ),
      );
      if (outcome) sent.push(outcome);
    }
    slack = sent;
  }

  let teamEmail: TeamNoticeResult['team_email'] = off('team email');
  if (settings.team_email && settings.team_emails.length > 0 && text) {
    const outcome = await attempt(() =>
      sendEmail(q, deps.email, {
        sendKey: sendKey(request.idempotencyKey, 'team_email'),
        kind: 'team_email',
        runId: request.runId,
        to: settings.team_emails,
        subject: text.subject,
        text: text.body,
        signal: request.signal,
      }),
    );
    if (outcome) teamEmail = outcome;
  }

  if (failures.length > 0) throw combine(failures);
  return { in_app: inApp, slack, team_email: teamEmail };
}

/** One error for the step: retryable if any part may pass on retry (the rest are deduplicated). */
export function combine(failures: unknown[]): Error {
  const message = failures.map((f) => (f instanceof Error ? f.message : String(f))).join('; ');
  return failures.some(isRetryable)
    ? new RetryableError(message, { cause: failures[0] })
    : new PermanentError(message, { cause: failures[0] });
}
