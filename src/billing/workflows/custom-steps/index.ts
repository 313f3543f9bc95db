// Custom webhook steps: operators insert signed requests to their own endpoints between the
// predefined steps of a workflow type. New runs pin the current list (the engine's `plan`); a
// pinned version resolves for its run whatever happens to the step later (`resolveStep`).
import type { AnyWorkflow, Registry } from '../../../engine/index.ts';
import { InvalidInputError } from '../../../errors.ts';
import { getCustomStepVersion, parsePinnedName, plannedSteps } from './store.ts';
import { customStep } from './step.ts';
import type { CustomStepDeps } from './step.ts';

export * from './store.ts';
export { customStep, customStepBody, customStepOutcome, CUSTOM_RESPONSE_LIMIT, CUSTOM_STEP_EVENT } from './step.ts';
export type { CustomStepDeps } from './step.ts';

/** The definition with its type's custom steps planned into new runs and resolved by pinned name. */
export function withCustomSteps(definition: AnyWorkflow, deps: CustomStepDeps): AnyWorkflow {
  const predefined = definition.steps.map((s) => s.name);
  return {
    ...definition,
    plan: (_input, q) => plannedSteps(q, definition.type, predefined),
    async resolveStep(name, q) {
      const pinned = parsePinnedName(name);
      if (!pinned) return undefined;
      const version = await getCustomStepVersion(q, definition.type, pinned.name, pinned.version);
      return version ? customStep(version, deps) : undefined;
    },
  };
}

/** The predefined steps of `type` in `registry`, or a 400 naming `type`. */
export function predefinedSteps(registry: Registry, type: string): string[] {
  const definition = registry.get(type);
  if (!definition) throw new InvalidInputError([{ field: 'type', message: `unknown workflow type "${type}"` }]);
  return definition.steps.map((s) => s.name);
}
