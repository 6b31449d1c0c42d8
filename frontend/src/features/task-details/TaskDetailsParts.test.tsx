import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TaskDetail } from '../../api/types';
import { endSession, startSession } from '../../auth/session';
import { LineChart, ticksFor } from '../../components/LineChart';
import { jsonResponses, renderWithClient } from '../../test/render';
import { CancelTask } from './CancelTask';
import { ProgressPanel } from './ProgressPanel';
import { isIllConditioned, ResultPanel } from './ResultPanel';

const running = {
  task_id: 'c0ffee00-0000-4000-8000-000000000000',
  status: 'running',
  method_requested: 'auto',
  submitted_at: '2026-01-01T00:00:00Z',
  progress: 0.425,
  eta_s: 75,
} as TaskDetail;

afterEach(() => {
  endSession();
  vi.unstubAllGlobals();
});

describe('ProgressPanel', () => {
  it('reports percent and time left', () => {
    render(<ProgressPanel task={running} />);
    expect(screen.getByRole('progressbar', { name: 'Task progress' })).toHaveAttribute('aria-valuenow', '42.5');
    expect(screen.getByText('42.5%')).toBeInTheDocument();
    expect(screen.getByText('1 min 15 s')).toBeInTheDocument();
  });
});

describe('CancelTask', () => {
  it('asks for confirmation before cancelling', async () => {
    startSession({ access_token: 'access', refresh_token: 'refresh', expires_in: 900 });
    const server = jsonResponses({ status: 202, body: { task_id: running.task_id, status: 'cancellation_requested' } });
    vi.stubGlobal('fetch', server.fetch);
    renderWithClient(<CancelTask taskId={running.task_id} requested={false} />);

    await userEvent.click(await screen.findByRole('button', { name: 'Cancel task' }));
    expect(screen.getByRole('alertdialog')).toHaveTextContent('Cancel this task?');
    expect(screen.getByRole('button', { name: 'Yes, cancel the task' })).toHaveFocus();
    await userEvent.keyboard('{Escape}');
    expect(screen.queryByRole('alertdialog')).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Cancel task' })).toHaveFocus();
    expect(server.calls).toHaveLength(0);

    await userEvent.click(screen.getByRole('button', { name: 'Cancel task' }));
    await userEvent.click(screen.getByRole('button', { name: 'Yes, cancel the task' }));
    expect(await screen.findByText(/Cancellation requested/)).toBeInTheDocument();
    expect(server.calls[0]!.url).toMatch(/\/command\/v1\/tasks\/c0ffee00-[^/]+\/cancel$/);
  });
});

describe('ResultPanel', () => {
  it('warns about a large condition estimate and previews x', async () => {
    startSession({ access_token: 'access', refresh_token: 'refresh', expires_in: 900 });
    vi.stubGlobal('fetch', jsonResponses({ status: 200, body: { x: [0.25, -1.5, 3] } }).fetch);
    const completed = {
      ...running,
      status: 'completed',
      cols: 3,
      condition_estimate: 3e12,
      relative_residual: 1e-16,
      result: { available: true, length: 3, formats: ['json', 'csv', 'npy', 'mtx'] },
    } as TaskDetail;
    renderWithClient(<ResultPanel task={completed} />);
    expect(await screen.findByRole('note')).toHaveTextContent(/ill-conditioned \(condition estimate 3.00e\+12\)/);
    expect(await screen.findByRole('list', { name: 'First entries of x' })).toHaveTextContent('-1.500000000');
    for (const format of ['JSON', 'CSV', 'NPY', 'MTX']) {
      expect(screen.getByRole('button', { name: `Download ${format}` })).toBeInTheDocument();
    }
  });

  it('flags only condition numbers beyond the warning level', () => {
    expect(isIllConditioned(1e3)).toBe(false);
    expect(isIllConditioned(1e10)).toBe(true);
    expect(isIllConditioned(Infinity)).toBe(true);
    expect(isIllConditioned(null)).toBe(false);
  });
});

describe('LineChart', () => {
  it('puts powers of ten on a log axis', () => {
    expect(ticksFor(-12, 0, 'log')).toEqual([-12, -10, -8, -6, -4, -2, 0]);
  });

  it('skips non-positive values on a log axis', () => {
    render(
      <LineChart
        title="Residual per iteration"
        points={[{ x: 0, y: 1 }, { x: 1, y: 0 }, { x: 2, y: 1e-6 }]}
        xLabel="iteration"
        yLabel="residual"
        yScale="log"
      />,
    );
    expect(screen.getByRole('img', { name: 'Residual per iteration: 2 points' })).toBeInTheDocument();
    expect(screen.getByText('1e-6')).toBeInTheDocument();
  });
});
