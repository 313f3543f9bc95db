import type { Queryable } from '../db/types.ts';
import { isRetryable } from '../errors.ts';
import type { NotifyDeps } from './deps.ts';
import { runUrl, withCompany } from './deps.ts';
import { sendEmail } from './email.ts';
import { createNotification } from './inbox.ts';
import { getNotificationSettings } from './settings.ts';
import { postSlack } from './slack.ts';
import { enabledSlackTargets } from './slack-endpoints.ts';
import { TEAM_CATALOGUE } from './team-events.ts';
import { renderTemplate } from './templates.ts';
import type { RenderRequest } from './templates.ts';

/** Long enough for one delivery (Slack endpoints and an SMTP send); a crashed sender's message is retried after it. */
export const DELIVERY_LEASE_MS = 2 * 60_000;
const MAX_ATTEMPTS = 10;
const DIGEST_LISTED = 20;

interface MessageRow {
  id: string;
  kind: 'single' | 'digest';
  alert_count: number;
  attempts: number;
}

interface AlertRow {
  run_id: string;
  type: string;
  step: string;
  error: string;
}

async function contentOf(q: Queryable, deps: NotifyDeps, message: MessageRow): Promise<RenderRequest> {
  const { rows } = await q.query<AlertRow>(
    `SELECT run_id, workflow_type AS type, step, error FROM failure_alerts
     WHERE message_id = $1 ORDER BY id LIMIT $2`,
    [message.id, DIGEST_LISTED],
  );
  if (message.kind === 'single' && rows[0]) {
    const alert = rows[0];
    return {
      event: 'run_failed',
      channel: 'internal',
      data: withCompany(deps, { run: { id: alert.run_id, ...alert, url: runUrl(deps, alert.run_id) } }),
    };
  }
  const bySteps = await q.query<{ step: string; count: number }>(
    `SELECT step, count(*)::int AS count FROM failure_alerts WHERE message_id = $1
     GROUP BY step ORDER BY count(*) DESC, step LIMIT 10`,
    [message.id],
  );
  return {
    event: 'alert_digest',
    channel: 'internal',
    data: withCompany(deps, {
      count: message.alert_count,
      more: Math.max(0, message.alert_count - rows.length),
      alerts: rows.map((a) => ({ ...a, url: runUrl(deps, a.run_id) })),
      by_step: bySteps.rows,
    }),
  };
}

/**
 * Delivers one alert message (a single alert or a digest) to Slack and the team per the
 * `run_failed` settings. Each channel has its own send key under the message id, so a retry
 * after a partial failure or a crash only sends what did not go out (and flags what might
 * have). Never throws: a failure is recorded and retried by the next flush after a backoff.
 */
export async function deliverAlertMessage(q: Queryable, deps: NotifyDeps, messageId: string): Promise<boolean> {
  const { rows } = await q.query<MessageRow>(
    `SELECT id, kind, alert_count, attempts FROM alert_messages WHERE id = $1 AND status = 'pending'`,
    [messageId],
  );
  const message = rows[0];
  if (!message) return true;
  const failures: unknown[] = [];
  try {
    const settings = await getNotificationSettings(q, TEAM_CATALOGUE, 'run_failed');
    const targets = settings.slack ? await enabledSlackTargets(q) : [];
    const emails = settings.team_email ? settings.team_emails : [];
    if (targets.length > 0 || emails.length > 0) {
      const content = await contentOf(q, deps, message);
      const slack =
        targets.length > 0 ? await renderTemplate(q, TEAM_CATALOGUE, { ...content, channel: 'slack' }) : undefined;
      for (const endpoint of targets) {
        if (!slack) break;
        await postSlack(
          q,
          { fetch: deps.fetch, timeoutMs: deps.slackTimeoutMs, onSend: deps.onSend },
          {
            sendKey: `alert:${message.id}:slack:${endpoint.id}`,
            kind: 'alert_slack',
            endpoint,
            text: slack.body,
          },
        ).catch((error: unknown) => failures.push(error));
      }
      if (emails.length > 0) {
        const text = await renderTemplate(q, TEAM_CATALOGUE, content);
        await sendEmail(q, deps.email, {
          sendKey: `alert:${message.id}:team_email`,
          kind: 'alert_email',
          to: emails,
          subject: text.subject,
          text: text.body,
        }).catch((error: unknown) => failures.push(error));
      }
    }
  } catch (error) {
    failures.push(error);
  }
  const now = deps.clock();
  if (failures.length === 0) {
    await q.query(
      `UPDATE alert_messages SET status = 'sent', attempts = attempts + 1, sent_at = $2, last_error = NULL
       WHERE id = $1`,
      [message.id, now],
    );
    return true;
  }
  const attempts = message.attempts + 1;
  const error = failures
    .map((f) => (f instanceof Error ? f.message : String(f)))
    .join('; ')
    .slice(0, 2000);
  const giveUp = attempts >= MAX_ATTEMPTS || !failures.some(isRetryable);
  const backoffMs = Math.min(60_000 * 2 ** (attempts - 1), 60 * 60_000);
  await q.query(
    `UPDATE alert_messages SET status = $2, attempts = $3, last_error = $4, next_attempt_at = $5 WHERE id = $1`,
    [message.id, giveUp ? 'failed' : 'pending', attempts, error, new Date(now.getTime() + backoffMs)],
  );
  if (giveUp) {
    // The in-app alerts exist; say in the feed that their Slack/email copies did not go out.
    await createNotification(q, {
      kind: 'alert',
      event: 'run_failed',
      severity: 'warning',
      title: `Failure alert could not be delivered to Slack or email`,
      body: `${message.alert_count} failed run(s) were not announced outside Billflow: ${error}`,
      dedupeKey: `alert_delivery_failed:${message.id}`,
    });
  }
  return false;
}
