// What sending an event's messages needs from the database, read in one round trip: a message
// step otherwise reads the settings, the operators' texts and the Slack endpoints one by one.
import type { Queryable } from '../db/types.ts';
import type { NotificationCatalogue } from './catalogue.ts';
import { localeChain } from './events.ts';
import type { TemplateChannel } from './events.ts';
import { settingsJsonSql, settingsOf } from './settings.ts';
import type { NotificationSettings } from './settings.ts';
import type { SlackTarget } from './slack.ts';
import { OVERRIDES_SQL } from './templates.ts';
import type { TemplateOverride } from './templates.ts';

export interface EventSetup<E extends string> {
  settings: NotificationSettings<E>;
  /** Saved texts of the asked channels in the locale's chain (see renderWithOverrides). */
  overrides: TemplateOverride[];
  /** Enabled Slack endpoints, by name; empty unless asked for. */
  slackTargets: SlackTarget[];
}

export async function readEventSetup<E extends string>(
  q: Queryable,
  catalogue: NotificationCatalogue<E>,
  event: E,
  want: {
    channels: TemplateChannel[];
    locale?: string;
    slackTargets?: boolean;
    /** Whose settings apply, when not the event's own. */
    settingsOf?: E;
  },
): Promise<EventSetup<E>> {
  const settingsEvent = want.settingsOf ?? event;
  const { rows } = await q.query<{
    settings: Parameters<typeof settingsOf<E>>[2];
    overrides: TemplateOverride[];
    slack: SlackTarget[];
  }>(
    `SELECT ${settingsJsonSql('$5')} AS settings,
            (SELECT coalesce(json_agg(t), '[]'::json) FROM (${OVERRIDES_SQL}) t) AS overrides,
            CASE WHEN $4::boolean
                 THEN (SELECT coalesce(json_agg(e ORDER BY e.name), '[]'::json)
                         FROM (SELECT id, name, url FROM slack_endpoints WHERE enabled) e)
                 ELSE '[]'::json END AS slack`,
    [event, want.channels, localeChain(want.locale), want.slackTargets === true, settingsEvent],
    { name: 'billflow_event_setup' },
  );
  const row = rows[0];
  return {
    settings: settingsOf(catalogue, settingsEvent, row?.settings),
    overrides: row?.overrides ?? [],
    slackTargets: row?.slack ?? [],
  };
}
