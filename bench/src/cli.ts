// `npm run bench`: measures each workload × engine × database in its own child process, one
// after another, round after round.
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { describeMachine, loadAverage } from './machine.ts';
import type { ChildMessage, ChildTask, DatabaseName, EngineName, Measurement, WorkloadName } from './protocol.ts';
import { DATABASES, ENGINES, WORKLOADS } from './protocol.ts';
import { machineLine, notes, pairKey, ratioLines, ratios, rssLine, summarize, table } from './report.ts';
import { compiled } from './compiled.ts';
import { freshTarget } from './targets.ts';
import { burstLines, measureBurst } from './burst.ts';
import type { BurstResult } from './burst.ts';
import { consoleLines, measureConsole } from './console.ts';

const USAGE = `usage: npm run bench -- [--json | --json-file PATH] [--runs N] [--repeat N] [--workloads external,db,billing]
       [--engines billflow,baseline,dbos,dbos-direct] [--databases postgres,pglite]
       [--concurrency N] [--pool N] [--poll-ms N] [--billflow-poll-ms N] [--submitters N]
       [--idle-runs N] [--warmup N] [--customers N] [--burst-payments N] [--burst-in-flight N]
       npm run bench -- --console [--console-runs N] [--console-samples N] [--json | --json-file PATH]
Every engine gets the same --concurrency (default 32) and PostgreSQL pools of --pool connections
(default concurrency + 10). The billing workload is Billflow's service (its own pool); --customers
spreads its payments over that many customers (default 0: one customer per payment).
PostgreSQL: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) must be
allowed to CREATE DATABASE; each pair runs in a database of its own, created for it and dropped
afterwards. PGlite: a new data folder in the OS temp dir per pair. --json prints the results as
one JSON object instead of the report; --json-file writes that object to PATH beside the report.
Memory: after the rounds, \`billflow start\` (the compiled CLI) runs on each database while
--burst-payments POST /api/v1/payments (default 2000; 0 skips it) arrive, --burst-in-flight at a
time (default 16); its resident set is read from /proc idle, at its peak and 15 s afterwards.
--console measures only the admin console's reads: \`billflow start\` on a fresh PostgreSQL database
holding --console-runs runs (default 1000000, ≈ 5 % failed, with their steps), each read endpoint
called --console-samples times (default 200) one at a time; p50/p95 against 50 ms.`;

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    'json-file': { type: 'string' },
    help: { type: 'boolean', default: false },
    runs: { type: 'string', default: '2000' },
    repeat: { type: 'string', default: '3' },
    workloads: { type: 'string', default: 'external,db,billing' },
    engines: { type: 'string', default: 'billflow,baseline,dbos' },
    databases: { type: 'string', default: 'postgres,pglite' },
    concurrency: { type: 'string', default: '32' },
    pool: { type: 'string' },
    'poll-ms': { type: 'string', default: '50' },
    'billflow-poll-ms': { type: 'string', default: '1000' },
    submitters: { type: 'string', default: '16' },
    'idle-runs': { type: 'string', default: '50' },
    warmup: { type: 'string', default: '200' },
    customers: { type: 'string', default: '0' },
    'burst-payments': { type: 'string', default: '2000' },
    'burst-in-flight': { type: 'string', default: '16' },
    console: { type: 'boolean', default: false },
    'console-runs': { type: 'string', default: '1000000' },
    'console-samples': { type: 'string', default: '200' },
  },
});

function integer(name: string, raw: string | undefined, min: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min} (got ${raw})\n${USAGE}`);
  return n;
}

function listOf<T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T[] {
  const items = (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new Error(`--${name}: unknown "${item}" (one of ${allowed.join(', ')})`);
  }
  return items as T[];
}

// The children run the compiled JavaScript (scripts/bench.mjs builds it before this starts), so
// that no TypeScript loader counts in the figures of the engine they measure.
const CHILD = compiled('child.ts');

function runChild(task: ChildTask): Promise<Measurement> {
  const what = `${task.workload} × ${task.engine} × ${task.database}`;
  return new Promise((resolve, reject) => {
    // Child stdout goes to our stderr so that, with --json, stdout carries only the result.
    // --no-deprecation: DBOS's own use of a pg API deprecated in pg 8.x would fill the output.
    const child = fork(CHILD, [JSON.stringify(task)], {
      // BENCH_NODE_ARGS: extra Node flags for the children, e.g. "--cpu-prof" to profile an engine.
      execArgv: ['--no-deprecation', ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)],
      stdio: ['ignore', 2, 2, 'ipc'],
    });
    let answer: ChildMessage | undefined;
    child.on('message', (message) => (answer = message as ChildMessage));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (answer?.ok) resolve(answer.result);
      else if (answer) reject(new Error(`${what} failed:\n${answer.error}`));
      else reject(new Error(`${what}: child exited (${signal ?? code}) without a result`));
    });
  });
}

async function measureOne(
  task: Omit<ChildTask, 'target'>,
  adminUrl: string,
  round: number,
  repeat: number,
): Promise<Measurement> {
  const label = `${task.workload}_${task.engine}`;
  // The service keeps its embedded database in <data dir>/data.
  const target = await freshTarget(task.database, label, adminUrl, {
    dataSubdir: task.workload === 'billing' ? 'data' : undefined,
  });
  const began = Date.now();
  console.error(
    `→ ${task.workload} × ${task.engine} × ${task.database}: ${task.runs} runs (round ${round}/${repeat}) ...`,
  );
  try {
    const result = await runChild({ ...task, target: target.location });
    console.error(
      `  ${result.workflows_per_s} workflows/s, p50 ${result.p50_ms} ms, idle p50 ${result.idle_p50_ms} ms, ` +
        `${result.peak_rss_mb} MB, ${result.cpu_ms_per_workflow ?? '—'} CPU ms/wf (${((Date.now() - began) / 1000).toFixed(1)} s)`,
    );
    return result;
  } finally {
    await target.dispose();
  }
}

/** The pairs of one round, in the order they run. */
function pairs(
  workloads: WorkloadName[],
  engines: EngineName[],
  databases: DatabaseName[],
): { workload: WorkloadName; engine: EngineName; database: DatabaseName }[] {
  const out = [];
  for (const workload of workloads) {
    for (const engine of engines) {
      // The billing workload is Billflow's service; DBOS Transact needs a PostgreSQL server.
      if (workload === 'billing' && engine !== 'billflow') continue;
      for (const database of databases) {
        if (engine.startsWith('dbos') && database !== 'postgres') continue;
        out.push({ workload, engine, database });
      }
    }
  }
  return out;
}

async function main(): Promise<void> {
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  if (values.console) {
    await consoleOnly(adminUrl);
    return;
  }
  const concurrency = integer('concurrency', values.concurrency, 1);
  const base = {
    runs: integer('runs', values.runs, 1),
    warmupRuns: integer('warmup', values.warmup, 1),
    idleRuns: integer('idle-runs', values['idle-runs'], 1),
    submitters: integer('submitters', values.submitters, 1),
    customers: integer('customers', values.customers, 0),
    tuning: {
      concurrency,
      pool: values.pool === undefined ? concurrency + 10 : integer('pool', values.pool, 1),
      pollIntervalMs: integer('poll-ms', values['poll-ms'], 1),
      billflowPollIntervalMs: integer('billflow-poll-ms', values['billflow-poll-ms'], 1),
    },
  };
  const order = pairs(
    listOf<WorkloadName>('workloads', values.workloads, WORKLOADS),
    listOf<EngineName>('engines', values.engines, ENGINES),
    listOf<DatabaseName>('databases', values.databases, DATABASES),
  );

  const machine = await describeMachine(adminUrl);
  console.error(`machine: ${machineLine(machine)}`);
  const began = Date.now();
  // Each round measures every pair once, so a burst of outside load hits one round of each pair
  // rather than every round of one; ratios are taken within a round.
  const repeat = integer('repeat', values.repeat, 1);
  const rounds: Map<string, Measurement>[] = [];
  for (let round = 1; round <= repeat; round++) {
    const results = new Map<string, Measurement>();
    for (const pair of order) {
      const result = await measureOne({ ...base, ...pair }, adminUrl, round, repeat);
      results.set(pairKey(result), result);
    }
    rounds.push(results);
  }
  const bursts: BurstResult[] = [];
  const burstPayments = integer('burst-payments', values['burst-payments'], 0);
  if (burstPayments > 0) {
    const settings = {
      payments: burstPayments,
      inFlight: integer('burst-in-flight', values['burst-in-flight'], 1),
      settleSeconds: 15,
    };
    for (const database of listOf<DatabaseName>('databases', values.databases, DATABASES)) {
      console.error(
        `→ memory × billflow start × ${database}: ${settings.payments} API payments, ${settings.inFlight} in flight ...`,
      );
      const burst = await measureBurst(database, settings, adminUrl);
      console.error(
        `  idle ${burst.idle_rss_mb} MB, peak ${burst.peak_rss_mb} MB, after ${burst.after_rss_mb} MB (${burst.seconds} s)`,
      );
      bursts.push(burst);
    }
  }
  machine.load_avg_1m_end = loadAverage();
  const results = order.map((pair) => summarize(rounds.map((r) => r.get(pairKey(pair)) as Measurement)));
  const compared = ratios(rounds);
  const minutes = ((Date.now() - began) / 60_000).toFixed(1);

  const settings = {
    repeat,
    runs: base.runs,
    warmup: base.warmupRuns,
    idle_runs: base.idleRuns,
    submitters: base.submitters,
    customers: base.customers,
    ...base.tuning,
  };
  const json = JSON.stringify({
    results,
    ratios: compared,
    memory: bursts,
    machine,
    settings,
    minutes: Number(minutes),
  });
  if (values['json-file']) writeFileSync(values['json-file'], `${json}\n`);
  if (values.json) {
    console.log(json);
  } else {
    const rss = rssLine(results);
    console.log(
      [
        '',
        table(results),
        '',
        `Median round of ${repeat}; min and max are the lowest and highest workflows/s of the rounds.`,
        '',
        'Ratios, taken within each round (median of the rounds, and their range):',
        compared.length > 0 ? ratioLines(compared) : '- none: no two pairs to compare were measured',
        ...(rss ? [rss] : []),
        ...burstLines(bursts),
        '',
        machineLine(machine),
        `${minutes} min for ${repeat} round(s) of ${order.length} pairs`,
        notes(results),
      ].join('\n'),
    );
  }
}

/** `--console`: the console's reads on a large history, nothing else (seeding takes minutes). */
async function consoleOnly(adminUrl: string): Promise<void> {
  const machine = await describeMachine(adminUrl);
  console.error(`machine: ${machineLine(machine)}`);
  const began = Date.now();
  const settings = {
    runs: integer('console-runs', values['console-runs'], 1),
    samples: integer('console-samples', values['console-samples'], 10),
  };
  console.error(`→ console × billflow start × postgres: seeding ${settings.runs} runs ...`);
  const result = await measureConsole(settings, adminUrl);
  machine.load_avg_1m_end = loadAverage();
  const minutes = ((Date.now() - began) / 60_000).toFixed(1);
  const json = JSON.stringify({ console: result, machine, settings, minutes: Number(minutes) });
  if (values['json-file']) writeFileSync(values['json-file'], `${json}\n`);
  if (values.json) console.log(json);
  else console.log([...consoleLines(result), '', machineLine(machine), `${minutes} min`].join('\n'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
