// A small client-side router on the History API: the URL is the state (filters, paging, tabs).
import { useSyncExternalStore } from 'react';
import type { AnchorHTMLAttributes, MouseEvent, ReactNode } from 'react';

const listeners = new Set<() => void>();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener('popstate', listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('popstate', listener);
  };
}

/**
 * Asked before an in-app navigation (a link, a tab, a select that changes the URL, the browser's
 * back button): true lets it happen now; false means the page asks the person first and calls
 * `proceed` if they agree. At most one page holds a guard: the one with unsaved changes.
 */
export type NavigationGuard = (proceed: () => void) => boolean;
let guard: NavigationGuard | null = null;
let shown = location.pathname + location.search;

/** Installs a guard; the returned function removes it (only if it is still the one installed). */
export function setNavigationGuard(next: NavigationGuard): () => void {
  guard = next;
  return () => {
    if (guard === next) guard = null;
  };
}

function go(to: string, options: { replace?: boolean }): void {
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  shown = to;
  if (!options.replace) window.scrollTo(0, 0);
  listeners.forEach((l) => l());
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === location.pathname + location.search) return;
  if (guard && !guard(() => go(to, options))) return;
  go(to, options);
}

// Back/forward has already moved the URL when popstate fires: put the page's URL back before the
// page re-renders, then ask. This listener is added first, so it runs before any subscriber.
window.addEventListener('popstate', () => {
  const target = location.pathname + location.search;
  if (!guard || target === shown) {
    shown = target;
    return;
  }
  history.pushState(null, '', shown);
  guard(() => go(target, {}));
});

export interface Loc {
  path: string;
  search: URLSearchParams;
  href: string;
}

let cached: Loc | null = null;
function snapshot(): Loc {
  const href = location.pathname + location.search;
  if (cached?.href !== href) cached = { path: location.pathname, search: new URLSearchParams(location.search), href };
  return cached;
}

export function useLocation(): Loc {
  return useSyncExternalStore(subscribe, snapshot);
}

/** Replaces some query parameters (empty values removed) and keeps the rest. */
export function withParams(loc: Loc, changes: Record<string, string | null | undefined>): string {
  const next = new URLSearchParams(loc.search);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined || v === null || v === '') next.delete(k);
    else next.set(k, v);
  }
  const text = next.toString();
  return text ? `${loc.path}?${text}` : loc.path;
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { to: string; children: ReactNode };

export function Link({ to, onClick, children, ...rest }: LinkProps) {
  const handle = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={handle} {...rest}>
      {children}
    </a>
  );
}

/** Matches `/runs/:id` style patterns; returns the params or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const names: string[] = [];
  const source = pattern.replace(/:[a-z_]+/g, (m) => {
    names.push(m.slice(1));
    return '([^/]+)';
  });
  const found = new RegExp(`^${source}/?$`).exec(path);
  if (!found) return null;
  return Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(found[i + 1] ?? '')]));
}
