/**
 * Wraps a NOTIFY sender so that identical notifications made in the same tick go out once.
 * A burst of thousands of starts then costs a handful of NOTIFYs instead of one each — and,
 * sent outside the starts' own transactions, NOTIFY's commit-time lock no longer serializes them.
 */
export function coalescedNotify(
  send: (channel: string, payload: string) => Promise<void>,
  onError: (error: Error) => void,
): (channel: string, payload: string) => void {
  let pending: Set<string> | undefined;
  return (channel, payload) => {
    if (!pending) {
      pending = new Set();
      const batch = pending;
      setImmediate(() => {
        pending = undefined;
        for (const key of batch) {
          const [c, p] = JSON.parse(key) as [string, string];
          send(c, p).catch((error: unknown) => onError(error instanceof Error ? error : new Error(String(error))));
        }
      });
    }
    pending.add(JSON.stringify([channel, payload]));
  };
}
