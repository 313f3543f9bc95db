import { readFileSync } from 'node:fs';
import os from 'node:os';
import pg from 'pg';

export interface Machine {
  nproc: number;
  cpu_model: string;
  memory_gb: number;
  postgres_version: string;
  node_version: string;
  pglite_version: string;
  dbos_sdk_version: string;
  date: string;
  /** 1-minute load averages when the benchmark began and ended: other work skews every figure. */
  load_avg_1m_start: number;
  load_avg_1m_end?: number;
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.split(':')[1]?.trim() ?? 'unknown';
  } catch {
    // Not Linux: fall back to what Node reports.
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

// Read from the file: not every package lists its package.json among its exports.
function packageVersion(name: string, from: string): string {
  try {
    const file = new URL(`${from}node_modules/${name}/package.json`, import.meta.url);
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

export function loadAverage(): number {
  return Math.round((os.loadavg()[0] ?? 0) * 100) / 100;
}

export async function describeMachine(adminUrl: string): Promise<Machine> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  const { rows } = await client.query<{ v: string }>(`SELECT current_setting('server_version') AS v`);
  await client.end();
  return {
    nproc: os.availableParallelism(),
    cpu_model: cpuModel(),
    memory_gb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    postgres_version: rows[0]?.v ?? 'unknown',
    node_version: process.version,
    // The engine under test loads the main install's PGlite.
    pglite_version: packageVersion('@electric-sql/pglite', '../../'),
    dbos_sdk_version: packageVersion('@dbos-inc/dbos-sdk', '../'),
    date: new Date().toISOString(),
    load_avg_1m_start: loadAverage(),
  };
}
