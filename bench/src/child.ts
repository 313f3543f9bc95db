// One engine × database measurement, alone in its own process so its peak RSS is its own.
import type { AdapterFactory } from './harness.ts';
import { measure } from './harness.ts';
import type { ChildMessage, ChildTask } from './protocol.ts';

async function factoryFor(task: ChildTask): Promise<AdapterFactory> {
  // Imported on demand so a child loads only the engine it measures (it counts in its RSS).
  if (task.workload === 'billing') {
    if (task.engine !== 'billflow') throw new Error('the billing workload is Billflow only');
    return (await import('./engines/service.ts')).service;
  }
  switch (task.engine) {
    case 'billflow':
      return (await import('./engines/billflow.ts')).billflow;
    case 'baseline':
      return (await import('./engines/baseline.ts')).baseline;
    case 'dbos':
      return (await import('./engines/dbos.ts')).dbosAdapter('queue');
    case 'dbos-direct':
      return (await import('./engines/dbos.ts')).dbosAdapter('direct');
  }
}

function reply(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send) process.send(message, () => resolve());
    else {
      process.stdout.write(`${JSON.stringify(message)}\n`);
      resolve();
    }
  });
}

async function main(): Promise<void> {
  const task = JSON.parse(process.argv[2] ?? '') as ChildTask;
  try {
    const result = await measure(task, await factoryFor(task));
    await reply({ ok: true, result });
  } catch (error) {
    await reply({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
  // Engines may leave timers or sockets behind; the measurement is done either way.
  process.exit(0);
}

void main();
