import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { fetchResult, fetchSolution } from '../../api/tasks';
import { RESULT_FORMATS, type ResultFormat, type TaskDetail } from '../../api/types';
import { formatScientific } from '../../lib/format';

// Above cond * eps = 1e-6 (cond ~ 4.5e9 in float64) fewer than about six
// significant digits of x are guaranteed; the solver warns at the same point.
const EPSILON = 2 ** -52;
const CONDITION_WARNING = 1e-6 / EPSILON;
const PREVIEW_LENGTH = 10;
// Larger solutions are not fetched just for a preview.
const MAX_PREVIEW_FETCH = 1_000_000;

export function isIllConditioned(condition: number | null | undefined): boolean {
  return condition != null && (!Number.isFinite(condition) || condition > CONDITION_WARNING);
}

function saveBlob(blob: Blob, fileName: string) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function ResultPanel({ task }: { task: TaskDetail }) {
  const length = task.result.length ?? task.cols ?? 0;
  const solution = useQuery({
    queryKey: ['task', task.task_id, 'solution'],
    queryFn: () => fetchSolution(task.task_id),
    enabled: task.result.available && length <= MAX_PREVIEW_FETCH,
    staleTime: Infinity,
  });
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const formats = RESULT_FORMATS.filter((format) => (task.result.formats ?? RESULT_FORMATS).includes(format));

  async function download(format: ResultFormat) {
    setDownloadError(null);
    try {
      saveBlob(await fetchResult(task.task_id, format), `x-${task.task_id}.${format}`);
    } catch (error) {
      setDownloadError(`Download as ${format} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  return (
    <section aria-labelledby="result-heading">
      <h2 id="result-heading">Result</h2>
      <dl className="figures">
        <div>
          <dt>Relative residual</dt>
          <dd>{formatScientific(task.relative_residual)}</dd>
        </div>
        <div>
          <dt>Residual norm</dt>
          <dd>{formatScientific(task.residual_norm)}</dd>
        </div>
        <div>
          <dt>Condition estimate</dt>
          <dd>{formatScientific(task.condition_estimate)}</dd>
        </div>
        {task.rank != null ? (
          <div>
            <dt>Rank</dt>
            <dd>{task.rank}</dd>
          </div>
        ) : null}
      </dl>
      {isIllConditioned(task.condition_estimate) ? (
        <p className="warning" role="note">
          A is ill-conditioned (condition estimate {formatScientific(task.condition_estimate)}): small changes in A or b
          can change x a lot, so trust only the leading digits of x.
        </p>
      ) : null}
      {task.warnings?.map((warning) => (
        <p className="warning" role="note" key={warning}>
          {warning}
        </p>
      ))}

      <h3>Solution x</h3>
      {solution.isSuccess ? (
        <ol className="solution-preview" aria-label="First entries of x">
          {solution.data.slice(0, PREVIEW_LENGTH).map((value, index) => (
            <li key={index}>
              <span className="index">x{index + 1}</span> {value.toPrecision(10)}
            </li>
          ))}
          {solution.data.length > PREVIEW_LENGTH ? <li className="hint">… {solution.data.length - PREVIEW_LENGTH} more</li> : null}
        </ol>
      ) : solution.isError ? (
        <p className="form-error">Could not load x: {solution.error.message}</p>
      ) : length > MAX_PREVIEW_FETCH ? (
        <p className="hint">x has {length.toLocaleString()} entries; download it below.</p>
      ) : (
        <p className="hint">Loading x…</p>
      )}
      <div className="downloads" role="group" aria-label="Download x">
        {formats.map((format) => (
          <button type="button" className="secondary" key={format} onClick={() => void download(format)}>
            Download {format.toUpperCase()}
          </button>
        ))}
      </div>
      {downloadError ? <p className="form-error">{downloadError}</p> : null}
    </section>
  );
}
