import { useQuery } from '@tanstack/react-query';
import { NavLink, Navigate, Outlet, useLocation } from 'react-router';
import { readMe } from '../api/auth';
import { useAuth } from '../auth/AuthProvider';
import { ConnectionBanner } from './ConnectionBanner';

/** Renders the frame of every signed-in page: navigation, log out and the connection banner. */
export function SignedInLayout() {
  const auth = useAuth();
  const location = useLocation();
  const me = useQuery({ queryKey: ['me'], queryFn: readMe, enabled: auth.status === 'signed-in', staleTime: Infinity });

  if (auth.status === 'restoring') {
    return (
      <p className="page-loading" role="status">
        Restoring your session…
      </p>
    );
  }
  if (auth.status === 'signed-out') {
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/login?next=${next}`} replace />;
  }

  return (
    <div className="app-shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top-bar">
        <span className="brand">Solve Complex Task</span>
        <nav aria-label="Main">
          <NavLink to="/tasks/new">New task</NavLink>
          <NavLink to="/tasks" end>
            History
          </NavLink>
        </nav>
        {me.data ? <span className="user-email">{me.data.email}</span> : null}
        <button type="button" className="secondary" onClick={auth.logout}>
          Log out
        </button>
      </header>
      <ConnectionBanner />
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
