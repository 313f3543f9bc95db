// Billing statistics: the dashboard summary and one metric per day.
import { Type } from 'typebox';
import { oneOf } from '../../billing/records/schemas.ts';
import { SERIES_METRICS, statsSummary, timeseries } from '../../billing/stats/index.ts';
import { normalizeCurrency } from '../../billing/records/index.ts';
import { InvalidInputError } from '../../errors.ts';
import type { ApiDeps } from '../deps.ts';
import { iso } from '../pagination.ts';
import { route } from '../route.ts';
import type { RouteSpec } from '../route.ts';
import { problemResponses, timestamp } from '../schemas.ts';
import { dayInput } from '../schemas/common.ts';

const TAGS = ['Statistics'];
const day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'UTC day, YYYY-MM-DD' });
const currency = Type.String({ pattern: '^[A-Za-z]{3}$' });

const CURRENCY_SUMMARY_FIELDS = [
  'mrr',
  'arr',
  'active_subscriptions',
  'trialing_subscriptions',
  'revenue',
  'refunds',
  'chargebacks',
  'net_revenue',
  'payment_failures',
  'subscriptions_created',
  'subscriptions_cancelled',
];

const currencySummary = {
  title: 'CurrencySummary',
  type: 'object',
  required: ['currency', ...CURRENCY_SUMMARY_FIELDS],
  properties: Object.fromEntries(
    CURRENCY_SUMMARY_FIELDS.map((k) => [k, { type: 'integer' }] as [string, unknown]).concat([
      ['currency', { type: 'string' }],
    ]),
  ),
};

export function statsRoutes(deps: ApiDeps): RouteSpec[] {
  const { db } = deps;
  return [
    route({
      method: 'GET',
      url: '/stats/summary',
      operationId: 'getStatsSummary',
      access: 'viewer',
      summary: 'MRR, ARR, active subscriptions and revenue per currency; customers per status',
      description:
        'Amounts in minor units, never added across currencies. Flow totals since `since` (default: all time).',
      tags: TAGS,
      querystring: Type.Object({ since: Type.Optional(day) }, { additionalProperties: false }),
      response: {
        200: {
          title: 'StatsSummary',
          type: 'object',
          required: ['as_of', 'active_subscriptions', 'currencies', 'customers'],
          properties: {
            as_of: timestamp,
            since: { type: ['string', 'null'] },
            active_subscriptions: { type: 'integer' },
            currencies: { type: 'array', items: currencySummary },
            customers: { type: 'object', additionalProperties: { type: 'integer' } },
          },
        },
        ...problemResponses(),
      },
      async handler({ query }) {
        const since = query.since === undefined ? undefined : new Date(`${dayInput(query.since, 'since')}T00:00:00Z`);
        const summary = await statsSummary(db, { now: deps.clock(), since });
        return { status: 200, body: { ...summary, as_of: iso(summary.as_of) } };
      },
    }),
    route({
      method: 'GET',
      url: '/stats/timeseries',
      operationId: 'getStatsTimeseries',
      access: 'viewer',
      summary: 'One metric per UTC day over [from, to]',
      description:
        "Flow metrics give each day's total; subscriptions_active, arr and mrr the level at the end of each day.",
      tags: TAGS,
      querystring: Type.Object(
        { metric: oneOf(SERIES_METRICS), from: day, to: day, currency: Type.Optional(currency) },
        { additionalProperties: false },
      ),
      response: {
        200: {
          title: 'TimeSeries',
          type: 'object',
          required: ['metric', 'from', 'to', 'series'],
          properties: {
            metric: { type: 'string' },
            from: { type: 'string' },
            to: { type: 'string' },
            series: {
              type: 'array',
              items: {
                type: 'object',
                required: ['currency', 'points'],
                properties: {
                  currency: { type: 'string' },
                  points: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['day', 'value'],
                      properties: { day: { type: 'string' }, value: { type: 'integer' } },
                    },
                  },
                },
              },
            },
          },
        },
        ...problemResponses(),
      },
      async handler({ query }) {
        const from = dayInput(query.from, 'from');
        const to = dayInput(query.to, 'to');
        let code: string | undefined;
        if (query.currency !== undefined) {
          code = normalizeCurrency(query.currency);
          if (!code) throw new InvalidInputError([{ field: 'currency', message: 'is not a known ISO 4217 currency' }]);
        }
        return { status: 200, body: await timeseries(db, query.metric, from, to, { currency: code }) };
      },
    }),
  ];
}
