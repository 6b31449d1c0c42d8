// Merging of live stream events into the task read from the API.
import type { StreamEvent } from '../../api/stream';
import type { TaskDetail } from '../../api/types';

/** One point of the progress-over-time and residual charts. */
export interface ProgressSample {
  elapsedS: number;
  /** Fraction of the work done, 0..1. */
  progress: number;
  iteration: number | null;
  residual: number | null;
}

type Fields = Record<string, unknown>;

// Events may carry their fields at the top level or inside an event envelope's `payload`.
function fieldsOf(data: unknown): Fields {
  if (!data || typeof data !== 'object') return {};
  const record = data as Fields;
  if (record.payload && typeof record.payload === 'object') return { ...record, ...(record.payload as Fields) };
  return record;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Returns the task with the event applied; heartbeats and unknown events change nothing. */
export function applyStreamEvent(task: TaskDetail | undefined, event: StreamEvent): TaskDetail | undefined {
  const fields = fieldsOf(event.data);
  if (event.type === 'snapshot') {
    const snapshot = (fields.task && typeof fields.task === 'object' ? fields.task : fields) as Partial<TaskDetail>;
    return { ...(task ?? {}), ...snapshot } as TaskDetail;
  }
  if (!task) return task;
  if (event.type === 'progress') {
    const progress = numberOrNull(fields.fraction) ?? numberOrNull(fields.progress);
    const next: TaskDetail = { ...task };
    if (progress !== null) next.progress = Math.max(task.progress ?? 0, progress);
    if (task.status === 'queued') next.status = 'running';
    const keys = ['eta_s', 'elapsed_s', 'flops_done', 'flops_total', 'rate_flops_per_s', 'iteration', 'residual', 'phase'] as const;
    for (const key of keys) {
      if (key in fields) (next as Fields)[key] = fields[key];
    }
    return next;
  }
  if (event.type === 'status') {
    // A status message carries the event's own payload; only these fields map
    // onto the task, and the page reads the rest from the API afterwards.
    const next: TaskDetail = { ...task };
    if (typeof fields.status === 'string') next.status = fields.status as TaskDetail['status'];
    if (fields.cancel_requested === true) next.cancel_requested = true;
    if (next.status === 'failed' && typeof fields.message === 'string') {
      next.error = { code: fields.code, message: fields.message };
    }
    return next;
  }
  return task;
}

/** Returns a chart sample for a progress event, or null for other events. */
export function sampleOf(event: StreamEvent): ProgressSample | null {
  if (event.type !== 'progress') return null;
  const fields = fieldsOf(event.data);
  const elapsedS = numberOrNull(fields.elapsed_s);
  const progress = numberOrNull(fields.fraction) ?? numberOrNull(fields.progress);
  if (elapsedS === null || progress === null) return null;
  return { elapsedS, progress, iteration: numberOrNull(fields.iteration), residual: numberOrNull(fields.residual) };
}
