// subscription_plan_change's input: which subscription, which plan, now or at the period's end.
import { parsePlanChangeInput } from '../../records/index.ts';
import type { PlanChangeInput } from '../../records/index.ts';
import { parseOrigin, withOrigin } from '../shared/origin.ts';
import type { RunOrigin } from '../shared/origin.ts';

export type PlanChangeRunInput = PlanChangeInput & { origin?: RunOrigin };

export const parsePlanChangeRunInput = (raw: unknown): PlanChangeRunInput =>
  withOrigin(parsePlanChangeInput(raw), parseOrigin(raw));
