/**
 * A worker can hold two copies of one run: its lease lapsed while a step was still running (a
 * blocked event loop, a clock jump) and its own claim took the run again, with a new version.
 * Only the newest copy can be recorded. Splits items into the newest per run and the stale rest,
 * so that one write never carries two results for one run.
 */
export function newestPerRun<T>(
  items: T[],
  of: (item: T) => { runId: string; version: number },
): {
  newest: T[];
  stale: T[];
} {
  const best = new Map<string, T>();
  for (const item of items) {
    const { runId, version } = of(item);
    const current = best.get(runId);
    if (!current || of(current).version < version) best.set(runId, item);
  }
  if (best.size === items.length) return { newest: items, stale: [] };
  const keep = new Set(best.values());
  return { newest: items.filter((i) => keep.has(i)), stale: items.filter((i) => !keep.has(i)) };
}
