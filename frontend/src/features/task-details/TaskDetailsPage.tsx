import { useMemo, useRef } from 'react';
import { Link, useLocation, useParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { ApiError } from '../../api/errors';
import { getTask } from '../../api/tasks';
import { ITERATIVE_METHODS, TERMINAL_STATUSES, type TaskDetail, type TaskError } from '../../api/types';
import { LineChart } from '../../components/LineChart';
import { SparsityView } from '../../components/SparsityView';
import { StatusBadge } from '../../components/StatusBadge';
import { formatScientific, formatTimestamp } from '../../lib/format';
import { patternOfGenerator, recallPattern, type SparsityPattern } from '../../lib/sparsity';
import { CancelTask } from './CancelTask';
import { ComplexityFigures } from './ComplexityFigures';
import { ProgressPanel } from './ProgressPanel';
import { ResultPanel } from './ResultPanel';
import type { ProgressSample } from './liveTask';
import { useTaskStream } from './useTaskStream';

// While the live stream is down, the page polls at this interval instead.
const POLL_INTERVAL_MS = 3000;

function patternFor(task: TaskDetail): SparsityPattern | null {
  const stored = recallPattern(task.task_id);
  if (stored) return stored;
  const generator = (task.input as { generator?: unknown } | undefined)?.generator as
    | { kind?: string; n?: number; seed?: number }
    | undefined;
  if (generator?.kind && generator.n) {
    return patternOfGenerator({ kind: generator.kind as never, n: generator.n, seed: generator.seed ?? 0 });
  }
  return null;
}

export function TaskDetailsPage() {
  const { taskId = '' } = useParams();
  const location = useLocation();
  const consistencyToken = (location.state as { consistencyToken?: string } | null)?.consistencyToken;
  const streamOpen = useRef(false);

  const task = useQuery({
    queryKey: ['task', taskId],
    queryFn: () => getTask(taskId, consistencyToken),
    refetchInterval: (query) => {
      const data = query.state.data;
      if (data && TERMINAL_STATUSES.includes(data.status)) return false;
      return streamOpen.current ? false : POLL_INTERVAL_MS;
    },
  });
  const finished = task.data ? TERMINAL_STATUSES.includes(task.data.status) : false;
  const { samples, connection } = useTaskStream(taskId, task.isSuccess && !finished);
  streamOpen.current = connection?.state === 'open';
  // Keyed by the input, not the whole task, because live events replace the
  // task several times a second and a generated pattern can take a moment.
  const inputKey = JSON.stringify(task.data?.input ?? null);
  const pattern = useMemo(
    () => (task.data ? patternFor(task.data) : null),
    [taskId, inputKey, task.isSuccess],
  );

  if (task.isPending) return <p role="status">Loading the task…</p>;
  if (task.isError) {
    const notFound = task.error instanceof ApiError && task.error.status === 404;
    return (
      <section>
        <h1>Task</h1>
        <p role="alert" className="form-error">
          {notFound ? 'No task with this id belongs to your account.' : task.error.message}
        </p>
        <Link to="/tasks">Back to the history</Link>
      </section>
    );
  }

  const detail = task.data;
  const method = detail.method ?? detail.method_requested;
  const iterative = ITERATIVE_METHODS.includes(method);
  const progressPoints = samples.map((sample) => ({ x: sample.elapsedS, y: sample.progress * 100 }));
  const residualPoints = residualSeries(detail, samples);
  const failure = (detail.error ?? {}) as TaskError;
  let liveLabel = '';
  if (!finished && streamOpen.current) liveLabel = `Live (${connection?.transport === 'sse' ? 'SSE' : 'WebSocket'})`;
  else if (!finished) liveLabel = 'Connecting to live updates…';

  return (
    <article className="task-details">
      <header className="task-header">
        <h1>
          Task <code>{detail.task_id.slice(0, 8)}</code>
        </h1>
        <StatusBadge status={detail.status} />
        <span className="live-state" aria-live="polite">
          {liveLabel}
        </span>
      </header>
      <dl className="figures timeline">
        <div>
          <dt>Submitted</dt>
          <dd>{formatTimestamp(detail.submitted_at)}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{formatTimestamp(detail.started_at)}</dd>
        </div>
        <div>
          <dt>Finished</dt>
          <dd>{formatTimestamp(detail.finished_at)}</dd>
        </div>
      </dl>

      <ProgressPanel task={detail} />
      {!finished ? <CancelTask taskId={detail.task_id} requested={Boolean(detail.cancel_requested)} /> : null}

      {detail.status === 'failed' ? (
        <section className="failure" role="alert">
          <h2>The task failed</h2>
          <p>{failure.message ?? 'The solver reported no reason.'}</p>
          {failure.code ? <p className="hint">Code: {failure.code}</p> : null}
        </section>
      ) : null}
      {detail.status === 'cancelled' ? <p className="notice">This task was cancelled.</p> : null}

      <div className="panels">
        <ComplexityFigures task={detail} />
        {pattern ? <SparsityView pattern={pattern} /> : <p className="hint">The sparsity pattern is shown only in the browser that submitted the task.</p>}
      </div>

      <div className="charts">
        {!finished || progressPoints.length > 1 ? (
          <LineChart title="Progress over time" points={progressPoints} xLabel="elapsed (s)" yLabel="done (%)" yDomain={[0, 100]} />
        ) : null}
        {iterative || residualPoints.length > 0 ? (
          <LineChart
            title="Residual per iteration"
            points={residualPoints}
            xLabel="iteration"
            yLabel="relative residual"
            yScale="log"
            formatY={formatScientific}
          />
        ) : null}
      </div>

      {detail.status === 'completed' ? <ResultPanel task={detail} /> : null}
    </article>
  );
}

/** Returns the residual history of a completed task, else the residuals seen live. */
function residualSeries(task: TaskDetail, samples: ProgressSample[]) {
  if (task.residual_history?.length) {
    return task.residual_history.map((residual, index) => ({ x: index, y: residual }));
  }
  return samples
    .filter((sample) => sample.residual !== null && sample.iteration !== null)
    .map((sample) => ({ x: sample.iteration!, y: sample.residual! }));
}
