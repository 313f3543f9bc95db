import { Liquid, Tag, UndefinedVariableError } from 'liquidjs';
import type { Context, TagToken, Template, TopLevelToken } from 'liquidjs';
import { InvalidInputError } from '../errors.ts';
import type { FieldError } from '../errors.ts';
import { DEFAULT_LOCALE } from './events.ts';
import { formatMoney } from './money.ts';
import type { MinorAmount } from './money.ts';
import { dateTimeFormat } from '../intl.ts';

/** A template as stored and edited: `body` is plain text (or Slack mrkdwn), `html` optional. */
export interface TemplateSource {
  subject?: string | null;
  body: string;
  html?: string | null;
}

export interface RenderedMessage {
  subject: string;
  body: string;
  html: string | null;
}

export type TemplateField = 'subject' | 'body' | 'html';

/** How values are escaped on output: HTML for html, Slack's three entities for mrkdwn, none for text. */
export type Escaping = 'none' | 'html' | 'slack';

/** What liquidjs binds `this` to in a filter (its own type is not exported). */
interface FilterThis {
  context: Context;
}

// Operators edit templates in the UI; a template must not be able to read files or hang a worker.
const LIMITS = { parseLimit: 100_000, renderLimit: 1_000, memoryLimit: 10_000_000 };

class ForbiddenTag extends Tag {
  constructor(token: TagToken, remainTokens: TopLevelToken[], liquid: Liquid) {
    super(token, remainTokens, liquid);
    throw new Error(`the "${token.name}" tag is not available in notification templates`);
  }
  *render(): Generator<unknown, void, unknown> {}
}

const slackEscape = (value: unknown): string =>
  String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');

/**
 * A Liquid built for one render: no file system (an empty in-memory template map, and the tags
 * that load other templates refused at parse time), own properties only, unknown filters are
 * errors, unknown variables render empty (or, `strict`, are errors — except where tested in
 * `if`/`unless` or given a `default`, which is how a template handles an optional value).
 * checkTemplate builds one per call; sends render through `parsed` below.
 */
function buildLiquid(escaping: Escaping, strict = false, limits: Partial<typeof LIMITS> = LIMITS): Liquid {
  const liquid = new Liquid({
    templates: {},
    strictFilters: true,
    strictVariables: strict,
    lenientIf: true,
    ownPropertyOnly: true,
    outputEscape: escaping === 'html' ? 'escape' : escaping === 'slack' ? slackEscape : undefined,
    ...limits,
  });
  for (const tag of ['include', 'render', 'layout']) liquid.registerTag(tag, ForbiddenTag);
  liquid.registerFilter('money', function (this: FilterThis, amount: unknown, currency: unknown) {
    if (amount === undefined || amount === null || typeof currency !== 'string') return '';
    return formatMoney(amount as MinorAmount, currency, localeOf(this));
  });
  liquid.registerFilter('localdate', function (this: FilterThis, value: unknown, style: unknown) {
    const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined;
    if (!date || Number.isNaN(date.getTime())) return '';
    const dateStyle = style === 'short' || style === 'medium' || style === 'full' ? style : 'long';
    // Dates in billing records are calendar dates in UTC (due dates, periods).
    return dateTimeFormat(localeOf(this), { dateStyle, timeZone: 'UTC' }).format(date);
  });
  return liquid;
}

// Every send rendered the same few templates with a Liquid built and a parse made for each field:
// ~5 % of a billing run's CPU. A Liquid keeps no render state (each render has a context of its
// own, with its own render and memory limits) but counts its parse limit over every parse it
// makes, so the shared ones below have none and `parsed` checks each text's length instead. A
// parsed template is keyed by its whole text: an edited template is another key.
const shared = new Map<string, Liquid>();
const templates = new Map<string, Template[]>();
const MAX_PARSED = 200;

function parsed(escaping: Escaping, strict: boolean, text: string): { liquid: Liquid; template: Template[] } {
  const kind = `${escaping}:${strict}`;
  let liquid = shared.get(kind);
  if (!liquid) shared.set(kind, (liquid = buildLiquid(escaping, strict, { ...LIMITS, parseLimit: Infinity })));
  const key = `${kind}:${text}`;
  let template = templates.get(key);
  if (!template) {
    // liquidjs's own words for the same limit.
    if (text.length > LIMITS.parseLimit) throw new Error('parse length limit exceeded');
    template = liquid.parse(text);
    if (templates.size >= MAX_PARSED) templates.delete(templates.keys().next().value as string);
    templates.set(key, template);
  }
  return { liquid, template };
}

function localeOf(filter: FilterThis): string {
  const locale = (filter.context.globals as { locale?: unknown }).locale;
  return typeof locale === 'string' ? locale : DEFAULT_LOCALE;
}

function fieldsOf(source: TemplateSource, bodyEscaping: Escaping): [TemplateField, string, Escaping][] {
  const fields: [TemplateField, string, Escaping][] = [];
  if (source.subject != null) fields.push(['subject', source.subject, 'none']);
  fields.push(['body', source.body, bodyEscaping]);
  if (source.html != null) fields.push(['html', source.html, 'html']);
  return fields;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Reports every syntax error of a template at once, each naming its field. */
export function checkTemplate(source: TemplateSource, bodyEscaping: Escaping = 'none'): void {
  const errors: FieldError[] = [];
  for (const [field, text, escaping] of fieldsOf(source, bodyEscaping)) {
    try {
      buildLiquid(escaping).parse(text);
    } catch (error) {
      errors.push({ field, message: describe(error) });
    }
  }
  if (errors.length > 0) throw new InvalidInputError(errors);
}

/**
 * Renders every field of a template with `data`. A syntax or render error is the template's
 * fault (retrying cannot fix it): InvalidInputError naming the field.
 */
export async function renderSource(
  source: TemplateSource,
  data: Record<string, unknown>,
  options: { locale: string; bodyEscaping: Escaping },
): Promise<RenderedMessage> {
  const out: RenderedMessage = { subject: '', body: '', html: null };
  const errors: FieldError[] = [];
  for (const [field, text, escaping] of fieldsOf(source, options.bodyEscaping)) {
    try {
      const { liquid, template } = parsed(escaping, false, text);
      const rendered = String(await liquid.render(template, data, { globals: { locale: options.locale } }));
      // A subject is one header line: line breaks in data must not split it.
      out[field] = field === 'subject' ? rendered.replace(/\s+/g, ' ').trim() : rendered.trim();
    } catch (error) {
      errors.push({ field, message: describe(error) });
    }
  }
  if (errors.length > 0) throw new InvalidInputError(errors);
  return out;
}

/** A variable a template uses that its data does not have: it renders blank in a real message. */
export interface UndefinedVariable {
  field: TemplateField;
  variable: string;
  message: string;
}

/**
 * Renders each field again with strict variables to find a variable the data lacks (the first
 * per field: Liquid stops there). Syntax errors are left to renderSource/checkTemplate.
 */
export async function findUndefinedVariables(
  source: TemplateSource,
  data: Record<string, unknown>,
  options: { locale: string; bodyEscaping: Escaping },
): Promise<UndefinedVariable[]> {
  const found: UndefinedVariable[] = [];
  for (const [field, text, escaping] of fieldsOf(source, options.bodyEscaping)) {
    try {
      const { liquid, template } = parsed(escaping, true, text);
      await liquid.render(template, data, { globals: { locale: options.locale } });
    } catch (error) {
      if (!(error instanceof UndefinedVariableError)) continue;
      const variable = /undefined variable: ([^,]+)/.exec(error.message)?.[1] ?? error.message;
      found.push({ field, variable, message: error.message });
    }
  }
  return found;
}
