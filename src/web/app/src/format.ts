// How values read on screen: one date-and-time format with its zone, money in minor units,
// durations. Every page formats times here (and through components/Time.tsx), never itself.

const DATE_TIME = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
  timeZoneName: 'short',
});

/** "Dec 8, 2026, 07:40:57 GMT+1": the operator's locale and zone, 24-hour clock, zone named. */
export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : DATE_TIME.format(d);
}

/** The zone the UI shows times in: "Europe/Paris (GMT+1)". */
export function timeZoneLabel(at = new Date()): string {
  const zone = DATE_TIME.resolvedOptions().timeZone;
  const short = new Intl.DateTimeFormat(undefined, { timeZoneName: 'short' })
    .formatToParts(at)
    .find((p) => p.type === 'timeZoneName')?.value;
  return short && short !== zone ? `${zone} (${short})` : zone;
}

/** "in 5 seconds", "3 minutes ago": only ever shown beside the absolute time (see Time). */
export function relative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  const fmt = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  if (abs < 60) return fmt.format(seconds, 'second');
  if (abs < 3600) return fmt.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return fmt.format(Math.round(seconds / 3600), 'hour');
  return fmt.format(Math.round(seconds / 86400), 'day');
}

/** The absolute time followed by the relative one: "Dec 8, 2026, 07:40:57 GMT+1 (in 5 seconds)". */
export function dateTimeAndRelative(iso: string | null | undefined): string {
  return iso ? `${dateTime(iso)} (${relative(iso)})` : '—';
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** Integer minor units → "€12.00"; currencies without minor units are handled by Intl. */
export function money(amount: number | null | undefined, currency: string | null | undefined): string {
  if (amount === null || amount === undefined) return '—';
  const code = (currency ?? 'EUR').toUpperCase();
  try {
    const digits =
      new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions().maximumFractionDigits ?? 2;
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: code }).format(amount / 10 ** digits);
  } catch {
    return `${amount} ${code}`;
  }
}

export function humanize(name: string): string {
  const text = name.replace(/_/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function errorText(error: unknown): string {
  if (!error) return '';
  if (typeof error === 'string') return error;
  if (typeof error === 'object' && 'message' in error && typeof error.message === 'string') return error.message;
  return JSON.stringify(error);
}

/** The stack trace in an error the API passed on, when it has one (developers and admins see them). */
export function errorStack(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'stack' in error && typeof error.stack === 'string'
    ? error.stack
    : undefined;
}

/** `datetime-local` input value ↔ ISO (the input works in local time). */
export function toLocalInput(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** How many minor-unit digits a currency has (EUR 2, JPY 0). */
export function currencyDigits(currency: string): number {
  try {
    return (
      new Intl.NumberFormat('en', { style: 'currency', currency: currency.toUpperCase() }).resolvedOptions()
        .maximumFractionDigits ?? 2
    );
  } catch {
    return 2;
  }
}

/** "12.50" in EUR → 1250 (minor units); null when the text is not an amount with at most that many decimals. */
export function toMinorUnits(text: string, currency: string): number | null {
  const digits = currencyDigits(currency);
  const found = /^\s*(\d+)(?:[.,](\d*))?\s*$/.exec(text);
  if (!found) return null;
  const fraction = found[2] ?? '';
  if (fraction.length > digits) return null;
  return Number(found[1]) * 10 ** digits + Number(fraction.padEnd(digits, '0') || '0');
}
