import { useEffect, useState } from 'react';
import type { TaskDetail } from '../../api/types';
import { formatDuration, secondsBetween } from '../../lib/format';

/** Seconds the task has run: the API's figure when final, else counted from its start time. */
function useElapsedSeconds(task: TaskDetail): number | null {
  const running = task.status === 'running';
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!running) return undefined;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);
  if (running && task.started_at) return secondsBetween(task.started_at, new Date(now).toISOString());
  return task.elapsed_s ?? secondsBetween(task.started_at, task.finished_at);
}

/** Queue position while queued, the iteration of an iterative solve, else the solver's phase. */
function fourthFigure(task: TaskDetail) {
  if (task.status === 'queued') {
    return (
      <>
        <dt>Queue position</dt>
        <dd>{task.queue?.position ?? '—'}</dd>
      </>
    );
  }
  const iteration = task.iteration ?? task.iterations;
  if (iteration != null) {
    return (
      <>
        <dt>Iteration</dt>
        <dd>{iteration}</dd>
      </>
    );
  }
  return (
    <>
      <dt>Phase</dt>
      <dd>{task.phase ?? '—'}</dd>
    </>
  );
}

export function ProgressPanel({ task }: { task: TaskDetail }) {
  const elapsed = useElapsedSeconds(task);
  const fraction = task.status === 'completed' ? 1 : Math.min(1, Math.max(0, task.progress ?? 0));
  const percent = (fraction * 100).toFixed(1);
  const eta =
    task.status === 'running'
      ? formatDuration(task.eta_s)
      : task.status === 'queued' && task.queue?.predicted_start_in_s != null
        ? `starts in ${formatDuration(task.queue.predicted_start_in_s)}`
        : '—';

  return (
    <section className="progress-panel" aria-label="Progress">
      <div
        className="progress-track"
        role="progressbar"
        aria-label="Task progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Number(percent)}
        aria-valuetext={`${percent}%`}
      >
        <div className={`progress-fill status-${task.status}`} style={{ transform: `scaleX(${fraction})` }} />
      </div>
      <dl className="figures progress-figures">
        <div>
          <dt>Done</dt>
          <dd>{percent}%</dd>
        </div>
        <div>
          <dt>Time left</dt>
          <dd>{eta}</dd>
        </div>
        <div>
          <dt>Elapsed</dt>
          <dd>{formatDuration(elapsed)}</dd>
        </div>
        <div>{fourthFigure(task)}</div>
      </dl>
    </section>
  );
}
