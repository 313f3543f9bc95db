// The same step bodies for every engine, so the comparison measures the engines only.

export const STEP_NAMES = ['reserve', 'price', 'tax', 'charge', 'receipt'] as const;

/** What a run is started with. */
export interface BenchInput {
  n: number;
}

/** A few arithmetic operations: enough that the output depends on the input, nothing more. */
export function trivialStep(input: BenchInput, stepIndex: number): { n: number; step: number } {
  return { n: (input.n * 31 + stepIndex) % 1_000_003, step: stepIndex };
}

/**
 * The db-step workload's write: one row per step, in the transaction that checkpoints the step.
 * Each engine creates the table in its own fresh database.
 */
export const RECORDS_TABLE = `
  CREATE TABLE bench_records (
    workflow_id text NOT NULL,
    step int NOT NULL,
    n int NOT NULL,
    PRIMARY KEY (workflow_id, step)
  )`;

export const INSERT_RECORD = 'INSERT INTO bench_records (workflow_id, step, n) VALUES ($1, $2, $3)';

/** The parameters of INSERT_RECORD for one step of one workflow. */
export function recordParams(workflowId: string, input: BenchInput, stepIndex: number): unknown[] {
  return [workflowId, stepIndex, trivialStep(input, stepIndex).n];
}

export const COUNT_RECORDS = 'SELECT count(*)::int AS n FROM bench_records';

/** The db workload's check: every step of every completed run wrote its row, once. */
export function checkRecords(found: number | undefined, runs: number): string {
  const expected = runs * STEP_NAMES.length;
  if (found !== expected) throw new Error(`db steps: ${found} rows written, expected ${expected}`);
  return `${found} rows written by db steps, as expected`;
}
