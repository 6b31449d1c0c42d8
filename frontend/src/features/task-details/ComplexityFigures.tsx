import type { TaskDetail } from '../../api/types';
import { formatBytes, formatSi } from '../../lib/format';

interface ComplexityDetail {
  time?: string;
  memory?: string;
  flops?: string;
}

/** Reads the asymptotic costs, which the API may send as a string or as {time, memory, flops}. */
export function complexityOf(task: TaskDetail): ComplexityDetail {
  const complexity = task.complexity as unknown;
  if (typeof complexity === 'string') return { time: complexity };
  if (complexity && typeof complexity === 'object') return complexity as ComplexityDetail;
  return {};
}

export function ComplexityFigures({ task }: { task: TaskDetail }) {
  const complexity = complexityOf(task);
  const rate = task.gflops ?? (task.rate_flops_per_s != null ? task.rate_flops_per_s / 1e9 : null);
  return (
    <section aria-labelledby="complexity-heading">
      <h2 id="complexity-heading">Complexity</h2>
      <dl className="figures">
        <div>
          <dt>Method</dt>
          <dd>
            {task.method ?? task.method_requested}
            {task.method_requested === 'auto' && task.method ? ' (chosen by auto)' : ''}
          </dd>
        </div>
        <div>
          <dt>Asymptotic cost</dt>
          <dd>{complexity.time ?? '—'}</dd>
        </div>
        <div>
          <dt>Memory</dt>
          <dd>{complexity.memory ?? '—'}</dd>
        </div>
        <div>
          <dt>Total flops</dt>
          <dd>{formatSi(task.flops_total)}</dd>
        </div>
        <div>
          <dt>Achieved rate</dt>
          <dd>{rate != null ? `${rate.toFixed(2)} GFLOP/s` : '—'}</dd>
        </div>
        <div>
          <dt>Peak memory</dt>
          <dd>{formatBytes(task.peak_memory_bytes)}</dd>
        </div>
        <div>
          <dt>System</dt>
          <dd>
            {task.rows ?? '?'} × {task.cols ?? '?'}
            {task.nnz != null ? `, ${task.nnz.toLocaleString()} stored entries` : ''}
          </dd>
        </div>
      </dl>
      {task.method_reason ? <p className="hint">{task.method_reason}</p> : null}
    </section>
  );
}
