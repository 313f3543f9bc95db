import v8 from 'node:v8';

/**
 * V8 settings for the long-lived service process (`billflow start`, `billflow worker`), chosen
 * for a small, steady resident size (docs/performance.md, "Memory"):
 * - `--heap-growing-percent=30` on PostgreSQL: a full collection once the old generation grows 30 %
 *   past what the last one kept, instead of V8's default of letting it grow up to 4x under a
 *   high allocation rate. On a machine with plenty of memory V8 otherwise defers them: a burst
 *   of 2,000 API payments grew the old generation to 130 MB of mostly garbage. Each collection
 *   takes a few milliseconds at this heap size.
 * - on the embedded database, `--heap-growing-percent=15` instead: its process holds the database
 *   too, and the memory target is tighter than the CPU one there (PGlite, not V8, limits its
 *   throughput). A 1,000-payment API burst peaked at 214 MB instead of 221 MB with 30.
 * - on the embedded database, also `--liftoff-only`: PostgreSQL's WASM is compiled once, by
 *   V8's baseline compiler (optimizing hot functions again costs 25-90 MB of compiler memory
 *   for 30-40 % more throughput); and `--semi-space-growth-factor=1`: the young generation keeps
 *   its size instead of growing to two 16 MB semi-spaces under the stream of query results.
 * V8 reads these flags when it uses them, so they apply from this call on. One-shot commands
 * and the tests keep V8's defaults.
 */
export function tuneV8ForService(options: { embeddedDatabase: boolean }): void {
  const flags = options.embeddedDatabase
    ? ['--liftoff-only', '--semi-space-growth-factor=1', '--heap-growing-percent=15']
    : ['--heap-growing-percent=30'];
  for (const flag of flags) v8.setFlagsFromString(flag);
}
