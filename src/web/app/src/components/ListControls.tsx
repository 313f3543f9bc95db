// The sort and page-size choices of a keyset-paged list (the failed-runs inbox, search results):
// both live in the URL, and the default of each is left out of it.
import { Field } from './ui.tsx';

type SetParams = (changes: Record<string, string | null>) => void;

export function SortField<S extends string>({
  sorts,
  sort,
  defaultSort,
  setParams,
}: {
  sorts: Record<S, string>;
  sort: S;
  defaultSort: S;
  setParams: SetParams;
}) {
  return (
    <Field label="Sort">
      {(id) => (
        <select
          id={id}
          value={sort}
          onChange={(e) => setParams({ sort: e.target.value === defaultSort ? null : e.target.value })}
        >
          {(Object.entries(sorts) as [S, string][]).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

export function PageSizeField({
  sizes,
  limit,
  defaultSize,
  setParams,
}: {
  sizes: readonly number[];
  limit: number;
  defaultSize: number;
  setParams: SetParams;
}) {
  return (
    <Field label="Per page">
      {(id) => (
        <select
          id={id}
          value={String(limit)}
          onChange={(e) => setParams({ limit: Number(e.target.value) === defaultSize ? null : e.target.value })}
        >
          {sizes.map((size) => (
            <option key={size} value={size}>
              {size}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}
