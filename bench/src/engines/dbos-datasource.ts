import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { DBOS } from '@dbos-inc/dbos-sdk';
import {
  DBOSStepAlreadyRecordedError,
  DBOSWorkflowConflictError,
  assertStillOwnsWorkflow,
  guardDataSourcePoolPG,
  isPGRetriableTransactionError,
  migrateDataSourcePG,
  registerDataSource,
  registerTransaction,
  replayRecordedStep,
} from '@dbos-inc/dbos-sdk/datasource';
import type { DataSourceTransactionHandler } from '@dbos-inc/dbos-sdk/datasource';
import pg from 'pg';
import { SuperJSON } from 'superjson';

// DBOS Transact's transactions run on a data source package; the published node-postgres ones
// predate @dbos-inc/dbos-sdk 5.x's data source contract, so this is that contract written out
// for node-postgres, the way DBOS's own data sources do it: look the step's checkpoint up, then
// in one transaction run the step, insert its checkpoint into dbos.transaction_completion and
// check the workflow is still this execution's; a failed step's error is recorded after the
// rollback. DBOS records the step in its system database afterwards, as for any step.
// Not implemented: deleteCheckpoints (optional; DBOS then keeps completed workflows'
// checkpoints instead of deleting them at completion, one statement per workflow fewer).

const SCHEMA = 'dbos';
const context = new AsyncLocalStorage<pg.PoolClient>();

type Recorded = { output: string | null; error: string | null };

class NodePgTransactions implements DataSourceTransactionHandler {
  #pool: pg.Pool | undefined;

  constructor(
    readonly name: string,
    private readonly config: pg.PoolConfig,
  ) {}

  async initialize(): Promise<void> {
    const pool = new pg.Pool(this.config);
    guardDataSourcePoolPG(pool, 'bench node-postgres');
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await migrateDataSourcePG(async (sql) => (await client.query(sql)).rows, SCHEMA);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
    this.#pool = pool;
  }

  async destroy(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.end();
  }

  private get pool(): pg.Pool {
    if (!this.#pool) throw new Error(`data source ${this.name} is not initialized`);
    return this.#pool;
  }

  private async recorded(workflowID: string, stepID: number): Promise<Recorded | undefined> {
    const { rows } = await this.pool.query<Recorded>(
      `SELECT output, error FROM ${SCHEMA}.transaction_completion WHERE workflow_id = $1 AND function_num = $2`,
      [workflowID, stepID],
    );
    return rows[0];
  }

  private async record(
    q: pg.Pool | pg.PoolClient,
    workflowID: string,
    stepID: number,
    outcome: { output: string | null } | { error: string },
  ): Promise<void> {
    const { rows } = await q.query(
      `INSERT INTO ${SCHEMA}.transaction_completion (workflow_id, function_num, output, error)
       VALUES ($1, $2, $3, $4) ON CONFLICT (workflow_id, function_num) DO NOTHING RETURNING workflow_id`,
      [workflowID, stepID, 'output' in outcome ? outcome.output : null, 'error' in outcome ? outcome.error : null],
    );
    if (rows.length === 0) throw new DBOSStepAlreadyRecordedError(workflowID, stepID);
  }

  async invokeTransactionFunction<This, Args extends unknown[], Return>(
    _config: unknown,
    target: This,
    func: (this: This, ...args: Args) => Promise<Return>,
    ...args: Args
  ): Promise<Return> {
    const workflowID = DBOS.workflowID;
    const stepID = DBOS.stepID;
    if (workflowID === undefined || stepID === undefined) throw new Error('bench transactions run in a workflow');
    let wait = 1;
    for (;;) {
      const before = await this.recorded(workflowID, stepID);
      if (before) return replayRecordedStep<Return>(before);
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        const result = await context.run(client, () => func.call(target, ...args));
        await this.record(client, workflowID, stepID, { output: SuperJSON.stringify(result) });
        await assertStillOwnsWorkflow(workflowID);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        if (error instanceof DBOSStepAlreadyRecordedError) continue; // replayed at the top
        if (error instanceof DBOSWorkflowConflictError) throw error;
        if (isPGRetriableTransactionError(error)) {
          await sleep(wait);
          wait = Math.min(wait * 1.5, 2_000);
          continue;
        }
        await this.record(this.pool, workflowID, stepID, { error: SuperJSON.stringify(error) });
        throw error;
      } finally {
        client.release();
      }
    }
  }
}

/** The transaction's client, inside a function registered with `transaction`. */
export function transactionClient(): pg.PoolClient {
  const client = context.getStore();
  if (!client) throw new Error('not inside a bench transaction');
  return client;
}

const NAME = 'bench_app_db';

/** Registers the data source with DBOS (before DBOS.launch, which initializes it). */
export function registerNodePgDataSource(config: pg.PoolConfig): void {
  registerDataSource(new NodePgTransactions(NAME, config));
}

/** A DBOS transaction on that data source. */
export function transaction<Args extends unknown[], Return>(
  func: (...args: Args) => Promise<Return>,
  name: string,
): (...args: Args) => Promise<Return> {
  return registerTransaction(NAME, func, { name });
}
