import { useId, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { listTasks, type TaskFilters } from '../../api/tasks';
import { METHODS, TASK_STATUSES, TERMINAL_STATUSES, type TaskStatus, type TaskSummary } from '../../api/types';
import { StatusBadge } from '../../components/StatusBadge';
import { formatDuration, formatTimestamp, secondsBetween } from '../../lib/format';

const PAGE_SIZE = 20;
// Running or queued tasks on the page are refreshed at this interval.
const LIVE_REFRESH_MS = 2000;

/** Reads the filters and page from the URL, so that a filtered view can be shared and reloaded. */
function filtersFrom(params: URLSearchParams): TaskFilters {
  const day = (name: string, endOfDay: boolean) => {
    const value = params.get(name);
    return value ? new Date(`${value}T${endOfDay ? '23:59:59.999' : '00:00:00'}`).toISOString() : undefined;
  };
  return {
    status: (params.get('status') as TaskStatus | null) ?? undefined,
    method: params.get('method') ?? undefined,
    submittedAfter: day('from', false),
    submittedBefore: day('to', true),
    cursor: params.get('cursor') ?? undefined,
    limit: PAGE_SIZE,
  };
}

function durationOf(task: TaskSummary): string {
  return formatDuration(task.elapsed_s ?? secondsBetween(task.started_at, task.finished_at));
}

export function HistoryPage() {
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const filters = filtersFrom(params);
  const statusId = useId();
  const methodId = useId();
  const fromId = useId();
  const toId = useId();

  const page = useQuery({
    queryKey: ['tasks', filters],
    queryFn: () => listTasks(filters),
    placeholderData: keepPreviousData,
    refetchInterval: (query) =>
      query.state.data?.items.some((task) => !TERMINAL_STATUSES.includes(task.status)) ? LIVE_REFRESH_MS : false,
  });

  // Earlier pages' cursors, so "Previous" can go back (the API pages forward only).
  const previousCursors = params.getAll('back');

  function applyFilters(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const next = new URLSearchParams();
    for (const name of ['status', 'method', 'from', 'to']) {
      const value = String(form.get(name) ?? '');
      if (value) next.set(name, value);
    }
    setParams(next);
  }

  function goTo(cursor: string | null | undefined, back: string[]) {
    const next = new URLSearchParams(params);
    next.delete('cursor');
    next.delete('back');
    if (cursor) next.set('cursor', cursor);
    for (const value of back) next.append('back', value);
    setParams(next);
  }

  const items = page.data?.items ?? [];
  return (
    <section className="history">
      <h1>History</h1>
      <form className="filters" onSubmit={applyFilters} aria-label="Filter tasks" key={params.toString()}>
        <div className="field">
          <label htmlFor={statusId}>Status</label>
          <select id={statusId} name="status" defaultValue={params.get('status') ?? ''}>
            <option value="">any</option>
            {TASK_STATUSES.map((status) => (
              <option key={status} value={status}>
                {status}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={methodId}>Method</label>
          <select id={methodId} name="method" defaultValue={params.get('method') ?? ''}>
            <option value="">any</option>
            {METHODS.filter((method) => method !== 'auto').map((method) => (
              <option key={method} value={method}>
                {method}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={fromId}>Submitted from</label>
          <input id={fromId} type="date" name="from" defaultValue={params.get('from') ?? ''} />
        </div>
        <div className="field">
          <label htmlFor={toId}>Submitted until</label>
          <input id={toId} type="date" name="to" defaultValue={params.get('to') ?? ''} />
        </div>
        <button type="submit">Apply filters</button>
      </form>

      {page.isError ? (
        <p role="alert" className="form-error">
          Could not load your tasks: {page.error.message}
        </p>
      ) : null}
      {page.isPending ? <p role="status">Loading your tasks…</p> : null}
      {page.isSuccess && items.length === 0 ? (
        <p>
          No tasks match. <Link to="/tasks/new">Submit a new task</Link>.
        </p>
      ) : null}

      {items.length > 0 ? (
        <table className="task-table">
          <caption className="visually-hidden">Your tasks, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Task</th>
              <th scope="col">Status</th>
              <th scope="col">Method</th>
              <th scope="col">Size</th>
              <th scope="col">Submitted</th>
              <th scope="col">Finished</th>
              <th scope="col">Duration</th>
            </tr>
          </thead>
          <tbody>
            {items.map((task) => (
              <tr key={task.task_id} className="clickable" onClick={() => navigate(`/tasks/${task.task_id}`)}>
                <td data-label="Task">
                  <Link to={`/tasks/${task.task_id}`} onClick={(event) => event.stopPropagation()}>
                    <code>{task.task_id.slice(0, 8)}</code>
                  </Link>
                </td>
                <td data-label="Status">
                  <StatusBadge status={task.status} />
                  {task.status === 'running' ? <span className="inline-progress"> {((task.progress ?? 0) * 100).toFixed(0)}%</span> : null}
                </td>
                <td data-label="Method">{task.method ?? task.method_requested}</td>
                <td data-label="Size">
                  {task.rows ?? '?'} × {task.cols ?? '?'}
                </td>
                <td data-label="Submitted">{formatTimestamp(task.submitted_at)}</td>
                <td data-label="Finished">{formatTimestamp(task.finished_at)}</td>
                <td data-label="Duration">{durationOf(task)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}

      <nav className="pagination" aria-label="Pages">
        <button
          type="button"
          className="secondary"
          disabled={previousCursors.length === 0 && !params.get('cursor')}
          onClick={() => goTo(previousCursors.at(-1), previousCursors.slice(0, -1))}
        >
          Previous
        </button>
        <button
          type="button"
          className="secondary"
          disabled={!page.data?.next_cursor}
          onClick={() => goTo(page.data?.next_cursor, [...previousCursors, params.get('cursor') ?? ''])}
        >
          Next
        </button>
      </nav>
    </section>
  );
}
