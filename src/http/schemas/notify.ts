// Notification settings, templates, Slack endpoints, outbox and the in-app feed: API schemas.
import { Type } from 'typebox';
import { oneOf } from '../../billing/records/schemas.ts';
import { NOTIFICATION_EVENTS, SETTINGS_EVENTS } from '../../billing/notifications/index.ts';
import { TEMPLATE_CHANNELS } from '../../notify/index.ts';
import type { JsonSchema } from '../route.ts';
import { nullableTimestamp, timestamp } from '../schemas.ts';

const str: JsonSchema = { type: 'string' };
const nullableStr: JsonSchema = { type: ['string', 'null'] };

export const settingsEventSchema = oneOf(SETTINGS_EVENTS, { title: 'SettingsEvent' });
export const eventSchema = oneOf(NOTIFICATION_EVENTS, { title: 'NotificationEvent' });
export const channelSchema = oneOf(TEMPLATE_CHANNELS, { title: 'TemplateChannel' });
export const localeSchema = Type.String({
  pattern: '^[a-z]{2,3}(-[A-Z][a-zA-Z0-9]{1,7})?$',
  maxLength: 12,
  description: 'en, de, de-AT, …',
});

export const settingsSchema: JsonSchema = {
  title: 'NotificationSettings',
  type: 'object',
  required: ['event', 'customer_email', 'slack', 'in_app', 'team_email', 'team_emails', 'customized'],
  properties: {
    event: settingsEventSchema,
    customer_email: { type: 'boolean' },
    slack: { type: 'boolean' },
    in_app: { type: 'boolean' },
    team_email: { type: 'boolean' },
    team_emails: { type: 'array', items: str },
    customized: { type: 'boolean', description: 'False while the shipped defaults apply.' },
    updated_by: nullableStr,
    updated_at: nullableTimestamp,
  },
};

const sourceProperties = { subject: nullableStr, body: str, html: nullableStr };

export const templateSchema: JsonSchema = {
  title: 'Template',
  type: 'object',
  required: [
    'event',
    'channel',
    'locale',
    'subject',
    'body',
    'html',
    'is_override',
    'default',
    'updated_by',
    'updated_at',
  ],
  properties: {
    event: eventSchema,
    channel: channelSchema,
    locale: str,
    ...sourceProperties,
    is_override: { type: 'boolean' },
    default: {
      type: ['object', 'null'],
      properties: sourceProperties,
      description: 'What deleting the override restores; null where nothing ships for this locale.',
    },
    updated_by: nullableStr,
    updated_at: nullableTimestamp,
  },
};

export const templateListItemSchema: JsonSchema = {
  title: 'TemplateListItem',
  type: 'object',
  required: ['event', 'channel', 'locale', 'is_override', 'has_default', 'updated_at'],
  properties: {
    event: eventSchema,
    channel: channelSchema,
    locale: str,
    is_override: { type: 'boolean' },
    has_default: { type: 'boolean' },
    updated_at: nullableTimestamp,
  },
};

export const renderedSchema: JsonSchema = {
  title: 'RenderedTemplate',
  type: 'object',
  required: ['subject', 'body', 'html', 'warnings', 'variables'],
  properties: {
    subject: str,
    body: str,
    html: nullableStr,
    warnings: {
      type: 'array',
      description: 'Variables the text uses that the data lacks (the first per field): they render blank.',
      items: {
        type: 'object',
        required: ['field', 'variable', 'message'],
        properties: { field: { type: 'string', enum: ['subject', 'body', 'html'] }, variable: str, message: str },
      },
    },
    variables: {
      type: 'array',
      description: 'The variables this event offers its templates, with sample values (`alerts[].step`: per item).',
      items: { type: 'object', required: ['name', 'example'], properties: { name: str, example: str } },
    },
  },
};

export const slackEndpointSchema: JsonSchema = {
  title: 'SlackEndpoint',
  type: 'object',
  required: ['id', 'name', 'url_hint', 'enabled'],
  properties: {
    id: str,
    name: str,
    url_hint: { type: 'string', description: 'The webhook URL is a credential: only its host and last characters.' },
    enabled: { type: 'boolean' },
    created_at: timestamp,
    updated_at: timestamp,
  },
};

const outboxProperties = {
  id: str,
  send_key: str,
  run_id: nullableStr,
  kind: str,
  from_address: str,
  to_addresses: { type: 'array', items: str },
  reply_to: nullableStr,
  subject: str,
  created_at: timestamp,
  attachment_count: { type: 'integer' },
};

export const outboxEmailSchema: JsonSchema = {
  title: 'OutboxEmail',
  type: 'object',
  required: Object.keys(outboxProperties),
  properties: outboxProperties,
};

export const outboxDetailSchema: JsonSchema = {
  title: 'OutboxEmailDetail',
  type: 'object',
  required: [...Object.keys(outboxProperties), 'text_body', 'html_body', 'attachments'],
  properties: {
    ...outboxProperties,
    text_body: str,
    html_body: nullableStr,
    attachments: {
      type: 'array',
      items: {
        type: 'object',
        required: ['position', 'filename', 'content_type', 'size'],
        properties: {
          position: { type: 'integer' },
          filename: str,
          content_type: str,
          size: { type: 'integer' },
        },
      },
    },
  },
};

export const notificationSchema: JsonSchema = {
  title: 'Notification',
  type: 'object',
  required: ['id', 'kind', 'event', 'severity', 'title', 'created_at'],
  properties: {
    id: str,
    kind: { type: 'string', enum: ['notice', 'alert'] },
    event: str,
    severity: { type: 'string', enum: ['info', 'warning', 'error'] },
    title: str,
    body: str,
    run_id: nullableStr,
    data: { type: 'object', additionalProperties: true },
    read_at: { ...nullableTimestamp, description: 'When the caller read it; null while unread.' },
    resolved_at: {
      ...nullableTimestamp,
      description: 'Alerts: when the run completed or was cancelled (nothing left to act on).',
    },
    created_at: timestamp,
  },
};
