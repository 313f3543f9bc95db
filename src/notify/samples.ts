// The variables a template can use, listed from the data it is rendered with (an event's preview
// sample, see catalogue.ts): what the template editor offers.

export interface TemplateVariable {
  /** As a template writes it: `customer.name`; `alerts[].step` is a field of each item of a list. */
  name: string;
  /** The sample value, as text. */
  example: string;
}

/** The variables `data` offers a template, leaves only, in the data's own order. */
export function templateVariables(data: Record<string, unknown>, prefix = ''): TemplateVariable[] {
  return Object.entries(data).flatMap(([key, value]): TemplateVariable[] => {
    const name = `${prefix}${key}`;
    if (Array.isArray(value)) {
      const first: unknown = value[0];
      return isRecord(first) ? templateVariables(first, `${name}[].`) : [{ name, example: JSON.stringify(value) }];
    }
    if (isRecord(value)) return templateVariables(value, `${name}.`);
    return [{ name, example: String(value) }];
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !(value instanceof Date);
}
