import { setTimeout as sleep } from 'node:timers/promises';
import type { AdapterFactory } from '../harness.ts';
import { STEPS_PER_WORKFLOW } from '../protocol.ts';
import { pgliteSql, postgresSql } from './sql.ts';
import { COUNT_RECORDS, INSERT_RECORD, RECORDS_TABLE, checkRecords, recordParams, trivialStep } from './work.ts';
import type { BenchInput } from './work.ts';

// What a team writes by hand instead of an engine: a jobs table, workers that claim one job
// with FOR UPDATE SKIP LOCKED and sleep when there is none, and one transaction per step that
// stores the step's output and advances the job (and, for db steps, writes the step's row). A
// crashed worker's job is retaken once its lock expires, so it is as durable as the engines it
// is compared with.
const SCHEMA = `
  CREATE TABLE jobs (
    id bigserial PRIMARY KEY,
    input jsonb NOT NULL,
    step int NOT NULL DEFAULT 0,
    status text NOT NULL DEFAULT 'queued',
    locked_until timestamptz
  );
  CREATE INDEX jobs_open ON jobs (id) WHERE status <> 'done';
  CREATE TABLE job_steps (
    job_id bigint NOT NULL REFERENCES jobs (id),
    step int NOT NULL,
    output jsonb NOT NULL,
    PRIMARY KEY (job_id, step)
  );`;

const CLAIM = `
  UPDATE jobs SET status = 'running', locked_until = now() + interval '30 seconds'
  WHERE id = (SELECT id FROM jobs
              WHERE status = 'queued' OR (status = 'running' AND locked_until < now())
              ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
  RETURNING id, input, step`;

export const baseline: AdapterFactory = async (task, onCompleted) => {
  const t = task.tuning;
  const sql = task.database === 'postgres' ? postgresSql(task.target, t.pool) : await pgliteSql(task.target);
  for (const statement of SCHEMA.split(';')) if (statement.trim()) await sql.query(statement);
  const dbSteps = task.workload === 'db';
  if (dbSteps) await sql.query(RECORDS_TABLE);

  let running = true;
  async function workLoop(): Promise<void> {
    while (running) {
      const [job] = (await sql.query<{ id: string; input: BenchInput; step: number }>(CLAIM)).rows;
      if (!job) {
        await sleep(t.pollIntervalMs);
        continue;
      }
      for (let step = job.step; step < STEPS_PER_WORKFLOW; step++) {
        await sql.transaction(async (q) => {
          if (dbSteps) await q.query(INSERT_RECORD, recordParams(String(job.id), job.input, step));
          const output = trivialStep(job.input, step);
          await q.query('INSERT INTO job_steps (job_id, step, output) VALUES ($1, $2, $3)', [job.id, step, output]);
          await q.query(
            `UPDATE jobs SET step = $2 + 1, status = CASE WHEN $2 + 1 = $3 THEN 'done' ELSE status END
             WHERE id = $1`,
            [job.id, step, STEPS_PER_WORKFLOW],
          );
        });
      }
      // After the commit of the job's last step.
      onCompleted(String(job.id));
    }
  }
  const loops = Array.from({ length: t.concurrency }, workLoop);

  return {
    notes: `${task.workload} steps, ${t.concurrency} polling loops, poll ${t.pollIntervalMs} ms, pool ${task.database === 'postgres' ? t.pool : 1}`,
    async start(n) {
      const [row] = (await sql.query<{ id: string }>('INSERT INTO jobs (input) VALUES ($1) RETURNING id', [{ n }]))
        .rows;
      if (!row) throw new Error('insert returned no id');
      return String(row.id);
    },
    async verify(runs) {
      if (!dbSteps) return 'no rows to check';
      const { rows } = await sql.query<{ n: number }>(COUNT_RECORDS);
      return checkRecords(rows[0]?.n, runs);
    },
    async stop() {
      running = false;
      await Promise.all(loops);
      await sql.close();
    },
  };
};
