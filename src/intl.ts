// Intl formatters, made once per locale and options. Each one holds ICU data outside V8's heap
// (about 27 KB) that the garbage collector does not see: made per call, a burst of receipts and
// emails grew the process by hundreds of megabytes before a full collection freed them.

/** Distinct formatters kept at most; locales come from records, so the set is small but open. */
const LIMIT = 256;

const numberFormats = new Map<string, Intl.NumberFormat>();
const dateFormats = new Map<string, Intl.DateTimeFormat>();

function cached<T>(cache: Map<string, T>, key: string, make: () => T): T {
  const found = cache.get(key);
  if (found) return found;
  const made = make();
  // Oldest first out: a Map iterates in insertion order.
  if (cache.size >= LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(key, made);
  return made;
}

/** `new Intl.NumberFormat(locale, options)`, shared; throws as the constructor does. */
export function numberFormat(locale: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  return cached(
    numberFormats,
    `${locale}\u0000${JSON.stringify(options)}`,
    () => new Intl.NumberFormat(locale, options),
  );
}

/** `new Intl.DateTimeFormat(locale, options)`, shared; throws as the constructor does. */
export function dateTimeFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  return cached(
    dateFormats,
    `${locale}\u0000${JSON.stringify(options)}`,
    () => new Intl.DateTimeFormat(locale, options),
  );
}
