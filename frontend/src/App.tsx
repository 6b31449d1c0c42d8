import { QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createBrowserRouter, Navigate, RouterProvider } from 'react-router';
import { setUnauthorizedHandler } from './api/client';
import { ApiError, NetworkError } from './api/errors';
import { AuthProvider } from './auth/AuthProvider';
import { SignedInLayout } from './components/Layout';
import { LoginPage, RegisterPage } from './features/auth/AuthPages';
import { CreateTaskPage } from './features/create-task/CreateTaskPage';
import { HistoryPage } from './features/history/HistoryPage';
import { TaskDetailsPage } from './features/task-details/TaskDetailsPage';
import { reportRequestOutcome } from './lib/connection';

export function createQueryClient(): QueryClient {
  return new QueryClient({
    queryCache: new QueryCache({
      onError: (error) => {
        if (error instanceof NetworkError) reportRequestOutcome(false);
      },
      onSuccess: () => reportRequestOutcome(true),
    }),
    defaultOptions: {
      queries: {
        // Client errors (404, 422) do not improve on retry; lost connections do.
        retry: (failureCount, error) =>
          !(error instanceof ApiError && error.status < 500) && failureCount < 5,
        retryDelay: (attempt) => Math.min(1000 * 2 ** attempt, 10_000),
      },
    },
  });
}

export function createRouter() {
  return createBrowserRouter([
    { path: '/login', element: <LoginPage /> },
    { path: '/register', element: <RegisterPage /> },
    {
      element: <SignedInLayout />,
      children: [
        { path: '/', element: <Navigate to="/tasks" replace /> },
        { path: '/tasks', element: <HistoryPage /> },
        { path: '/tasks/new', element: <CreateTaskPage /> },
        { path: '/tasks/:taskId', element: <TaskDetailsPage /> },
        { path: '*', element: <p>Page not found.</p> },
      ],
    },
  ]);
}

const queryClient = createQueryClient();
const router = createRouter();

// The one place that handles 401: the session has ended, so log in again
// and come back to the same page.
setUnauthorizedHandler(() => {
  queryClient.clear();
  const here = window.location.pathname + window.location.search;
  if (window.location.pathname !== '/login') {
    void router.navigate(`/login?next=${encodeURIComponent(here)}`, { state: { expired: true } });
  }
});

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <AuthProvider>
        <RouterProvider router={router} />
      </AuthProvider>
    </QueryClientProvider>
  );
}
