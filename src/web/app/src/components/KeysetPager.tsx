// Keyset paging kept in the URL, for every list that pages by cursor.
import { Pager } from './ui.tsx';
import { navigate, useLocation, withParams } from '../router.tsx';

/**
 * `cursor` is the current page, `back` the cursors of the pages before it ('-' for the first),
 * so Previous works without offsets and a reload keeps the page.
 */
export function usePageCursor(): { cursor: string; depth: number } {
  const q = useLocation().search;
  const back = q.get('back');
  return { cursor: q.get('cursor') ?? '', depth: back ? back.split(' ').length : 0 };
}

/** URL changes that leave paging (a filter, sort or page size changed): back to the first page. */
export const FIRST_PAGE = { cursor: null, back: null } as const;

/** Previous and Next for a list whose answer gave `nextCursor`; nothing on a single page. */
export function KeysetPager({ nextCursor }: { nextCursor: string | null | undefined }) {
  const loc = useLocation();
  const cursor = loc.search.get('cursor') ?? '';
  const back = loc.search.get('back') ? (loc.search.get('back') ?? '').split(' ') : [];
  if (!cursor && !nextCursor) return null;
  return (
    <Pager
      hasPrevious={!!cursor}
      hasNext={!!nextCursor}
      onPrevious={() => {
        const previous = back[back.length - 1];
        navigate(
          withParams(loc, {
            cursor: previous === '-' ? null : (previous ?? null),
            back: back.slice(0, -1).join(' ') || null,
          }),
        );
      }}
      onNext={() => navigate(withParams(loc, { cursor: nextCursor, back: [...back, cursor || '-'].join(' ') }))}
    />
  );
}
