// The OpenAPI document's finishing touches: named component schemas from titled schemas.
import type { JsonSchema } from './route.ts';

/** Keywords whose value is a schema, or an array of schemas. */
const SCHEMA_KEYWORDS = [
  'items',
  'prefixItems',
  'additionalProperties',
  'contains',
  'propertyNames',
  'not',
  'if',
  'then',
  'else',
  'allOf',
  'anyOf',
  'oneOf',
];
/** Keywords whose value maps names to schemas. */
const SCHEMA_MAP_KEYWORDS = ['properties', 'patternProperties', '$defs'];

function isObject(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A canonical text of a JSON value (keys sorted), to compare two schemas. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

interface OpenApiDocument {
  paths?: Record<string, Record<string, unknown>>;
  components?: { schemas?: Record<string, JsonSchema> } & Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * Every schema with a `title` becomes a named component (`#/components/schemas/<title>`) and is
 * referenced where it was used, so clients generated from the document get one named type per
 * shape. Route schemas stay plain objects (validation, serialization and the tests read them);
 * naming one is adding `title` to it. Two different schemas with one title are a mistake, refused
 * here. A `description` beside a use (a response's) stays beside the reference.
 */
export function nameComponents<D extends object>(document: D): D {
  const doc = document as OpenApiDocument;
  const components: Record<string, JsonSchema> = { ...doc.components?.schemas };
  const texts = new Map<string, string>();

  const schema = (value: unknown): unknown => {
    if (!isObject(value)) return value;
    const out: JsonSchema = {};
    for (const [key, child] of Object.entries(value)) {
      if (SCHEMA_KEYWORDS.includes(key)) out[key] = Array.isArray(child) ? child.map(schema) : schema(child);
      else if (SCHEMA_MAP_KEYWORDS.includes(key) && isObject(child)) {
        out[key] = Object.fromEntries(Object.entries(child).map(([name, s]) => [name, schema(s)]));
      } else out[key] = child;
    }
    const name = out.title;
    if (typeof name !== 'string') return out;
    const { title: _title, description, examples, ...component } = out;
    // Parameters carry their examples beside the schema: compare without them.
    const text = canonical(component);
    const known = texts.get(name);
    if (known === undefined) {
      if (name in components) throw new Error(`OpenAPI: component schema ${name} is defined twice`);
      texts.set(name, text);
      components[name] = component;
    } else if (known !== text) {
      throw new Error(`OpenAPI: two different schemas are both titled ${name}; give one another title`);
    }
    const named = components[name] as JsonSchema;
    if (examples !== undefined && named.examples === undefined) named.examples = examples;
    const ref: JsonSchema = { $ref: `#/components/schemas/${name}` };
    if (description !== undefined) ref.description = description;
    return ref;
  };

  const content = (value: unknown): unknown => {
    if (!isObject(value) || !isObject(value.content)) return value;
    const media = Object.entries(value.content).map(([type, m]) => {
      if (!isObject(m) || !('schema' in m)) return [type, m];
      const named = schema(m.schema);
      // A response's description is lifted from its schema: once is enough.
      if (isObject(named) && named.$ref !== undefined && named.description === value.description) {
        delete named.description;
      }
      return [type, { ...m, schema: named }];
    });
    return { ...value, content: Object.fromEntries(media) };
  };

  // Paths and webhooks alike: every schema in them named where it has a title.
  const pathItems = (items: Record<string, unknown>): Record<string, Record<string, unknown>> => {
    const out: Record<string, Record<string, unknown>> = {};
    for (const [path, item] of Object.entries(items)) {
      if (!isObject(item)) continue;
      out[path] = Object.fromEntries(
        Object.entries(item).map(([method, op]) => {
          if (!isObject(op)) return [method, op];
          const operation: JsonSchema = { ...op };
          if (Array.isArray(op.parameters)) {
            operation.parameters = op.parameters.map((p: unknown) =>
              isObject(p) && 'schema' in p ? { ...p, schema: schema(p.schema) } : p,
            );
          }
          if (op.requestBody !== undefined) operation.requestBody = content(op.requestBody);
          if (isObject(op.responses)) {
            operation.responses = Object.fromEntries(
              Object.entries(op.responses).map(([status, r]) => [status, content(r)]),
            );
          }
          return [method, operation];
        }),
      );
    }
    return out;
  };
  const paths = pathItems(doc.paths ?? {});
  const webhooks = isObject(doc.webhooks) ? pathItems(doc.webhooks) : undefined;
  const sorted = Object.fromEntries(Object.entries(components).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { ...doc, paths, ...(webhooks ? { webhooks } : {}), components: { ...doc.components, schemas: sorted } } as D;
}
