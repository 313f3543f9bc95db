// The frame of every signed-in page: top bar (alerts, user menu) and the side menu.
import { useEffect, useRef, useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import { client, ok } from '../api.ts';
import { useAuth, useCan } from '../auth.tsx';
import { useApi, useWorkflowTypes } from '../hooks.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import { ROLE_LABELS } from '../types.ts';
import { Bell } from './Bell.tsx';

function NavLink({ to, children, exact }: { to: string; children: ReactNode; exact?: boolean }) {
  const { path } = useLocation();
  const active = exact ? path === to : path === to || path.startsWith(`${to}/`);
  return (
    <Link to={to} className={active ? 'nav-link active' : 'nav-link'} aria-current={active ? 'page' : undefined}>
      {children}
    </Link>
  );
}

function WorkflowNav() {
  const { types } = useWorkflowTypes();
  const counts = useApi('counts', () => ok(client.GET('/api/v1/workflows/counts')), 3000);
  const failed = (type: string) =>
    counts.data?.items.filter((c) => c.type === type && c.status === 'failed').reduce((s, c) => s + c.count, 0) ?? 0;
  const allFailed = counts.data?.items.filter((c) => c.status === 'failed').reduce((s, c) => s + c.count, 0) ?? 0;
  return (
    <>
      <div className="nav-section">Workflows</div>
      <NavLink to="/failed">
        <span>Failed runs</span>
        {allFailed > 0 ? (
          <span className="nav-badge" aria-label={`${allFailed} in total`}>
            {allFailed}
          </span>
        ) : null}
      </NavLink>
      {types?.map(({ type, label }) => {
        const n = failed(type);
        return (
          <NavLink key={type} to={`/workflows/${type}`}>
            <span>{label}</span>
            {n > 0 ? (
              <span className="nav-badge" aria-label={`${n} failed`}>
                {n}
              </span>
            ) : null}
          </NavLink>
        );
      })}
      <NavLink to="/bulk-restart">Bulk restart</NavLink>
      <NavLink to="/trigger">Start a workflow</NavLink>
      <NavLink to="/reconciliation">Reconciliation</NavLink>
    </>
  );
}

/**
 * One search box for runs, records and customers (GET /search). Every role may search; roles
 * below account_manager get customers and records only (the server leaves runs out), so their
 * box says so.
 */
function SearchBox() {
  const can = useCan();
  const loc = useLocation();
  const current = loc.path === '/search' ? (loc.search.get('q') ?? '') : '';
  const [text, setText] = useState(current);
  // Keep the box in step with the results page (back/forward, a link to another search).
  useEffect(() => setText(current), [current]);
  const runs = can('account_manager');
  return (
    <form
      role="search"
      className="topbar-search"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        const q = text.trim();
        if (q) navigate(`/search?q=${encodeURIComponent(q)}`);
      }}
    >
      <label htmlFor="site-search" className="sr-only">
        {runs ? 'Search runs, records and customers' : 'Search customers and records'}
      </label>
      <input
        id="site-search"
        type="search"
        value={text}
        onChange={(e) => setText(e.target.value)}
        placeholder={runs ? 'Run, record or customer id, email, name' : 'Customer email, name or record id'}
        maxLength={254}
        autoComplete="off"
      />
    </form>
  );
}

function UserMenu() {
  const { principal, signOut } = useAuth();
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!open) return;
    const items = () => Array.from(box.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? []);
    items()[0]?.focus();
    // A menu button's keys: arrows move between items, Home/End jump, Escape closes back to the button.
    const onKey = (e: KeyboardEvent) => {
      const all = items();
      const at = all.indexOf(document.activeElement as HTMLElement);
      const go = (i: number) => {
        e.preventDefault();
        all[(i + all.length) % all.length]?.focus();
      };
      if (e.key === 'Escape') {
        setOpen(false);
        button.current?.focus();
      } else if (e.key === 'ArrowDown') go(at + 1);
      else if (e.key === 'ArrowUp') go(at - 1);
      else if (e.key === 'Home') go(0);
      else if (e.key === 'End') go(all.length - 1);
      else if (e.key === 'Tab') setOpen(false);
    };
    const onClick = (e: MouseEvent) => {
      if (box.current && e.target instanceof Node && !box.current.contains(e.target)) setOpen(false);
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('mousedown', onClick);
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('mousedown', onClick);
    };
  }, [open]);
  const who = principal.email ?? principal.name ?? principal.id;
  return (
    <div className="user-menu" ref={box}>
      {/* The name is the visible text (who, role) after a hidden "Account:", never a different label. */}
      <button
        ref={button}
        type="button"
        className="user-button"
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown' && !open) {
            // The menu's own key handler must not see this key press too.
            e.preventDefault();
            e.stopPropagation();
            setOpen(true);
          }
        }}
      >
        <span className="avatar" aria-hidden="true">
          {who.charAt(0).toUpperCase()}
        </span>
        <span className="sr-only">Account: </span>
        <span className="user-text">
          <span>{who}</span> <small>{ROLE_LABELS[principal.role]}</small>
        </span>
      </button>
      {open ? (
        <div className="dropdown menu" role="menu" aria-label="Account">
          <button
            type="button"
            role="menuitem"
            tabIndex={-1}
            onClick={() => {
              setOpen(false);
              navigate('/account');
            }}
          >
            Change password
          </button>
          <button type="button" role="menuitem" tabIndex={-1} onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      ) : null}
    </div>
  );
}

/** After a move to another page, focus goes to the page's content (not left on <body>). */
function useFocusOnNavigation(path: string) {
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [path]);
}

export function Layout({ children }: { children: ReactNode }) {
  const can = useCan();
  const [menuOpen, setMenuOpen] = useState(false);
  const loc = useLocation();
  useEffect(() => setMenuOpen(false), [loc.href]);
  useFocusOnNavigation(loc.path);
  return (
    <div className="shell">
      <a
        href="#main"
        className="skip-link"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to main content
      </a>
      <header className="topbar">
        <button
          type="button"
          className="icon-button menu-toggle"
          aria-label="Menu"
          aria-expanded={menuOpen}
          onClick={() => setMenuOpen(!menuOpen)}
        >
          ☰
        </button>
        <Link to="/" className="brand">
          Billflow
        </Link>
        <SearchBox />
        <div className="topbar-right">
          <Bell />
          <UserMenu />
        </div>
      </header>
      <div className="body">
        <nav className={menuOpen ? 'sidebar open' : 'sidebar'} aria-label="Main">
          <NavLink to="/" exact>
            Dashboard
          </NavLink>
          {can('account_manager') ? <WorkflowNav /> : null}
          <div className="nav-section">Records</div>
          <NavLink to="/customers">Customers</NavLink>
          <div className="nav-section">Configuration</div>
          <NavLink to="/settings">Settings</NavLink>
          {can('developer') ? <NavLink to="/stripe-events">Stripe events</NavLink> : null}
        </nav>
        <main className="content" id="main" tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  );
}
