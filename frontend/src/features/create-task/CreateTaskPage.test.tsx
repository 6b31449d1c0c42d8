import { fireEvent, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { endSession, startSession } from '../../auth/session';
import { jsonResponses, renderRoutes } from '../../test/render';
import { CreateTaskPage } from './CreateTaskPage';

const routes = [
  { path: '/tasks/new', element: <CreateTaskPage /> },
  { path: '/tasks/:taskId', element: <p>Details page</p> },
];

afterEach(() => {
  endSession();
  vi.unstubAllGlobals();
});

function paste(target: HTMLElement, text: string) {
  fireEvent.paste(target, { clipboardData: { getData: () => text } });
}

describe('CreateTaskPage', () => {
  it('fills the grid from a spreadsheet paste and submits it', async () => {
    startSession({ access_token: 'access', refresh_token: 'refresh', expires_in: 900 });
    const server = jsonResponses({
      status: 202,
      body: { task_id: 'abc', status: 'queued', task_url: '/query/v1/tasks/abc', consistency_token: '0:1' },
    });
    vi.stubGlobal('fetch', server.fetch);
    renderRoutes(routes, '/tasks/new');

    paste(screen.getByLabelText('A row 1 column 1'), '4\t1\t1\n1\t3\t2\n');
    expect(screen.getByLabelText('Size n')).toHaveValue(2);
    expect(screen.getByLabelText('A row 2 column 1')).toHaveValue('1');
    expect(screen.getByLabelText('b row 1')).toHaveValue('1');

    await userEvent.click(screen.getByRole('button', { name: 'Submit task' }));
    expect(await screen.findByText('Details page')).toBeInTheDocument();
    const request = server.calls[0]!;
    expect(request.headers.get('Authorization')).toBe('Bearer access');
    expect(request.headers.get('Idempotency-Key')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await request.json()).toEqual({ method: 'auto', a: [[4, 1], [1, 3]], b: [1, 2] });
  });

  it('marks empty cells before submitting', async () => {
    const server = jsonResponses();
    vi.stubGlobal('fetch', server.fetch);
    renderRoutes(routes, '/tasks/new');
    await userEvent.click(screen.getByRole('button', { name: 'Submit task' }));
    expect(screen.getByText('12 cells of A or b are empty or not a number.')).toBeInTheDocument();
    expect(screen.getByLabelText('A row 1 column 1')).toHaveAttribute('aria-invalid', 'true');
    expect(server.calls).toHaveLength(0);
  });

  it('shows the API error for a generated problem', async () => {
    startSession({ access_token: 'access', refresh_token: 'refresh', expires_in: 900 });
    const detail = 'A is 9000 x 9000, which needs 648000000 bytes as a dense float64 array, more than the limit';
    const server = jsonResponses({ status: 413, body: { detail, code: 'problem_too_large', field: 'A' } });
    vi.stubGlobal('fetch', server.fetch);
    renderRoutes(routes, '/tasks/new');
    await userEvent.click(screen.getByLabelText('Generate a problem'));
    await userEvent.selectOptions(screen.getByLabelText('Problem kind'), 'hilbert');
    await userEvent.clear(screen.getByLabelText('Size n'));
    await userEvent.type(screen.getByLabelText('Size n'), '9000');
    await userEvent.click(screen.getByRole('button', { name: 'Submit task' }));
    expect(await screen.findByText(detail)).toBeInTheDocument();
    expect(screen.getByLabelText('Size n')).toHaveAttribute('aria-invalid', 'true');
  });

  it('rejects b whose length does not match A', async () => {
    renderRoutes(routes, '/tasks/new');
    await userEvent.click(screen.getByLabelText('Upload files'));
    const a = new File(['%%MatrixMarket matrix coordinate real general\n3 3 1\n1 1 2\n'], 'a.mtx');
    const b = new File(['1\n2\n'], 'b.csv');
    await userEvent.upload(screen.getByLabelText('Matrix A'), a);
    await userEvent.upload(screen.getByLabelText('Right-hand side b'), b);
    expect(await screen.findByText(/MTX, 3 × 3, 1 stored entries/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Submit task' }));
    expect(screen.getByText('b has 2 entries but A has 3 rows; they must match.')).toBeInTheDocument();
  });
});
