import type { Queryable } from '../db/types.ts';
import type { StepDefinition, WorkflowDefinition } from './define.ts';

/** A pinned step name → its definition: the workflow's own steps first, then `resolveStep`. */
export async function resolveStep<I>(
  definition: WorkflowDefinition<I>,
  name: string,
  q: Queryable,
): Promise<StepDefinition<I> | undefined> {
  return definition.steps.find((s) => s.name === name) ?? (await definition.resolveStep?.(name, q));
}
