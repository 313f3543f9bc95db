// How deep a parsed JSON body nests. JSON.parse takes any depth, but what walks the value
// afterwards recursively (JSON.stringify, our own checks, PostgreSQL's jsonb input) runs out of
// stack a few thousand levels down: a deep body must be bad input before any of them sees it.

/** Nesting of arrays and objects a request body may have; real payloads (Stripe's too) use under 10. */
export const MAX_JSON_DEPTH = 32;

export const TOO_DEEP_MESSAGE = `must not nest arrays and objects deeper than ${MAX_JSON_DEPTH} levels`;

/**
 * The field under which `value` nests arrays and objects deeper than `max` (the top-level field
 * of an object, `body` for the value itself), or null when it does not. Iterative, so any depth
 * is safe to ask about; stops at the first level too deep.
 */
export function tooDeepField(value: unknown, max = MAX_JSON_DEPTH): string | null {
  if (value === null || typeof value !== 'object') return null;
  const stack: { node: object; depth: number; field: string }[] = [{ node: value, depth: 1, field: 'body' }];
  const topLevel = !Array.isArray(value);
  while (stack.length > 0) {
    const { node, depth, field } = stack.pop() as { node: object; depth: number; field: string };
    if (depth > max) return field;
    const entries = Array.isArray(node) ? node.map((v, i) => [String(i), v] as const) : Object.entries(node);
    for (const [key, child] of entries) {
      if (child === null || typeof child !== 'object') continue;
      stack.push({ node: child, depth: depth + 1, field: depth === 1 && topLevel ? key : field });
    }
  }
  return null;
}
