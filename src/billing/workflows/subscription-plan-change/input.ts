// subscription_plan_change's input: what the API accepts (the request body's one schema: which
// plan, now or at the period's end), and what a run stores (the subscription and the change's id).
import { Type } from 'typebox';
import type { Static } from 'typebox';
import { PLAN_CHANGE_TIMINGS } from '../../records/index.ts';
import { idOf, inputParser, oneOf, text } from '../../records/schemas.ts';
import { RunOrigin } from '../shared/origin.ts';

export const PlanChangeRequest = Type.Object(
  {
    plan_code: text(64),
    when: oneOf(PLAN_CHANGE_TIMINGS),
    reason: Type.Optional(text(500)),
  },
  { additionalProperties: false },
);
export type PlanChangeRequest = Static<typeof PlanChangeRequest>;

export const PlanChangeRunInput = Type.Object(
  {
    plan_change_id: idOf('pch'),
    subscription_id: idOf('sub'),
    ...PlanChangeRequest.properties,
    origin: Type.Optional(RunOrigin),
  },
  { additionalProperties: false },
);
export type PlanChangeRunInput = Static<typeof PlanChangeRunInput>;

export const parsePlanChangeRunInput = inputParser(PlanChangeRunInput);
