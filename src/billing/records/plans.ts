import type { Queryable } from '../../db/types.ts';
import { newId } from '../../ids.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../../errors.ts';
import { toAmount } from './money.ts';
import { Type } from 'typebox';
import type { Static } from 'typebox';
import { currency, inputParser, oneOf, text, withKnownCurrency } from './schemas.ts';
import { MAX_AMOUNT } from './money.ts';
import type { At } from './customers.ts';

export const INTERVALS = ['week', 'month', 'year'] as const;
export type Interval = (typeof INTERVALS)[number];

export interface Plan {
  id: string;
  code: string;
  name: string;
  amount: number;
  currency: string;
  interval: Interval;
  trial_days: number;
  active: boolean;
  created_at: Date;
  updated_at: Date;
}

/** A new plan: the request body of POST /plans, and what `createPlan` takes. */
export const PlanInput = Type.Object(
  {
    code: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$', description: 'e.g. pro-monthly' }),
    name: text(200),
    // A free plan is a plan: 0 is allowed here, unlike on a payment.
    amount: Type.Integer({ minimum: 0, maximum: MAX_AMOUNT, description: 'Minor units per interval.' }),
    currency,
    interval: oneOf(INTERVALS),
    trial_days: Type.Optional(Type.Integer({ minimum: 0, maximum: 730 })),
  },
  { additionalProperties: false },
);
export type PlanInput = Static<typeof PlanInput>;

const COLUMNS = 'id, code, name, amount, currency, interval, trial_days, active, created_at, updated_at';

function toPlan(row: Plan): Plan {
  return { ...row, amount: toAmount(row.amount) };
}

/** Checks a plan's input: the schema, then its currency (upper-cased). */
export const parsePlanInput = inputParser(PlanInput, withKnownCurrency);

/** Plan codes are unique: a second plan with a code is a conflict (409), not a silent no-op. */
export async function createPlan(q: Queryable, input: PlanInput, options: At = {}): Promise<Plan> {
  const { rows } = await q.query<Plan>(
    `INSERT INTO plans (id, code, name, amount, currency, interval, trial_days, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($8::timestamptz, now()), coalesce($8::timestamptz, now()))
     ON CONFLICT (code) DO NOTHING
     RETURNING ${COLUMNS}`,
    [
      options.id ?? newId('plan'),
      input.code,
      input.name,
      input.amount,
      input.currency,
      input.interval,
      input.trial_days ?? 0,
      options.at ?? null,
    ],
  );
  if (!rows[0]) throw new ConflictError(`a plan with code ${input.code} already exists`, { field: 'code' });
  return toPlan(rows[0]);
}

export async function findPlanByCode(q: Queryable, code: string): Promise<Plan | undefined> {
  const { rows } = await q.query<Plan>(`SELECT ${COLUMNS} FROM plans WHERE code = $1`, [code]);
  return rows[0] && toPlan(rows[0]);
}

export async function getPlan(q: Queryable, id: string): Promise<Plan> {
  const { rows } = await q.query<Plan>(`SELECT ${COLUMNS} FROM plans WHERE id = $1`, [id]);
  if (!rows[0]) throw new NotFoundError(`plan ${id} not found`);
  return toPlan(rows[0]);
}

/** A plan a new subscription may use: it must exist and be on sale. */
export async function requirePlan(q: Queryable, code: string, field = 'plan_code'): Promise<Plan> {
  const plan = await findPlanByCode(q, code);
  if (!plan) throw new InvalidInputError([{ field, message: `no plan with code ${code}` }]);
  if (!plan.active) throw new InvalidInputError([{ field, message: `plan ${code} is no longer offered` }]);
  return plan;
}

export async function listPlans(q: Queryable, options: { active?: boolean } = {}): Promise<Plan[]> {
  const { rows } = await q.query<Plan>(
    `SELECT ${COLUMNS} FROM plans WHERE ($1::boolean IS NULL OR active = $1) ORDER BY code`,
    [options.active ?? null],
  );
  return rows.map(toPlan);
}

/** Takes a plan off sale (or back on); existing subscriptions keep their copied price. */
export async function setPlanActive(q: Queryable, code: string, active: boolean): Promise<Plan> {
  const { rows } = await q.query<Plan>(
    `UPDATE plans SET active = $2, updated_at = now() WHERE code = $1 RETURNING ${COLUMNS}`,
    [code, active],
  );
  if (!rows[0]) throw new NotFoundError(`plan ${code} not found`);
  return toPlan(rows[0]);
}
