// Notification templates: list, open, save/delete an override, preview, and a test send.
import { Type } from 'typebox';
import { randomUUID } from 'node:crypto';
import { NotFoundError } from '../../errors.ts';
import {
  getTemplate,
  listTemplates,
  renderTemplate,
  sampleData,
  saveTemplateOverride,
} from '../../billing/notifications/index.ts';
import { DeliveryFailure, deleteTemplateOverride, previewTemplate, sendEmail } from '../../notify/index.ts';
import type { TemplateKey } from '../../notify/index.ts';
import type { ApiDeps } from '../deps.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import { emailSchema, noContent, nullable, problemResponses } from '../schemas.ts';
import { recordView } from '../schemas/billing.ts';
import { actorFrom } from '../schemas/common.ts';
import {
  channelSchema,
  eventSchema,
  localeSchema,
  renderedSchema,
  templateListItemSchema,
  templateSchema,
} from '../schemas/notify.ts';
import { NOTIFY_TAGS } from './notification-settings.ts';

const keyProperties = { event: eventSchema, channel: channelSchema, locale: localeSchema };
const keyParams = Type.Object(keyProperties, { additionalProperties: false });

const subject = Type.Optional(nullable(Type.String({ maxLength: 1000 })));
const body = Type.String({ minLength: 1, maxLength: 100_000 });
const html = Type.Optional(nullable(Type.String({ maxLength: 500_000 })));
const data = Type.Optional(
  Type.Unsafe<Record<string, unknown>>({
    type: 'object',
    additionalProperties: true,
    description: 'Values the template sees; the sample data of the event when absent.',
  }),
);

export function templateRoutes(deps: ApiDeps): RouteSpec[] {
  const { db } = deps;
  const routes: RouteSpec[] = [
    route({
      method: 'GET',
      url: '/templates',
      operationId: 'listTemplates',
      access: 'account_manager',
      summary: 'Every template: each shipped one and each override',
      tags: NOTIFY_TAGS,
      response: {
        200: {
          type: 'object',
          required: ['items'],
          properties: { items: { type: 'array', items: templateListItemSchema } },
        },
        ...problemResponses(),
      },
      async handler() {
        return { status: 200, body: { items: (await listTemplates(db)).map(recordView) } };
      },
    }),
    route({
      method: 'GET',
      url: '/templates/:event/:channel/:locale',
      operationId: 'getTemplate',
      access: 'account_manager',
      summary: 'A template as the editor opens it: the override, or the shipped text',
      tags: NOTIFY_TAGS,
      params: keyParams,
      response: { 200: templateSchema, ...problemResponses() },
      async handler({ params }) {
        return { status: 200, body: recordView(await getTemplate(db, params)) };
      },
    }),
    route({
      method: 'PUT',
      url: '/templates/:event/:channel/:locale',
      operationId: 'saveTemplate',
      access: 'account_manager',
      summary: 'Save an override (Liquid; its syntax is checked, errors name the field)',
      description: 'email and internal need a subject; slack has none; only email has html.',
      tags: NOTIFY_TAGS,
      audit: 'template.save',
      params: keyParams,
      body: Type.Object({ subject, body, html }, { additionalProperties: false }),
      response: { 200: templateSchema, ...problemResponses() },
      async handler(ctx) {
        const actor = actorFrom(ctx.principal);
        const saved = await db.transaction(async (tx) => {
          const view = await saveTemplateOverride(tx, { ...ctx.params, ...ctx.body, actor });
          await ctx.audit(tx, { target: templateTarget(ctx.params) });
          return view;
        });
        return { status: 200, body: recordView(saved) };
      },
    }),
    route({
      method: 'DELETE',
      url: '/templates/:event/:channel/:locale',
      operationId: 'deleteTemplate',
      access: 'account_manager',
      summary: 'Delete an override: the shipped template applies again',
      tags: NOTIFY_TAGS,
      audit: 'template.delete',
      params: keyParams,
      response: { 204: noContent, ...problemResponses() },
      async handler(ctx) {
        await db.transaction(async (tx) => {
          if (!(await deleteTemplateOverride(tx, ctx.params))) {
            throw new NotFoundError(`no override of ${templateTarget(ctx.params)}`);
          }
          await ctx.audit(tx, { target: templateTarget(ctx.params) });
        });
        return { status: 204 };
      },
    }),
    route({
      method: 'POST',
      url: '/templates/preview',
      operationId: 'previewTemplate',
      access: 'account_manager',
      summary: 'Render a template being edited, without saving it',
      description: 'With the sample data of the event unless `data` is given. Syntax errors name the field.',
      tags: NOTIFY_TAGS,
      body: Type.Object(
        { event: eventSchema, channel: channelSchema, locale: Type.Optional(localeSchema), subject, body, html, data },
        { additionalProperties: false },
      ),
      response: { 200: renderedSchema, ...problemResponses() },
      async handler({ body: request }) {
        const rendered = await previewTemplate(
          { subject: request.subject ?? null, body: request.body, html: request.html ?? null },
          withCompanyData(deps, request.data ?? sampleData(request.event)),
          { channel: request.channel, locale: request.locale },
        );
        return { status: 200, body: rendered };
      },
    }),
  ];
  const notify = deps.billing?.notify;
  if (!notify) return routes;
  routes.push(
    route({
      method: 'POST',
      url: '/templates/:event/:channel/:locale/test-send',
      operationId: 'testSendTemplate',
      access: 'account_manager',
      summary: 'Send the template (as saved) to an address, rendered with sample or given data',
      description:
        'email and internal templates only. A delivery the mail server refuses answers 200 with ' +
        '`delivered: false` and its error: the point of a test send is to see that.',
      tags: NOTIFY_TAGS,
      audit: 'template.test_send',
      params: Type.Object(
        { ...keyProperties, channel: Type.Enum(['email', 'internal'], { type: 'string' }) },
        { additionalProperties: false },
      ),
      body: Type.Object({ to: emailSchema, data }, { additionalProperties: false }),
      response: {
        200: {
          type: 'object',
          required: ['delivered', 'transport'],
          properties: {
            delivered: { type: 'boolean' },
            transport: { type: 'string', enum: ['smtp', 'outbox'] },
            subject: { type: 'string' },
            error: { type: ['string', 'null'] },
          },
        },
        ...problemResponses(),
      },
      async handler(ctx) {
        const { params } = ctx;
        const rendered = await renderTemplate(db, {
          event: params.event,
          channel: params.channel,
          locale: params.locale,
          data: withCompanyData(deps, ctx.body.data ?? sampleData(params.event)),
        });
        const audit = { target: templateTarget(params), details: { to: ctx.body.to } };
        try {
          await sendEmail(db, notify.email, {
            // Every test send is its own message: never deduplicated against an earlier one.
            sendKey: `template_test:${randomUUID()}`,
            kind: 'template_test',
            to: ctx.body.to,
            subject: `[Test] ${rendered.subject}`,
            text: rendered.body,
            html: params.channel === 'email' ? rendered.html : null,
          });
        } catch (error) {
          if (!(error instanceof DeliveryFailure)) throw error;
          return {
            status: 200,
            body: { delivered: false, transport: notify.email.kind, subject: rendered.subject, error: error.message },
            audit: { ...audit, details: { ...audit.details, error: error.message } },
          };
        }
        return {
          status: 200,
          body: { delivered: true, transport: notify.email.kind, subject: rendered.subject, error: null },
          audit,
        };
      },
    }),
  );
  return routes;
}

/** `company.*` from the configured sender, unless the data brings its own (as real sends do). */
function withCompanyData(deps: ApiDeps, data: Record<string, unknown>): Record<string, unknown> {
  const company = deps.billing?.notify.company;
  return company && data.company === undefined ? { ...data, company } : data;
}

function templateTarget(key: TemplateKey): string {
  return `template:${key.event}/${key.channel}/${key.locale}`;
}
