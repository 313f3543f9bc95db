// What a JSON Schema validator reports, as the fields and messages the API names. Both validators
// speak the same shape: Ajv (request bodies, in http) and TypeBox (a run's input, at its start).
import type { FieldError } from './errors.ts';

/** One validator issue (Ajv's ErrorObject, TypeBox's TValidationError). */
export interface SchemaIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** `/lines/0/amount` → `lines[0].amount`; `extra` is the missing or unknown property, if any. */
function fieldOf(issue: SchemaIssue, extra: string | undefined, context: string | undefined): string {
  const parts = (issue.instancePath ?? '')
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  const path = parts.reduce(
    (acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part),
    '',
  );
  if (path) return path;
  return context === 'body' ? 'body' : (context ?? 'request');
}

function messageOf(issue: SchemaIssue): string {
  if (issue.keyword === 'required') return 'is required';
  if (issue.keyword === 'type') {
    // Ajv lists a union as "string,null".
    const types = issue.params?.type;
    const list = Array.isArray(types) ? types : String(types ?? '').split(',');
    return `must be ${list.join(' or ')}`;
  }
  if (issue.keyword === 'additionalProperties') return 'is not a known field';
  if (issue.keyword === 'enum' && Array.isArray(issue.params?.allowedValues)) {
    return `must be one of ${(issue.params.allowedValues as unknown[]).join(', ')}`;
  }
  return issue.message ?? 'is invalid';
}

/** The names a missing or unknown property issue is about: Ajv names one, TypeBox a list. */
function extrasOf(issue: SchemaIssue): (string | undefined)[] {
  const p = issue.params ?? {};
  const one = p.missingProperty ?? p.additionalProperty;
  if (typeof one === 'string') return [one];
  const many = p.requiredProperties ?? p.additionalProperties;
  if (Array.isArray(many) && (issue.keyword === 'required' || issue.keyword === 'additionalProperties')) {
    return many.map(String);
  }
  return [undefined];
}

/** Each issue as a field error; `context` names the whole value (`body`) when a path is empty. */
export function fieldErrorsOf(issues: readonly SchemaIssue[], context?: string): FieldError[] {
  return (
    issues
      // TypeBox reports an unknown property twice: as `false` schema and as additionalProperties.
      .filter((issue) => issue.keyword !== 'boolean')
      .flatMap((issue) =>
        extrasOf(issue).map((extra) => ({ field: fieldOf(issue, extra, context), message: messageOf(issue) })),
      )
  );
}
