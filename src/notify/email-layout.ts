/**
 * The shell of the shipped HTML emails: one column, inline styles (mail clients drop <style>
 * blocks), no images or remote content. The result is Liquid source like any template, so an
 * operator who edits a template sees and may change all of it.
 */
export function htmlEmail(lang: string, content: string): string {
  return `<!doctype html>
<html lang="${lang}">
<body style="margin:0;padding:24px;background:#f5f6f8;font-family:Helvetica,Arial,sans-serif;color:#1f2933">
<div style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px;padding:32px">
${content.trim()}
<p style="margin-top:32px;font-size:12px;color:#6b7785">{{ company.name }}{% if company.support_email %} · {{ company.support_email }}{% endif %}</p>
</div>
</body>
</html>`;
}

/** A label/value table, e.g. amount and date of a payment. */
export function htmlFacts(rows: [label: string, value: string][]): string {
  const cells = rows
    .map(
      ([label, value]) =>
        `<tr><td style="padding:4px 16px 4px 0;color:#6b7785">${label}</td><td style="padding:4px 0"><strong>${value}</strong></td></tr>`,
    )
    .join('\n');
  return `<table style="border-collapse:collapse;margin:16px 0">\n${cells}\n</table>`;
}
