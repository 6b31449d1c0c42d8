import type { ClipboardEvent } from 'react';
import { parsePastedCells } from './gridPaste';

export const MAX_GRID_SIZE = 12;

export interface GridValues {
  /** n x n cells of A, as typed. */
  a: string[][];
  /** n cells of b, as typed. */
  b: string[];
}

export function emptyGrid(n: number): GridValues {
  return {
    a: Array.from({ length: n }, () => Array.from({ length: n }, () => '')),
    b: Array.from({ length: n }, () => ''),
  };
}

/** Returns the grid resized to n, keeping the values that still fit. */
export function resizeGrid(grid: GridValues, n: number): GridValues {
  const resized = emptyGrid(n);
  for (let i = 0; i < n; i += 1) {
    for (let j = 0; j < n; j += 1) resized.a[i]![j] = grid.a[i]?.[j] ?? '';
    resized.b[i] = grid.b[i] ?? '';
  }
  return resized;
}

/**
 * Writes a pasted block into the grid from cell (row, col), where column n is b.
 * A block of k rows and k or k + 1 columns pasted at the top-left corner sets n = k,
 * so a whole system copied from a spreadsheet fills the editor in one paste.
 */
export function applyPaste(grid: GridValues, row: number, col: number, cells: string[][]): GridValues {
  let n = grid.a.length;
  const k = cells.length;
  const width = cells[0]?.length ?? 0;
  const wholeSystem = row === 0 && col === 0 && k >= 1 && k <= MAX_GRID_SIZE && (width === k || width === k + 1);
  if (wholeSystem) n = k;
  const next = resizeGrid(grid, n);
  cells.forEach((cellRow, i) =>
    cellRow.forEach((cell, j) => {
      const targetRow = row + i;
      const targetCol = col + j;
      if (targetRow >= n) return;
      if (targetCol < n) next.a[targetRow]![targetCol] = cell;
      else if (targetCol === n) next.b[targetRow] = cell;
    }),
  );
  return next;
}

interface MatrixGridEditorProps {
  value: GridValues;
  onChange: (value: GridValues) => void;
  invalidCells: Set<string>;
}

/** Inputs for A and b at small n; accepts a paste of a block from a spreadsheet. */
export function MatrixGridEditor({ value, onChange, invalidCells }: MatrixGridEditorProps) {
  const n = value.a.length;

  function handlePaste(event: ClipboardEvent<HTMLInputElement>, row: number, col: number) {
    const text = event.clipboardData.getData('text/plain');
    const cells = parsePastedCells(text);
    if (cells.length <= 1 && (cells[0]?.length ?? 0) <= 1) return;
    event.preventDefault();
    onChange(applyPaste(value, row, col, cells));
  }

  function setCell(row: number, col: number, text: string) {
    const next = resizeGrid(value, n);
    if (col < n) next.a[row]![col] = text;
    else next.b[row] = text;
    onChange(next);
  }

  return (
    <div className="grid-editor-scroll">
      <table className="grid-editor">
        <caption>
          Matrix A and right-hand side b. Paste a block copied from a spreadsheet into any cell.
        </caption>
        <thead>
          <tr>
            <td />
            {value.a.map((_, j) => (
              <th scope="col" key={j}>
                A·{j + 1}
              </th>
            ))}
            <th scope="col" className="rhs">
              b
            </th>
          </tr>
        </thead>
        <tbody>
          {value.a.map((row, i) => (
            <tr key={i}>
              <th scope="row">{i + 1}</th>
              {[...row, value.b[i] ?? ''].map((cell, j) => {
                const label = j < n ? `A row ${i + 1} column ${j + 1}` : `b row ${i + 1}`;
                const key = `${i},${j}`;
                return (
                  <td key={j} className={j === n ? 'rhs' : undefined}>
                    <input
                      aria-label={label}
                      inputMode="decimal"
                      value={cell}
                      aria-invalid={invalidCells.has(key) ? true : undefined}
                      onChange={(event) => setCell(i, j, event.target.value)}
                      onPaste={(event) => handlePaste(event, i, j)}
                    />
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
