// `billflow start` as users run it (the compiled CLI in lib/), for the measurements that drive the
// service through its HTTP API: the memory burst and the console's read latencies.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(root, 'bin', 'billflow.js');

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitReady(base: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`billflow start exited (${child.exitCode}) before it was ready`);
    const ok = await fetch(`${base}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(200);
  }
  throw new Error('billflow start was not ready within 120 s');
}

export interface BillflowProcess {
  child: ChildProcess;
  pid: number;
  /** http://127.0.0.1:<port> */
  base: string;
  /** Headers carrying an admin API key made with `billflow api-key create`. */
  headers: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Builds lib/ if src/ changed, starts `billflow start` with `env` on a free port, waits for
 * /readyz and makes an admin API key.
 */
export async function startBillflow(env: NodeJS.ProcessEnv): Promise<BillflowProcess> {
  const built = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--if-stale'], {
    stdio: 'inherit',
  });
  if (built.status !== 0) throw new Error('building lib/ for billflow start failed');
  const port = await freePort();
  const fullEnv: NodeJS.ProcessEnv = { ...env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'error' };
  const child = spawn(process.execPath, [BIN, 'start'], { env: fullEnv, stdio: ['ignore', 'ignore', 'inherit'] });
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
  };
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitReady(base, child);
    const made = spawnSync(process.execPath, [BIN, 'api-key', 'create', '--name', 'bench', '--role', 'admin'], {
      env: fullEnv,
      encoding: 'utf8',
    });
    if (made.status !== 0) throw new Error(`api-key create failed: ${made.stderr}`);
    const headers = { authorization: `Bearer ${made.stdout.trim()}`, 'content-type': 'application/json' };
    return { child, pid: child.pid as number, base, headers, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
