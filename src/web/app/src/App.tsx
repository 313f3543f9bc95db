// The app: the session probe, signed-out pages, and the signed-in routes inside the layout.
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import { client, ok, setCsrfToken, setUnauthorizedHandler } from './api.ts';
import type { ApiError } from './api.ts';
import { AuthContext } from './auth.tsx';
import type { Auth } from './auth.tsx';
import { Layout } from './components/Layout.tsx';
import { ErrorNote, Loading } from './components/ui.tsx';
import { match, navigate, useLocation } from './router.tsx';
import type { Principal, Role, SignedIn } from './types.ts';
import { roleAtLeast } from './types.ts';
import { AccountPage } from './pages/Account.tsx';
import { BulkRestartPage } from './pages/BulkRestart.tsx';
import { CustomerPage } from './pages/Customer.tsx';
import { CustomStepsPage } from './pages/CustomSteps.tsx';
import { CustomersPage } from './pages/Customers.tsx';
import { InboxPage } from './pages/Inbox.tsx';
import { RecordPage } from './pages/Records.tsx';
import { DashboardPage } from './pages/Dashboard.tsx';
import { ReconciliationPage } from './pages/Reconciliation.tsx';
import { RunPage } from './pages/Run.tsx';
import { SearchPage } from './pages/Search.tsx';
import { SettingsPage } from './pages/Settings.tsx';
import { StripeEventPage, StripeEventsPage } from './pages/StripeEvents.tsx';
import { InvitationPage, LoginPage, SetupPage } from './pages/SignIn.tsx';
import { TriggerPage } from './pages/Trigger.tsx';
import { WorkflowListPage } from './pages/Workflows.tsx';

type State =
  | { kind: 'probing' }
  | { kind: 'signed_out' }
  | { kind: 'error'; error: ApiError }
  | { kind: 'in'; principal: Principal };

interface RouteDef {
  pattern: string;
  min?: Role;
  render: (params: Record<string, string>) => ReactNode;
}

const ROUTES: RouteDef[] = [
  { pattern: '/', render: () => <DashboardPage /> },
  { pattern: '/workflows/:type', min: 'account_manager', render: (p) => <WorkflowListPage type={p.type ?? ''} /> },
  { pattern: '/workflow-types/:type/steps', min: 'developer', render: (p) => <CustomStepsPage type={p.type ?? ''} /> },
  { pattern: '/failed', min: 'account_manager', render: () => <InboxPage /> },
  { pattern: '/search', render: () => <SearchPage /> },
  { pattern: '/runs/:id', min: 'account_manager', render: (p) => <RunPage id={p.id ?? ''} /> },
  { pattern: '/bulk-restart', min: 'account_manager', render: () => <BulkRestartPage /> },
  { pattern: '/trigger', min: 'account_manager', render: () => <TriggerPage /> },
  { pattern: '/reconciliation', min: 'account_manager', render: () => <ReconciliationPage /> },
  { pattern: '/stripe-events', min: 'developer', render: () => <StripeEventsPage /> },
  { pattern: '/stripe-events/:id', min: 'developer', render: (p) => <StripeEventPage id={p.id ?? ''} /> },
  { pattern: '/customers', render: () => <CustomersPage /> },
  { pattern: '/customers/:id', render: (p) => <CustomerPage id={p.id ?? ''} /> },
  { pattern: '/records/:kind/:id', render: (p) => <RecordPage kind={p.kind ?? ''} id={p.id ?? ''} /> },
  { pattern: '/settings', render: () => <SettingsPage tab="" /> },
  { pattern: '/settings/:tab', render: (p) => <SettingsPage tab={p.tab ?? ''} /> },
  { pattern: '/account', render: () => <AccountPage /> },
];

function SignedInRoutes({ principal }: { principal: Principal }) {
  const { path } = useLocation();
  for (const route of ROUTES) {
    const params = match(route.pattern, path);
    if (!params) continue;
    if (route.min && !roleAtLeast(principal.role, route.min)) {
      return (
        <div className="note note-error" role="alert">
          <strong>Not allowed</strong>
          <div>Your role does not give access to this page.</div>
        </div>
      );
    }
    return <>{route.render(params)}</>;
  }
  return (
    <div className="empty">
      <h1>Page not found</h1>
      <p>
        Nothing lives at <code>{path}</code>.
      </p>
    </div>
  );
}

/** What the sign-in page says when the server tells why this browser's session ended. */
const SESSION_ENDS: Record<string, string> = {
  password_changed:
    'Your password was changed in another session, which signed you out here. Sign in with the new password.',
  deactivated: 'Your account was deactivated. Ask an administrator if you still need access.',
  signed_out: 'This session was signed out from another session. Sign in again.',
  expired: 'Your session expired. Sign in again.',
  ended: 'Your session ended (unused for a while, or signed out). Sign in again.',
};

export function App() {
  const [state, setState] = useState<State>({ kind: 'probing' });
  const [ended, setEnded] = useState<string | null>(null);
  const { path } = useLocation();
  // Asked only after a 401: the cookie the browser still holds tells the server which session it was.
  const explainEnd = useCallback(() => {
    void ok(client.GET('/api/v1/auth/session-end')).then(
      (r) => setEnded(r.reason ? (SESSION_ENDS[r.reason] ?? null) : null),
      () => setEnded(null),
    );
  }, []);

  const probe = useCallback(async () => {
    try {
      const session = await ok(client.GET('/api/v1/auth/session'));
      setCsrfToken(session.csrf_token);
      setState({ kind: 'in', principal: session.principal });
    } catch (error) {
      const e = error as ApiError;
      setState(e.status === 401 ? { kind: 'signed_out' } : { kind: 'error', error: e });
      if (e.status === 401) explainEnd();
    }
  }, []);

  useEffect(() => {
    // The setup and invitation links are for people without a session: no probe needed.
    if (path === '/setup' || path === '/invitation') setState({ kind: 'signed_out' });
    else void probe();
    setUnauthorizedHandler(() => {
      setCsrfToken(null);
      setState({ kind: 'signed_out' });
      explainEnd();
    });
    return () => setUnauthorizedHandler(null);
  }, []);

  const onSignedIn = useCallback(
    (signed: SignedIn) => {
      setEnded(null);
      setCsrfToken(signed.csrf_token);
      setState({
        kind: 'in',
        principal: { kind: 'user', id: signed.user.id, role: signed.user.role, email: signed.user.email, name: null },
      });
      if (path === '/login' || path === '/setup' || path === '/invitation') navigate('/', { replace: true });
    },
    [path],
  );

  const auth = useMemo<Auth | null>(
    () =>
      state.kind === 'in'
        ? {
            principal: state.principal,
            signOut: async () => {
              try {
                await ok(client.POST('/api/v1/auth/logout'));
              } finally {
                setCsrfToken(null);
                setState({ kind: 'signed_out' });
                navigate('/login', { replace: true });
              }
            },
          }
        : null,
    [state],
  );

  if (state.kind === 'probing') return <Loading />;
  if (state.kind === 'error') {
    return (
      <main className="auth-page">
        <ErrorNote error={state.error} />
      </main>
    );
  }
  if (state.kind === 'signed_out' || !auth) {
    if (path === '/setup') return <SetupPage onSignedIn={onSignedIn} />;
    if (path === '/invitation') return <InvitationPage onSignedIn={onSignedIn} />;
    return <LoginPage onSignedIn={onSignedIn} notice={ended} />;
  }
  return (
    <AuthContext.Provider value={auth}>
      <Layout>
        <SignedInRoutes principal={auth.principal} />
      </Layout>
    </AuthContext.Provider>
  );
}
