import type { Queryable } from '../db/types.ts';
import { InvalidInputError } from '../errors.ts';
import type { FieldError } from '../errors.ts';
import type { NotificationCatalogue } from './catalogue.ts';
import { isEmailAddress } from './events.ts';
import type { NotificationEvent } from './events.ts';

/** Who hears about an event (of the catalogue's `settingsEvents`). */
export interface NotificationSettings<E extends string = NotificationEvent> {
  event: E;
  /** Email the customer (never for internal-only events). */
  customer_email: boolean;
  /** Post to every enabled Slack endpoint. */
  slack: boolean;
  /** Add to the in-app feed. */
  in_app: boolean;
  /** Email `team_emails`. */
  team_email: boolean;
  team_emails: string[];
  /** False while the shipped defaults apply (no row saved yet). */
  customized: boolean;
  updated_by: string | null;
  updated_at: Date | null;
}

export type SettingsPatch = Partial<
  Pick<NotificationSettings, 'customer_email' | 'slack' | 'in_app' | 'team_email' | 'team_emails'>
>;

const MAX_TEAM_EMAILS = 20;

/**
 * Shipped defaults: customers get their emails, the team gets the in-app feed and Slack (which
 * only posts once an endpoint exists); team emails are opt-in since they need addresses.
 */
export function defaultSettings<E extends string>(
  catalogue: NotificationCatalogue<E>,
  event: E,
): NotificationSettings<E> {
  return {
    event,
    customer_email: !catalogue.internalOnly.includes(event),
    slack: true,
    in_app: true,
    team_email: false,
    team_emails: [],
    customized: false,
    updated_by: null,
    updated_at: null,
  };
}

type Row<E extends string> = Omit<NotificationSettings<E>, 'customized'>;
const COLUMNS = 'event, customer_email, slack, in_app, team_email, team_emails, updated_by, updated_at';

function checkEvent<E extends string>(catalogue: NotificationCatalogue<E>, event: unknown): asserts event is E {
  if (!(catalogue.settingsEvents as unknown[]).includes(event)) {
    const message = `must be one of ${catalogue.settingsEvents.join(', ')}`;
    throw new InvalidInputError([{ field: 'event', message }]);
  }
}

export async function getNotificationSettings<E extends string>(
  q: Queryable,
  catalogue: NotificationCatalogue<E>,
  event: E,
): Promise<NotificationSettings<E>> {
  checkEvent(catalogue, event);
  const { rows } = await q.query<Row<E>>(`SELECT ${COLUMNS} FROM notification_settings WHERE event = $1`, [event]);
  return settingsOf(catalogue, event, rows[0]);
}

/** The event's settings from its saved row (read elsewhere, e.g. as JSON), or the defaults. */
export function settingsOf<E extends string>(
  catalogue: NotificationCatalogue<E>,
  event: E,
  row: Row<E> | null | undefined,
): NotificationSettings<E> {
  checkEvent(catalogue, event);
  if (!row) return defaultSettings(catalogue, event);
  return { ...row, updated_at: row.updated_at === null ? null : new Date(row.updated_at), customized: true };
}

/** The saved settings row of the event in parameter `param` as JSON (null when none), for reads joined with others. */
export const settingsJsonSql = (param: string) =>
  `(SELECT row_to_json(r) FROM (SELECT ${COLUMNS} FROM notification_settings WHERE event = ${param}) r)`;

/** Every event's settings, in catalogue order. */
export async function listNotificationSettings<E extends string>(
  q: Queryable,
  catalogue: NotificationCatalogue<E>,
): Promise<NotificationSettings<E>[]> {
  const { rows } = await q.query<Row<E>>(`SELECT ${COLUMNS} FROM notification_settings`);
  const saved = new Map(rows.map((r) => [r.event, r]));
  return catalogue.settingsEvents.map((event) => {
    const row = saved.get(event);
    return row ? { ...row, customized: true } : defaultSettings(catalogue, event);
  });
}

function checkPatch(internalOnly: boolean, event: string, patch: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  const known = ['customer_email', 'slack', 'in_app', 'team_email', 'team_emails'];
  for (const key of Object.keys(patch)) {
    if (!known.includes(key)) errors.push({ field: key, message: 'is not a setting' });
  }
  for (const key of ['customer_email', 'slack', 'in_app', 'team_email']) {
    if (key in patch && typeof patch[key] !== 'boolean') errors.push({ field: key, message: 'must be true or false' });
  }
  if (patch.customer_email === true && internalOnly) {
    errors.push({ field: 'customer_email', message: `${event} is never sent to customers` });
  }
  if ('team_emails' in patch) {
    const list = patch.team_emails;
    if (!Array.isArray(list)) {
      errors.push({ field: 'team_emails', message: 'must be a list of email addresses' });
    } else {
      if (list.length > MAX_TEAM_EMAILS) errors.push({ field: 'team_emails', message: `at most ${MAX_TEAM_EMAILS}` });
      list.forEach((address, i) => {
        if (!isEmailAddress(address)) errors.push({ field: `team_emails[${i}]`, message: 'is not an email address' });
      });
    }
  }
  return errors;
}

/**
 * Changes some settings of one event; the rest keep their current value. Turning team email on
 * requires at least one address, so a switch never looks on while nothing can be sent.
 */
export async function updateNotificationSettings<E extends string>(
  q: Queryable,
  catalogue: NotificationCatalogue<E>,
  event: E,
  patch: SettingsPatch,
  actor?: string,
): Promise<NotificationSettings<E>> {
  checkEvent(catalogue, event);
  const errors = checkPatch(catalogue.internalOnly.includes(event), event, patch as Record<string, unknown>);
  if (errors.length > 0) throw new InvalidInputError(errors);
  const next = { ...(await getNotificationSettings(q, catalogue, event)), ...patch };
  next.team_emails = [...new Set(next.team_emails.map((a) => a.trim()))];
  if (next.team_email && next.team_emails.length === 0) {
    throw new InvalidInputError([{ field: 'team_emails', message: 'needs an address while team_email is on' }]);
  }
  const { rows } = await q.query<Row<E>>(
    `INSERT INTO notification_settings (event, customer_email, slack, in_app, team_email, team_emails, updated_by)
     VALUES ($1, $2, $3, $4, $5, $6::text[], $7)
     ON CONFLICT (event) DO UPDATE SET customer_email = EXCLUDED.customer_email, slack = EXCLUDED.slack,
       in_app = EXCLUDED.in_app, team_email = EXCLUDED.team_email, team_emails = EXCLUDED.team_emails,
       updated_by = EXCLUDED.updated_by, updated_at = now()
     RETURNING ${COLUMNS}`,
    [event, next.customer_email, next.slack, next.in_app, next.team_email, next.team_emails, actor ?? null],
  );
  return { ...(rows[0] as Row<E>), customized: true };
}

/** Back to the shipped defaults for one event. */
export async function resetNotificationSettings<E extends string>(
  q: Queryable,
  catalogue: NotificationCatalogue<E>,
  event: E,
): Promise<NotificationSettings<E>> {
  checkEvent(catalogue, event);
  await q.query('DELETE FROM notification_settings WHERE event = $1', [event]);
  return defaultSettings(catalogue, event);
}
