import type { TaskDetail } from '../../api/types';
import { formatBytes, formatSi } from '../../lib/format';

interface ComplexityDetail {
  time?: string;
  memory?: string;
  flops?: string;
}

// Textbook costs of each method, shown while the task runs because the API
// reports the solver's own figures only with the result.
const EXPECTED_COMPLEXITY: Record<string, ComplexityDetail> = {
  lu: { time: 'O(n^3)', memory: 'O(n^2)' },
  cholesky: { time: 'O(n^3)', memory: 'O(n^2)' },
  lstsq: { time: 'O(m n min(m, n))', memory: 'O(m n)' },
  splu: { time: 'O(flops of the fill-in)', memory: 'O(nnz(L + U))' },
  cg: { time: 'O(k nnz)', memory: 'O(nnz + n)' },
  gmres: { time: 'O(k nnz + k restart n)', memory: 'O(nnz + restart n)' },
  bicgstab: { time: 'O(k nnz)', memory: 'O(nnz + n)' },
};

/** Reads the asymptotic costs the solver reported, else the expected ones of the method (marked `expected`). */
export function complexityOf(task: TaskDetail): ComplexityDetail & { expected?: boolean } {
  const complexity = task.complexity as unknown;
  if (typeof complexity === 'string') return { time: complexity };
  if (complexity && typeof complexity === 'object') return complexity as ComplexityDetail;
  const expected = EXPECTED_COMPLEXITY[task.method ?? task.method_requested];
  return expected ? { ...expected, expected: true } : {};
}

export function ComplexityFigures({ task }: { task: TaskDetail }) {
  const complexity = complexityOf(task);
  const flopsPerSecond = task.gflops != null ? task.gflops * 1e9 : task.rate_flops_per_s;
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
          <dd>
            {complexity.time ?? '—'}
            {complexity.expected ? ' (expected)' : ''}
          </dd>
        </div>
        <div>
          <dt>Memory</dt>
          <dd>
            {complexity.memory ?? '—'}
            {complexity.expected ? ' (expected)' : ''}
          </dd>
        </div>
        <div>
          <dt>Total flops</dt>
          <dd title={complexity.flops}>{formatSi(task.flops_total)}</dd>
        </div>
        <div>
          <dt>Achieved rate</dt>
          <dd>{formatSi(flopsPerSecond, 'FLOP/s')}</dd>
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
