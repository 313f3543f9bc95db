// The same trivial step body for every engine, so the comparison measures the engines only.

export const STEP_NAMES = ['reserve', 'price', 'tax', 'charge', 'receipt'] as const;

/** What a run is started with. */
export interface BenchInput {
  n: number;
}

/** A few arithmetic operations: enough that the output depends on the input, nothing more. */
export function trivialStep(input: BenchInput, stepIndex: number): { n: number; step: number } {
  return { n: (input.n * 31 + stepIndex) % 1_000_003, step: stepIndex };
}
