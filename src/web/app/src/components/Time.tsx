// A point in time on screen: always the absolute time with its zone (format.ts); the relative
// "3 minutes ago" only as its tooltip or, where it matters (retries, waits), right beside it.
import { dateTime, relative } from '../format.ts';

export function Time({ iso, withRelative }: { iso: string | null | undefined; withRelative?: boolean }) {
  if (!iso) return <span className="muted">—</span>;
  return (
    <>
      <time dateTime={iso} title={relative(iso)}>
        {dateTime(iso)}
      </time>
      {withRelative ? <span className="muted"> ({relative(iso)})</span> : null}
    </>
  );
}
