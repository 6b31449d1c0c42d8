import { describe, expect, it } from 'vitest';
import type { TaskDetail } from '../../api/types';
import { applyStreamEvent, sampleOf } from './liveTask';

const queued = {
  task_id: 't1',
  status: 'queued',
  method_requested: 'auto',
  submitted_at: '2026-01-01T00:00:00Z',
  progress: 0,
} as TaskDetail;

describe('applyStreamEvent', () => {
  it('replaces the task with a snapshot', () => {
    const next = applyStreamEvent(queued, { type: 'snapshot', data: { ...queued, status: 'running', progress: 0.2 } });
    expect(next?.status).toBe('running');
    expect(next?.progress).toBe(0.2);
  });

  it('applies progress from an event payload', () => {
    const next = applyStreamEvent(queued, {
      type: 'progress',
      data: { event_type: 'TaskProgressed', payload: { fraction: 0.4, eta_s: 12, elapsed_s: 3 } },
    });
    expect(next?.progress).toBe(0.4);
    expect(next?.eta_s).toBe(12);
    expect(next?.status).toBe('running');
  });

  it('never moves progress backwards', () => {
    const running = { ...queued, status: 'running', progress: 0.6 } as TaskDetail;
    expect(applyStreamEvent(running, { type: 'progress', data: { fraction: 0.5 } })?.progress).toBe(0.6);
  });

  it('applies a status change', () => {
    expect(applyStreamEvent(queued, { type: 'status', data: { status: 'cancelled' } })?.status).toBe('cancelled');
  });

  it('keeps the status of a cancellation request', () => {
    const next = applyStreamEvent({ ...queued, status: 'running' } as TaskDetail, {
      type: 'status',
      data: { status: null, cancel_requested: true, reason: 'requested by the owner' },
    });
    expect(next?.status).toBe('running');
    expect(next?.cancel_requested).toBe(true);
  });

  it('reads the reason of a failure', () => {
    const next = applyStreamEvent(queued, {
      type: 'status',
      data: { status: 'failed', code: 'singular_matrix', message: 'A is singular.' },
    });
    expect(next?.error).toEqual({ code: 'singular_matrix', message: 'A is singular.' });
  });

  it('ignores heartbeats', () => {
    expect(applyStreamEvent(queued, { type: 'heartbeat', data: {} })).toBe(queued);
  });
});

describe('sampleOf', () => {
  it('reads a chart point from progress', () => {
    expect(sampleOf({ type: 'progress', data: { fraction: 0.5, elapsed_s: 2, iteration: 4, residual: 1e-3 } })).toEqual({
      elapsedS: 2,
      progress: 0.5,
      iteration: 4,
      residual: 1e-3,
    });
  });

  it('skips events without elapsed time', () => {
    expect(sampleOf({ type: 'progress', data: { fraction: 0.5 } })).toBeNull();
  });
});
