import { useId, useRef, useState, type ChangeEvent, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ApiError } from '../../api/errors';
import { submitTask, uploadTask } from '../../api/tasks';
import { GENERATOR_KINDS, METHODS, type GeneratorKind, type Method, type TaskAccepted } from '../../api/types';
import { FormField } from '../../components/FormField';
import { rememberPattern } from '../../lib/sparsity';
import { MatrixGridEditor, MAX_GRID_SIZE, emptyGrid, resizeGrid } from './MatrixGridEditor';
import { ACCEPTED_EXTENSIONS, MatrixFileError, inspectMatrixFile } from './matrixFiles';
import {
  invalidGridCells,
  patternOfForm,
  toTaskCreate,
  validateTaskForm,
  type InputSource,
  type TaskFormErrors,
  type TaskFormState,
} from './taskForm';

const GENERATOR_LABELS: Record<GeneratorKind, string> = {
  random_dense: 'Random dense',
  random_spd: 'Random symmetric positive definite',
  diagonally_dominant: 'Diagonally dominant',
  poisson2d: '2-D Poisson (5-point stencil)',
  hilbert: 'Hilbert (ill-conditioned)',
};

const SOURCE_LABELS: Record<InputSource, string> = {
  grid: 'Type or paste A and b',
  file: 'Upload files',
  generated: 'Generate a problem',
};

function initialState(): TaskFormState {
  return {
    source: 'grid',
    n: '3',
    grid: emptyGrid(3),
    fileA: null,
    fileB: null,
    fileErrors: {},
    generatorKind: 'random_dense',
    seed: '0',
    method: 'auto',
    tol: '',
    maxIter: '',
    preconditioner: '',
  };
}

/** Places the API's messages beside the inputs they concern; A and b are the grid or the generator when no files were sent. */
function apiErrors(error: unknown, source: InputSource): TaskFormErrors {
  if (!(error instanceof ApiError)) return { form: error instanceof Error ? error.message : String(error) };
  const { a, b, n, generator, seed, tol, max_iter: maxIter, form, ...rest } = error.fieldErrors;
  const errors: TaskFormErrors = { seed, tol, max_iter: maxIter };
  if (source === 'file') {
    Object.assign(errors, { a, b, n: n ?? generator });
  } else if (source === 'grid') {
    Object.assign(errors, { grid: [a, b].filter(Boolean).join(' ') || undefined, n });
  } else {
    Object.assign(errors, { n: n ?? generator ?? a ?? b });
  }
  errors.form = [form, ...Object.values(rest)].filter(Boolean).join(' ') || undefined;
  return errors;
}

export function CreateTaskPage() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [state, setState] = useState<TaskFormState>(initialState);
  const [errors, setErrors] = useState<TaskFormErrors>({});
  const [showCellErrors, setShowCellErrors] = useState(false);
  // One key per distinct submission. A retry after a lost response sends the
  // same key, so the API creates the task once. Any edit starts a new key.
  const idempotencyKey = useRef<string | null>(null);
  const methodId = useId();
  const kindId = useId();
  const preconditionerId = useId();

  function update(changes: Partial<TaskFormState>) {
    idempotencyKey.current = null;
    setState((current) => ({ ...current, ...changes }));
  }

  const submission = useMutation<TaskAccepted, unknown, TaskFormState>({
    mutationFn: (form) => {
      idempotencyKey.current ??= crypto.randomUUID();
      if (form.source === 'file') {
        return uploadTask(
          {
            a: form.fileA!.file,
            b: form.fileB!.file,
            method: form.method,
            tol: form.tol.trim() ? Number(form.tol) : undefined,
            maxIter: form.maxIter.trim() ? Number(form.maxIter) : undefined,
            preconditioner: form.preconditioner || undefined,
          },
          idempotencyKey.current,
        );
      }
      return submitTask(toTaskCreate(form), idempotencyKey.current);
    },
    onSuccess: (accepted, form) => {
      const pattern = patternOfForm(form);
      if (pattern) rememberPattern(accepted.task_id, pattern);
      void queryClient.invalidateQueries({ queryKey: ['tasks'] });
      navigate(`/tasks/${accepted.task_id}`, { state: { consistencyToken: accepted.consistency_token } });
    },
    onError: (error, form) => setErrors(apiErrors(error, form.source)),
  });

  function handleSubmit(event: FormEvent) {
    event.preventDefault();
    const found = validateTaskForm(state);
    setErrors(found);
    setShowCellErrors(true);
    if (Object.values(found).some(Boolean)) {
      const firstInvalid = document.querySelector<HTMLElement>('form [aria-invalid="true"]');
      firstInvalid?.focus();
      return;
    }
    submission.mutate(state);
  }

  function handleSizeChange(event: ChangeEvent<HTMLInputElement>) {
    const text = event.target.value;
    const n = Number(text);
    const changes: Partial<TaskFormState> = { n: text };
    if (state.source === 'grid' && Number.isInteger(n) && n >= 1 && n <= MAX_GRID_SIZE) {
      changes.grid = resizeGrid(state.grid, n);
    }
    update(changes);
  }

  async function handleFile(matrix: 'a' | 'b', file: File | undefined) {
    const key = matrix === 'a' ? 'fileA' : 'fileB';
    if (!file) {
      update({ [key]: null, fileErrors: { ...state.fileErrors, [matrix]: undefined } });
      return;
    }
    try {
      const info = await inspectMatrixFile(file);
      setState((current) => ({ ...current, [key]: { file, info }, fileErrors: { ...current.fileErrors, [matrix]: undefined } }));
      setErrors((current) => ({ ...current, [matrix]: undefined }));
    } catch (error) {
      const message = error instanceof MatrixFileError ? error.message : `Could not read ${file.name}.`;
      setState((current) => ({ ...current, [key]: null, fileErrors: { ...current.fileErrors, [matrix]: message } }));
      setErrors((current) => ({ ...current, [matrix]: message }));
    }
    idempotencyKey.current = null;
  }

  const invalidCells = showCellErrors ? invalidGridCells(state.grid) : new Set<string>();
  const sizeLabel = state.source === 'generated' && state.generatorKind === 'poisson2d' ? 'Grid side m' : 'Size n';

  return (
    <section className="create-task">
      <h1>New task</h1>
      <form onSubmit={handleSubmit} noValidate aria-label="New task">
        <fieldset className="source-choice">
          <legend>Input</legend>
          {(Object.keys(SOURCE_LABELS) as InputSource[]).map((source) => (
            <label key={source} className="choice">
              <input
                type="radio"
                name="source"
                value={source}
                checked={state.source === source}
                onChange={() => {
                  setErrors({});
                  setShowCellErrors(false);
                  update({ source });
                }}
              />
              {SOURCE_LABELS[source]}
            </label>
          ))}
        </fieldset>

        {state.source === 'generated' ? (
          <div className="field">
            <label htmlFor={kindId}>Problem kind</label>
            <select
              id={kindId}
              value={state.generatorKind}
              onChange={(event) => update({ generatorKind: event.target.value as GeneratorKind })}
            >
              {GENERATOR_KINDS.map((kind) => (
                <option key={kind} value={kind}>
                  {GENERATOR_LABELS[kind]}
                </option>
              ))}
            </select>
          </div>
        ) : null}

        {state.source !== 'file' ? (
          <FormField
            label={sizeLabel}
            type="number"
            name="n"
            min={1}
            inputMode="numeric"
            value={state.n}
            onChange={handleSizeChange}
            error={errors.n}
            hint={
              state.source === 'grid'
                ? `Up to ${MAX_GRID_SIZE} in the grid editor; upload a file for larger systems.`
                : state.generatorKind === 'poisson2d'
                  ? 'The system has m² unknowns.'
                  : 'Number of unknowns.'
            }
          />
        ) : null}

        {state.source === 'generated' ? (
          <FormField
            label="Seed"
            type="number"
            name="seed"
            min={0}
            inputMode="numeric"
            value={state.seed}
            onChange={(event) => update({ seed: event.target.value })}
            error={errors.seed}
            hint="The same kind, size and seed give the same system."
          />
        ) : null}

        {state.source === 'grid' ? (
          <div className="field">
            <MatrixGridEditor value={state.grid} invalidCells={invalidCells} onChange={(grid) => update({ grid, n: String(grid.a.length) })} />
            {errors.grid ? <p className="field-error">{errors.grid}</p> : null}
          </div>
        ) : null}

        {state.source === 'file' ? (
          <div className="file-inputs">
            <FileField label="Matrix A" matrix="a" error={errors.a} info={state.fileA?.info} onFile={handleFile} />
            <FileField label="Right-hand side b" matrix="b" error={errors.b} info={state.fileB?.info} onFile={handleFile} />
          </div>
        ) : null}

        <div className="field">
          <label htmlFor={methodId}>Method</label>
          <select id={methodId} value={state.method} onChange={(event) => update({ method: event.target.value as Method })}>
            {METHODS.map((method) => (
              <option key={method} value={method}>
                {method === 'auto' ? 'auto (chosen from the matrix)' : method}
              </option>
            ))}
          </select>
        </div>

        <details className="advanced">
          <summary>Options for iterative methods</summary>
          <FormField
            label="Tolerance"
            name="tol"
            inputMode="decimal"
            placeholder="1e-10"
            value={state.tol}
            onChange={(event) => update({ tol: event.target.value })}
            error={errors.tol}
          />
          <FormField
            label="Maximum iterations"
            name="max_iter"
            type="number"
            min={1}
            value={state.maxIter}
            onChange={(event) => update({ maxIter: event.target.value })}
            error={errors.max_iter}
          />
          <div className="field">
            <label htmlFor={preconditionerId}>Preconditioner</label>
            <select
              id={preconditionerId}
              value={state.preconditioner}
              onChange={(event) => update({ preconditioner: event.target.value as TaskFormState['preconditioner'] })}
            >
              <option value="">none</option>
              <option value="jacobi">Jacobi</option>
              <option value="ilu">incomplete LU</option>
            </select>
          </div>
        </details>

        {errors.form ? (
          <p role="alert" className="form-error">
            {errors.form}
          </p>
        ) : null}
        <button type="submit" disabled={submission.isPending}>
          {submission.isPending ? 'Submitting…' : 'Submit task'}
        </button>
      </form>
    </section>
  );
}

interface FileFieldProps {
  label: string;
  matrix: 'a' | 'b';
  error: string | undefined;
  info: { rows: number; cols: number; nnz: number | null; format: string } | undefined;
  onFile: (matrix: 'a' | 'b', file: File | undefined) => void;
}

function FileField({ label, matrix, error, info, onFile }: FileFieldProps) {
  return (
    <FormField
      label={label}
      type="file"
      name={matrix}
      accept={ACCEPTED_EXTENSIONS.join(',')}
      onChange={(event) => onFile(matrix, event.target.files?.[0])}
      error={error}
      hint={
        info
          ? `${info.format.toUpperCase()}, ${info.rows} × ${info.cols}${info.nnz !== null ? `, ${info.nnz} stored entries` : ''}.`
          : 'Matrix Market (.mtx), CSV (.csv) or NumPy (.npy); both files together at most 64 MiB.'
      }
    />
  );
}
