import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { endSession, startSession } from '../../auth/session';
import { jsonResponses, renderRoutes } from '../../test/render';
import { HistoryPage } from './HistoryPage';

function summary(id: string, status: string) {
  return {
    task_id: `${id}-0000-4000-8000-000000000000`,
    status,
    method_requested: 'auto',
    method: 'lu',
    rows: 3,
    cols: 3,
    nnz: null,
    is_sparse: false,
    progress: 1,
    submitted_at: '2026-01-01T10:00:00Z',
    started_at: '2026-01-01T10:00:01Z',
    finished_at: '2026-01-01T10:00:03Z',
    attempt: 1,
  };
}

const routes = [
  { path: '/tasks', element: <HistoryPage /> },
  { path: '/tasks/:taskId', element: <p>Details page</p> },
];

afterEach(() => {
  endSession();
  vi.unstubAllGlobals();
});

describe('HistoryPage', () => {
  it('pages forward and back with the cursor', async () => {
    startSession({ access_token: 'access', refresh_token: 'refresh', expires_in: 900 });
    const server = jsonResponses(
      { status: 200, body: { items: [summary('aaaaaaaa', 'completed')], next_cursor: 'cursor-2' } },
      { status: 200, body: { items: [summary('bbbbbbbb', 'cancelled')], next_cursor: null } },
      { status: 200, body: { items: [summary('aaaaaaaa', 'completed')], next_cursor: 'cursor-2' } },
    );
    vi.stubGlobal('fetch', server.fetch);
    renderRoutes(routes, '/tasks');

    expect(await screen.findByRole('link', { name: 'aaaaaaaa' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Previous' })).toBeDisabled();
    await userEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(await screen.findByRole('link', { name: 'bbbbbbbb' })).toBeInTheDocument();
    expect(new URL(server.calls[1]!.url).searchParams.get('cursor')).toBe('cursor-2');
    expect(screen.getByRole('button', { name: 'Next' })).toBeDisabled();

    await userEvent.click(screen.getByRole('button', { name: 'Previous' }));
    expect(await screen.findByRole('link', { name: 'aaaaaaaa' })).toBeInTheDocument();
    expect(new URL(server.calls[2]!.url).searchParams.has('cursor')).toBe(false);
  });

  it('sends the filters and shows the duration', async () => {
    startSession({ access_token: 'access', refresh_token: 'refresh', expires_in: 900 });
    const server = jsonResponses(
      { status: 200, body: { items: [summary('aaaaaaaa', 'completed')], next_cursor: null } },
      { status: 200, body: { items: [], next_cursor: null } },
    );
    vi.stubGlobal('fetch', server.fetch);
    renderRoutes(routes, '/tasks');

    expect(await screen.findByText('2.0 s')).toBeInTheDocument();
    await userEvent.selectOptions(screen.getByLabelText('Status'), 'failed');
    await userEvent.selectOptions(screen.getByLabelText('Method'), 'cg');
    await userEvent.click(screen.getByRole('button', { name: 'Apply filters' }));
    expect(await screen.findByText(/No tasks match/)).toBeInTheDocument();
    const query = new URL(server.calls[1]!.url).searchParams;
    expect(query.get('status')).toBe('failed');
    expect(query.get('method')).toBe('cg');
  });

  it('opens the details when a row is clicked', async () => {
    startSession({ access_token: 'access', refresh_token: 'refresh', expires_in: 900 });
    vi.stubGlobal('fetch', jsonResponses({ status: 200, body: { items: [summary('aaaaaaaa', 'completed')], next_cursor: null } }).fetch);
    renderRoutes(routes, '/tasks');
    await userEvent.click(await screen.findByRole('cell', { name: 'lu' }));
    expect(await screen.findByText('Details page')).toBeInTheDocument();
  });
});
