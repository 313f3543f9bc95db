import type { Queryable } from '../db/types.ts';
import { PermanentError } from '../errors.ts';
import { isSkippedOutput } from './define.ts';
import type {
  DbStep,
  DbStepContext,
  ExternalStep,
  SkippedOutput,
  StepContext,
  StepControl,
  StepDefinition,
  WorkflowDefinition,
} from './define.ts';

/** A pinned step name → its definition: the workflow's own steps first, then `resolveStep`. */
export async function resolveStep<I>(
  definition: WorkflowDefinition<I>,
  name: string,
  q: Queryable,
): Promise<StepDefinition<I> | undefined> {
  return definition.steps.find((s) => s.name === name) ?? (await definition.resolveStep?.(name, q));
}

/**
 * A step a later step of the same run reads: its output is typed by what the step's `run`
 * returns (a wait or an early finish is never seen by a later step, so it is left out).
 */
export interface StepOutput<O> {
  readonly name: string;
  /** This step's output, read in a later step; a step an operator skipped fails the reader for good. */
  output(ctx: StepContext<unknown>): O;
  /** This step's output, or the marker an operator's skip left: the reader decides what a skip means. */
  outputOrSkipped(ctx: StepContext<unknown>): O | SkippedOutput;
}

/** What a step's `run` resolves to, less the controls (waitUntil, finishRun). */
export type OutputOf<R> = Exclude<Awaited<R>, StepControl>;

type StepSpec<S extends StepDefinition<never>> = Omit<S, 'kind'>;

/** A db step whose output later steps read with `.output(ctx)`, typed. */
export function dbStep<I, R>(
  spec: StepSpec<DbStep<I>> & { run(ctx: DbStepContext<I>): Promise<R> },
): DbStep<I> & StepOutput<OutputOf<R>> {
  return withOutput<DbStep<I>, OutputOf<R>>({ ...spec, kind: 'db' });
}

/** An external step whose output later steps read with `.output(ctx)`, typed. */
export function externalStep<I, R>(
  spec: StepSpec<ExternalStep<I>> & { run(ctx: StepContext<I>): Promise<R> },
): ExternalStep<I> & StepOutput<OutputOf<R>> {
  return withOutput<ExternalStep<I>, OutputOf<R>>({ ...spec, kind: 'external' });
}

function withOutput<S extends StepDefinition<never>, O>(step: S): S & StepOutput<O> {
  const name = step.name;
  // The engine keeps outputs by step name; a missing one is a bug no retry changes.
  const outputOrSkipped = (ctx: StepContext<unknown>): O | SkippedOutput => {
    const output = ctx.outputs[name];
    if (output === undefined || output === null) {
      throw new PermanentError(`step ${name} has no output in run ${ctx.runId}`);
    }
    return output as O | SkippedOutput;
  };
  const output = (ctx: StepContext<unknown>): O => {
    const value = outputOrSkipped(ctx);
    if (isSkippedOutput(value)) {
      throw new PermanentError(
        `step ${ctx.step} needs the output of ${name}, which an operator skipped (${value.reason})`,
      );
    }
    return value;
  };
  const handle: StepOutput<O> = { name, output, outputOrSkipped };
  return Object.assign(step, handle);
}
