/**
 * Collects items from many concurrent callers and writes them in batches: while a write is in
 * flight the next batch fills up, so an idle system writes at once and a busy one writes
 * hundreds of items per round trip. Each caller gets the result for its own item.
 */
export function createBatcher<T, R>(
  write: (items: T[]) => Promise<Map<T, R>>,
  options: { maxBatch: number; maxInFlight: number },
) {
  let queue: { item: T; resolve: (r: R | undefined) => void; reject: (e: unknown) => void }[] = [];
  let inFlight = 0;
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    while (queue.length > 0 && inFlight < options.maxInFlight) {
      const batch = queue.slice(0, options.maxBatch);
      queue = queue.slice(batch.length);
      inFlight++;
      write(batch.map((b) => b.item))
        .then(
          (results) => {
            for (const b of batch) b.resolve(results.get(b.item));
          },
          (error: unknown) => {
            for (const b of batch) b.reject(error);
          },
        )
        .finally(() => {
          inFlight--;
          flush();
        });
    }
  };

  return {
    add(item: T): Promise<R | undefined> {
      return new Promise((resolve, reject) => {
        queue.push({ item, resolve, reject });
        // Let every caller of this tick join the batch before writing.
        if (!scheduled && inFlight < options.maxInFlight) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
  };
}
