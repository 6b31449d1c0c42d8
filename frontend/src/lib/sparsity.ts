// Down-sampled sparsity pattern of a matrix: A is cut into at most
// PATTERN_BINS x PATTERN_BINS blocks and each block counts its stored entries.
import type { GeneratorSpec } from '../api/types';

export const PATTERN_BINS = 96;

export interface SparsityPattern {
  rows: number;
  cols: number;
  binRows: number;
  binCols: number;
  /** Stored entries per block, row-major, binRows x binCols. */
  counts: number[];
  nnz: number;
}

export class PatternBuilder {
  private readonly pattern: SparsityPattern;

  constructor(rows: number, cols: number) {
    const binRows = Math.max(1, Math.min(PATTERN_BINS, rows));
    const binCols = Math.max(1, Math.min(PATTERN_BINS, cols));
    this.pattern = { rows, cols, binRows, binCols, counts: new Array<number>(binRows * binCols).fill(0), nnz: 0 };
  }

  /** Records a stored entry at zero-based (row, col). */
  add(row: number, col: number): void {
    const { rows, cols, binRows, binCols, counts } = this.pattern;
    const binRow = Math.min(binRows - 1, Math.floor((row * binRows) / rows));
    const binCol = Math.min(binCols - 1, Math.floor((col * binCols) / cols));
    counts[binRow * binCols + binCol]! += 1;
    this.pattern.nnz += 1;
  }

  build(): SparsityPattern {
    return this.pattern;
  }
}

/** Returns the pattern of a dense grid of values, counting non-zero entries. */
export function patternOfDense(values: number[][]): SparsityPattern {
  const rows = values.length;
  const cols = values[0]?.length ?? 0;
  const builder = new PatternBuilder(rows, cols);
  values.forEach((row, i) =>
    row.forEach((value, j) => {
      if (value !== 0) builder.add(i, j);
    }),
  );
  return builder.build();
}

/**
 * Returns the pattern a generator produces: every entry for the dense kinds,
 * the 5-point stencil (diagonal, +-1 inside a grid row, +-m) for poisson2d.
 */
export function patternOfGenerator(spec: GeneratorSpec): SparsityPattern {
  if (spec.kind !== 'poisson2d') {
    const n = spec.n;
    const builder = new PatternBuilder(n, n);
    const pattern = builder.build();
    const perBinRow = n / pattern.binRows;
    const perBinCol = n / pattern.binCols;
    pattern.counts = pattern.counts.map(() => perBinRow * perBinCol);
    pattern.nnz = n * n;
    return pattern;
  }
  const m = spec.n;
  const order = m * m;
  const builder = new PatternBuilder(order, order);
  for (let row = 0; row < order; row += 1) {
    const gridColumn = row % m;
    builder.add(row, row);
    if (gridColumn > 0) builder.add(row, row - 1);
    if (gridColumn < m - 1) builder.add(row, row + 1);
    if (row >= m) builder.add(row, row - m);
    if (row + m < order) builder.add(row, row + m);
  }
  return builder.build();
}

// Patterns of tasks submitted from this browser tab, for the details page
// (the API does not serve A back). sessionStorage keeps them across reloads.
const STORAGE_PREFIX = 'sct.pattern.';

export function rememberPattern(taskId: string, pattern: SparsityPattern): void {
  try {
    sessionStorage.setItem(STORAGE_PREFIX + taskId, JSON.stringify(pattern));
  } catch {
    // A full sessionStorage only costs the picture, not the task.
  }
}

export function recallPattern(taskId: string): SparsityPattern | null {
  try {
    const stored = sessionStorage.getItem(STORAGE_PREFIX + taskId);
    return stored ? (JSON.parse(stored) as SparsityPattern) : null;
  } catch {
    return null;
  }
}
