/** Nearest-rank percentile of already sorted values; NaN when there are none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export function sortedCopy(values: Iterable<number>): number[] {
  return [...values].sort((a, b) => a - b);
}

/** Rounds for display and JSON: figures past 0.1 ms or 1 run/s are noise on this kind of box. */
export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** The middle value (the lower of the two middle ones for an even count); NaN when there are none. */
export function median(values: readonly number[]): number {
  const sorted = sortedCopy(values);
  return sorted.length === 0 ? Number.NaN : (sorted[Math.floor((sorted.length - 1) / 2)] as number);
}
