import type { Queryable } from '../../db/types.ts';
import { newId } from '../../ids.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../../errors.ts';
import { toAmount } from './money.ts';
import { InputReader } from './validate.ts';
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

export interface PlanInput {
  code: string;
  name: string;
  amount: number;
  currency: string;
  interval: Interval;
  trial_days?: number;
}

const COLUMNS = 'id, code, name, amount, currency, interval, trial_days, active, created_at, updated_at';
const CODE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function toPlan(row: Plan): Plan {
  return { ...row, amount: toAmount(row.amount) };
}

export function parsePlanInput(raw: unknown): PlanInput {
  const r = new InputReader(raw);
  const input: PlanInput = {
    code: r.string('code', {
      required: true,
      max: 64,
      pattern: CODE,
      hint: 'must be letters, digits, _ . - (up to 64), e.g. pro-monthly',
    }),
    name: r.string('name', { required: true, max: 200 }),
    // A free plan is a plan: 0 is allowed here, unlike on a payment.
    amount: r.amount('amount', { min: 0, required: true }),
    currency: r.currency('currency', { required: true }),
    interval: r.oneOf('interval', INTERVALS, { required: true }),
    trial_days: r.integer('trial_days', { min: 0, max: 730 }),
  };
  r.done();
  return input;
}

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
