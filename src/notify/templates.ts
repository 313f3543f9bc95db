import type { Queryable } from '../db/types.ts';
import { InvalidInputError, NotFoundError } from '../errors.ts';
import type { FieldError } from '../errors.ts';
import type { NotificationCatalogue } from './catalogue.ts';
import { TEMPLATE_CHANNELS, isLocale, isTemplateChannel, localeChain } from './events.ts';
import type { NotificationEvent, TemplateChannel } from './events.ts';
import { checkTemplate, findUndefinedVariables, renderSource } from './liquid.ts';
import type { Escaping, RenderedMessage, TemplateSource, UndefinedVariable } from './liquid.ts';
import { templateVariables } from './samples.ts';
import type { TemplateVariable } from './samples.ts';

// The shipped texts come from the catalogue the caller passes (billing's, built from its workflow
// types); what operators save over them lives in notification_templates.

export interface TemplateKey<E extends string = NotificationEvent> {
  event: E;
  channel: TemplateChannel;
  locale: string;
}

export interface RenderRequest<E extends string = NotificationEvent> {
  event: E;
  channel: TemplateChannel;
  /** The recipient's locale (e.g. `de-AT`); falls back to its language, then English. */
  locale?: string;
  data: Record<string, unknown>;
}

export interface RenderedTemplate extends RenderedMessage {
  /** Which template was used: an operator's override or the one shipped in code. */
  source: 'override' | 'default';
  /** The locale of the template used (after fallback). */
  locale: string;
}

export interface TemplateView<E extends string = NotificationEvent> extends TemplateKey<E>, TemplateSource {
  is_override: boolean;
  /** What "reset to default" restores; null where nothing ships for this locale. */
  default: TemplateSource | null;
  updated_by: string | null;
  updated_at: Date | null;
}

interface OverrideRow {
  locale: string;
  subject: string | null;
  body: string;
  html: string | null;
  updated_by: string | null;
  updated_at: Date;
}

const escapingOf = (channel: TemplateChannel): Escaping => (channel === 'slack' ? 'slack' : 'none');

/** An operator's saved text for one event, channel and locale (notification_templates). */
export interface TemplateOverride {
  channel: string;
  locale: string;
  subject: string | null;
  body: string;
  html: string | null;
}

/** The overrides of an event's channels in a locale chain: what renderWithOverrides needs. */
export const OVERRIDES_SQL = `SELECT channel, locale, subject, body, html FROM notification_templates
  WHERE event = $1 AND channel = ANY($2::text[]) AND locale = ANY($3::text[])`;

/**
 * Renders the template for an event, channel and locale: the most specific locale that has an
 * operator override or a shipped template wins (an override beats the shipped template of the
 * same locale only, so an English override does not replace the shipped German text).
 */
export async function renderTemplate<E extends string>(
  q: Queryable,
  catalogue: NotificationCatalogue<E>,
  request: RenderRequest<E>,
): Promise<RenderedTemplate> {
  const { rows } = await q.query<TemplateOverride>(OVERRIDES_SQL, [
    request.event,
    [request.channel],
    localeChain(request.locale),
  ]);
  return renderWithOverrides(rows, catalogue, request);
}

/** renderTemplate with the event's overrides already read (rows of other channels are ignored). */
export async function renderWithOverrides<E extends string>(
  overrides: readonly TemplateOverride[],
  catalogue: NotificationCatalogue<E>,
  request: RenderRequest<E>,
): Promise<RenderedTemplate> {
  const chain = localeChain(request.locale);
  for (const locale of chain) {
    const row = overrides.find((r) => r.channel === request.channel && r.locale === locale);
    const template = row ?? catalogue.shippedTemplate(request.event, request.channel, locale);
    if (!template) continue;
    const rendered = await renderSource(template, request.data, {
      locale: formattingLocale(request.locale, locale),
      bodyEscaping: escapingOf(request.channel),
    });
    return { ...rendered, source: row ? 'override' : 'default', locale };
  }
  throw new NotFoundError(`no ${request.channel} template for ${request.event}`);
}

// Numbers and dates follow the recipient's own locale when the text is in its language
// (de-AT gets Austrian formats in German text), else the text's locale so a message is not mixed.
function formattingLocale(requested: string | undefined, templateLocale: string): string {
  if (requested && isLocale(requested) && requested.split('-')[0] === templateLocale.split('-')[0]) return requested;
  return templateLocale;
}

export interface TemplatePreview extends RenderedMessage {
  /** Variables the text uses that the data lacks: blank in the preview and in real messages. */
  warnings: UndefinedVariable[];
  /** Every variable the data offers, with its sample value: what the template can use. */
  variables: TemplateVariable[];
}

/**
 * Renders a template being edited with sample data, without saving it. Syntax errors come back
 * as InvalidInputError naming the field (subject, body, html); undefined variables as warnings.
 */
export async function previewTemplate(
  source: TemplateSource,
  sampleData: Record<string, unknown>,
  options: { channel?: TemplateChannel; locale?: string } = {},
): Promise<TemplatePreview> {
  const escaping = escapingOf(options.channel ?? 'email');
  checkTemplate(source, escaping);
  const locale = options.locale && isLocale(options.locale) ? options.locale : 'en';
  const rendered = await renderSource(source, sampleData, { locale, bodyEscaping: escaping });
  const warnings = await findUndefinedVariables(source, sampleData, { locale, bodyEscaping: escaping });
  return { ...rendered, warnings, variables: templateVariables(sampleData) };
}

function checkKey(
  catalogue: NotificationCatalogue<string>,
  key: { event: unknown; channel: unknown; locale: unknown },
): FieldError[] {
  const errors: FieldError[] = [];
  if (!catalogue.has(key.event)) {
    errors.push({ field: 'event', message: `must be one of ${catalogue.events.join(', ')}` });
  }
  if (!isTemplateChannel(key.channel)) {
    errors.push({ field: 'channel', message: `must be one of ${TEMPLATE_CHANNELS.join(', ')}` });
  }
  if (!isLocale(key.locale)) errors.push({ field: 'locale', message: 'must be a language tag such as en or de-AT' });
  return errors;
}

/** The template an editor opens: the override if there is one, else the shipped default. */
export async function getTemplate<E extends string>(
  q: Queryable,
  catalogue: NotificationCatalogue<E>,
  key: TemplateKey<E>,
): Promise<TemplateView<E>> {
  const keyErrors = checkKey(catalogue, key);
  if (keyErrors.length > 0) throw new InvalidInputError(keyErrors);
  const { rows } = await q.query<OverrideRow>(
    `SELECT locale, subject, body, html, updated_by, updated_at FROM notification_templates
     WHERE event = $1 AND channel = $2 AND locale = $3`,
    [key.event, key.channel, key.locale],
  );
  const row = rows[0];
  const shipped = catalogue.shippedTemplate(key.event, key.channel, key.locale) ?? null;
  // A locale with nothing shipped opens with the English text as a starting point.
  const base = shipped ?? catalogue.shippedTemplate(key.event, key.channel, 'en');
  if (!row && !base) throw new NotFoundError(`no ${key.channel} template for ${key.event}`);
  const current = row ?? (base as TemplateSource);
  return {
    ...key,
    subject: current.subject ?? null,
    body: current.body,
    html: current.html ?? null,
    is_override: Boolean(row),
    default: shipped,
    updated_by: row?.updated_by ?? null,
    updated_at: row?.updated_at ?? null,
  };
}

export interface SaveTemplateRequest<E extends string = NotificationEvent> extends TemplateKey<E>, TemplateSource {
  actor?: string;
}

/** Saves an operator's template after checking its syntax; every problem is reported by field. */
export async function saveTemplateOverride<E extends string>(
  q: Queryable,
  catalogue: NotificationCatalogue<E>,
  request: SaveTemplateRequest<E>,
): Promise<TemplateView<E>> {
  const errors = checkKey(catalogue, request);
  const needsSubject = request.channel !== 'slack';
  if (needsSubject && (typeof request.subject !== 'string' || request.subject.trim() === '')) {
    errors.push({ field: 'subject', message: 'is required' });
  }
  if (!needsSubject && request.subject != null) errors.push({ field: 'subject', message: 'Slack messages have none' });
  if (typeof request.body !== 'string' || request.body.trim() === '')
    errors.push({ field: 'body', message: 'is required' });
  if (request.html != null && request.channel !== 'email') {
    errors.push({ field: 'html', message: 'only customer emails have an HTML part' });
  }
  if (errors.length > 0) throw new InvalidInputError(errors);
  const source = { subject: request.subject ?? null, body: request.body, html: request.html ?? null };
  checkTemplate(source, escapingOf(request.channel));
  await q.query(
    `INSERT INTO notification_templates (event, channel, locale, subject, body, html, updated_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (event, channel, locale) DO UPDATE SET subject = EXCLUDED.subject, body = EXCLUDED.body,
       html = EXCLUDED.html, updated_by = EXCLUDED.updated_by, updated_at = now()`,
    [request.event, request.channel, request.locale, source.subject, source.body, source.html, request.actor ?? null],
  );
  return getTemplate(q, catalogue, request);
}

/** Drops an override so the shipped template applies again; false if there was none. */
export async function deleteTemplateOverride(q: Queryable, key: TemplateKey<string>): Promise<boolean> {
  const { rowCount } = await q.query(
    'DELETE FROM notification_templates WHERE event = $1 AND channel = $2 AND locale = $3',
    [key.event, key.channel, key.locale],
  );
  return rowCount > 0;
}

export interface TemplateListItem<E extends string = NotificationEvent> extends TemplateKey<E> {
  is_override: boolean;
  has_default: boolean;
  updated_at: Date | null;
}

/** Every template an editor can open: each shipped one and each override, sorted. */
export async function listTemplates<E extends string>(
  q: Queryable,
  catalogue: NotificationCatalogue<E>,
): Promise<TemplateListItem<E>[]> {
  const { rows } = await q.query<TemplateKey<E> & { updated_at: Date }>(
    'SELECT event, channel, locale, updated_at FROM notification_templates',
  );
  const items = new Map<string, TemplateListItem<E>>();
  for (const channel of TEMPLATE_CHANNELS) {
    for (const locale of catalogue.shippedLocales(channel)) {
      for (const event of catalogue.events) {
        if (!catalogue.shippedTemplate(event, channel, locale)) continue;
        items.set(`${event}/${channel}/${locale}`, {
          event,
          channel,
          locale,
          is_override: false,
          has_default: true,
          updated_at: null,
        });
      }
    }
  }
  for (const row of rows) {
    const id = `${row.event}/${row.channel}/${row.locale}`;
    items.set(id, { ...row, is_override: true, has_default: items.has(id) });
  }
  return [...items.values()].sort(
    (a, b) => a.event.localeCompare(b.event) || a.channel.localeCompare(b.channel) || a.locale.localeCompare(b.locale),
  );
}
