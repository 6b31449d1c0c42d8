// The create-task form's state, its checks before submit and the request it becomes.
import type { GeneratorKind, Method, TaskCreate } from '../../api/types';
import { patternOfDense, patternOfGenerator, type SparsityPattern } from '../../lib/sparsity';
import { parseCell } from './gridPaste';
import { MAX_GRID_SIZE, type GridValues } from './MatrixGridEditor';
import { checkSystem, type MatrixFileInfo } from './matrixFiles';

export type InputSource = 'grid' | 'file' | 'generated';

export interface TaskFormState {
  source: InputSource;
  n: string;
  grid: GridValues;
  fileA: { file: File; info: MatrixFileInfo } | null;
  fileB: { file: File; info: MatrixFileInfo } | null;
  fileErrors: { a?: string; b?: string };
  generatorKind: GeneratorKind;
  seed: string;
  method: Method;
  tol: string;
  maxIter: string;
  preconditioner: '' | 'jacobi' | 'ilu';
}

export type TaskFormErrors = Partial<Record<'n' | 'grid' | 'a' | 'b' | 'seed' | 'tol' | 'max_iter' | 'form', string>>;

// The solver's default limits admit a dense matrix of at most 20000 x 20000
// float64 and a sparse one of at most 20 million stored entries. poisson2d
// stores about 5 entries per row, so its grid side m stays at or below 2000.
export const MAX_DENSE_N = 20_000;
export const MAX_POISSON_SIDE = 2_000;

function parseInteger(text: string): number | null {
  return /^\d+$/.test(text.trim()) ? Number(text.trim()) : null;
}

/** Returns the invalid grid cells as "row,col" keys (col n is b). */
export function invalidGridCells(grid: GridValues): Set<string> {
  const invalid = new Set<string>();
  const n = grid.a.length;
  grid.a.forEach((row, i) =>
    row.forEach((cell, j) => {
      if (parseCell(cell) === null) invalid.add(`${i},${j}`);
    }),
  );
  grid.b.forEach((cell, i) => {
    if (parseCell(cell) === null) invalid.add(`${i},${n}`);
  });
  return invalid;
}

export function validateTaskForm(state: TaskFormState): TaskFormErrors {
  const errors: TaskFormErrors = {};
  const n = parseInteger(state.n);

  if (state.source === 'grid') {
    if (n === null || n < 1 || n > MAX_GRID_SIZE) errors.n = `Enter a size from 1 to ${MAX_GRID_SIZE} for the grid editor; use a file for larger systems.`;
    const invalid = invalidGridCells(state.grid);
    if (invalid.size > 0) errors.grid = `${invalid.size} cell${invalid.size === 1 ? '' : 's'} of A or b ${invalid.size === 1 ? 'is' : 'are'} empty or not a number.`;
  } else if (state.source === 'file') {
    if (state.fileErrors.a) errors.a = state.fileErrors.a;
    else if (!state.fileA) errors.a = 'Choose a file for A.';
    if (state.fileErrors.b) errors.b = state.fileErrors.b;
    else if (!state.fileB) errors.b = 'Choose a file for b.';
    if (state.fileA && state.fileB && !errors.a && !errors.b) {
      const mismatch = checkSystem(state.fileA.info, state.fileB.info);
      if (mismatch) errors.b = mismatch;
    }
  } else {
    const maxN = state.generatorKind === 'poisson2d' ? MAX_POISSON_SIDE : MAX_DENSE_N;
    if (n === null || n < 1 || n > maxN) {
      errors.n = state.generatorKind === 'poisson2d'
        ? `Enter a grid side from 1 to ${maxN} (the system has side² unknowns).`
        : `Enter a size from 1 to ${maxN}.`;
    }
    if (parseInteger(state.seed) === null) errors.seed = 'Enter a whole number of 0 or more.';
  }

  if (state.tol.trim() !== '') {
    const tol = Number(state.tol);
    if (!(tol > 0 && tol < 1)) errors.tol = 'Enter a tolerance between 0 and 1, e.g. 1e-10.';
  }
  if (state.maxIter.trim() !== '') {
    const maxIter = parseInteger(state.maxIter);
    if (maxIter === null || maxIter < 1) errors.max_iter = 'Enter a whole number of 1 or more.';
  }
  return errors;
}

function options(state: TaskFormState): TaskCreate['options'] | undefined {
  const result: NonNullable<TaskCreate['options']> = {};
  if (state.tol.trim()) result.tol = Number(state.tol);
  if (state.maxIter.trim()) result.max_iter = Number(state.maxIter);
  if (state.preconditioner) result.preconditioner = state.preconditioner;
  return Object.keys(result).length > 0 ? result : undefined;
}

/** Builds the JSON request of a grid or generated task (file tasks use the upload route). */
export function toTaskCreate(state: TaskFormState): TaskCreate {
  const body: TaskCreate = { method: state.method };
  if (state.source === 'grid') {
    body.a = state.grid.a.map((row) => row.map((cell) => Number(cell.trim())));
    body.b = state.grid.b.map((cell) => Number(cell.trim()));
  } else {
    body.generator = { kind: state.generatorKind, n: Number(state.n), seed: Number(state.seed) };
  }
  const extra = options(state);
  if (extra) body.options = extra;
  return body;
}

/** Returns the sparsity pattern of the submitted A, when this browser can know it. */
export function patternOfForm(state: TaskFormState): SparsityPattern | null {
  if (state.source === 'grid') return patternOfDense(state.grid.a.map((row) => row.map((cell) => Number(cell))));
  if (state.source === 'file') return state.fileA?.info.pattern ?? null;
  return patternOfGenerator({ kind: state.generatorKind, n: Number(state.n), seed: Number(state.seed) });
}
