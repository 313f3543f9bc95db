// `npm run bench`: measures each engine × database in its own child process, one after another.
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import { describeMachine, loadAverage } from './machine.ts';
import type { ChildMessage, ChildTask, DatabaseName, EngineName, Measurement } from './protocol.ts';
import { DATABASES, ENGINES } from './protocol.ts';
import { machineLine, notes, table } from './report.ts';
import { compiled } from './compiled.ts';
import { freshTarget } from './targets.ts';

const USAGE = `usage: npm run bench -- [--json] [--runs N] [--engines billflow,baseline,dbos,dbos-direct]
       [--databases postgres,pglite] [--concurrency N] [--pool N] [--poll-ms N] [--billflow-poll-ms N]
       [--max-batch N] [--max-in-flight N] [--submitters N] [--idle-runs N] [--warmup N] [--repeat N]
PostgreSQL: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) must be
allowed to CREATE DATABASE; each engine gets a fresh database, dropped afterwards.`;

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
    runs: { type: 'string', default: '2000' },
    engines: { type: 'string', default: 'billflow,baseline,dbos' },
    databases: { type: 'string', default: 'postgres,pglite' },
    concurrency: { type: 'string', default: '128' },
    pool: { type: 'string', default: '10' },
    'poll-ms': { type: 'string', default: '50' },
    'billflow-poll-ms': { type: 'string', default: '1000' },
    'max-batch': { type: 'string', default: '500' },
    'max-in-flight': { type: 'string', default: '2' },
    submitters: { type: 'string', default: '16' },
    'idle-runs': { type: 'string', default: '50' },
    warmup: { type: 'string', default: '200' },
    repeat: { type: 'string', default: '1' },
  },
});

function positive(name: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer (got ${raw})\n${USAGE}`);
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
      else if (answer) reject(new Error(`${task.engine} × ${task.database} failed:\n${answer.error}`));
      else reject(new Error(`${task.engine} × ${task.database}: child exited (${signal ?? code}) without a result`));
    });
  });
}

async function measureOne(
  task: Omit<ChildTask, 'target'>,
  adminUrl: string,
  round: number,
  repeat: number,
): Promise<Measurement> {
  const target = await freshTarget(task.database, task.engine, adminUrl);
  const began = Date.now();
  const of = repeat > 1 ? ` (round ${round}/${repeat})` : '';
  console.error(`→ ${task.engine} × ${task.database}: ${task.runs} runs${of} ...`);
  try {
    const result = await runChild({ ...task, target: target.location });
    console.error(
      `  ${result.workflows_per_s} workflows/s, p50 ${result.p50_ms} ms, idle p50 ${result.idle_p50_ms} ms, ` +
        `${result.peak_rss_mb} MB (${((Date.now() - began) / 1000).toFixed(1)} s)`,
    );
    return result;
  } finally {
    await target.dispose();
  }
}

/** The sample with the median throughput, carrying every sample's throughput along. */
function median(samples: Measurement[]): Measurement {
  const sorted = [...samples].sort((a, b) => a.workflows_per_s - b.workflows_per_s);
  const middle = sorted[Math.floor((sorted.length - 1) / 2)] as Measurement;
  return { ...middle, workflows_per_s_samples: samples.map((m) => m.workflows_per_s) };
}

async function main(): Promise<void> {
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const engines = listOf<EngineName>('engines', values.engines, ENGINES);
  const databases = listOf<DatabaseName>('databases', values.databases, DATABASES);
  const base = {
    runs: positive('runs', values.runs),
    warmupRuns: positive('warmup', values.warmup),
    idleRuns: positive('idle-runs', values['idle-runs']),
    submitters: positive('submitters', values.submitters),
    tuning: {
      concurrency: positive('concurrency', values.concurrency),
      pool: positive('pool', values.pool),
      pollIntervalMs: positive('poll-ms', values['poll-ms']),
      billflowPollIntervalMs: positive('billflow-poll-ms', values['billflow-poll-ms']),
      maxBatch: positive('max-batch', values['max-batch']),
      maxInFlight: positive('max-in-flight', values['max-in-flight']),
    },
  };

  const machine = await describeMachine(adminUrl);
  console.error(`machine: ${machineLine(machine)}`);
  // Each repetition measures every pair once, so a burst of outside load hits one sample of
  // each pair rather than every sample of one; the pair's median sample is reported.
  const repeat = positive('repeat', values.repeat);
  const samples = new Map<string, Measurement[]>();
  for (let round = 1; round <= repeat; round++) {
    for (const engine of engines) {
      for (const database of databases) {
        // DBOS Transact for TypeScript needs a PostgreSQL server for its system database.
        if (engine.startsWith('dbos') && database !== 'postgres') continue;
        const result = await measureOne({ ...base, engine, database }, adminUrl, round, repeat);
        const key = `${engine}×${database}`;
        samples.set(key, [...(samples.get(key) ?? []), result]);
      }
    }
  }
  const results = [...samples.values()].map(median);
  machine.load_avg_1m_end = loadAverage();

  if (values.json) {
    const settings = {
      repeat,
      runs: base.runs,
      warmup: base.warmupRuns,
      idle_runs: base.idleRuns,
      submitters: base.submitters,
      ...base.tuning,
    };
    console.log(JSON.stringify({ results, machine, settings }));
  } else {
    console.log(`\n${table(results)}\n\n${machineLine(machine)}\n${notes(results)}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
