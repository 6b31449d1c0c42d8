import { describe, expect, it } from 'vitest';
import { applyPaste, emptyGrid } from './MatrixGridEditor';
import { parsePastedCells } from './gridPaste';
import { toTaskCreate, validateTaskForm, type TaskFormState } from './taskForm';

function formState(changes: Partial<TaskFormState>): TaskFormState {
  return {
    source: 'grid',
    n: '2',
    grid: { a: [['2', '1'], ['1', '3']], b: ['1', '2'] },
    fileA: null,
    fileB: null,
    fileErrors: {},
    generatorKind: 'random_dense',
    seed: '0',
    method: 'auto',
    tol: '',
    maxIter: '',
    preconditioner: '',
    ...changes,
  };
}

describe('parsePastedCells', () => {
  it('splits spreadsheet tabs and Windows newlines', () => {
    expect(parsePastedCells('1\t2\r\n3\t4\r\n')).toEqual([
      ['1', '2'],
      ['3', '4'],
    ]);
  });

  it('falls back to commas and then spaces', () => {
    expect(parsePastedCells('1, 2\n3,4')).toEqual([
      ['1', '2'],
      ['3', '4'],
    ]);
    expect(parsePastedCells('1  2\n3 4')).toEqual([
      ['1', '2'],
      ['3', '4'],
    ]);
  });
});

describe('applyPaste', () => {
  it('resizes to a whole system pasted at the corner', () => {
    const grid = applyPaste(emptyGrid(2), 0, 0, parsePastedCells('1\t2\t3\t10\n4\t5\t6\t11\n7\t8\t9\t12'));
    expect(grid.a).toEqual([
      ['1', '2', '3'],
      ['4', '5', '6'],
      ['7', '8', '9'],
    ]);
    expect(grid.b).toEqual(['10', '11', '12']);
  });

  it('fills from the pasted cell and drops what does not fit', () => {
    const grid = applyPaste(emptyGrid(2), 1, 1, [['5', '6', '7']]);
    expect(grid.a[1]).toEqual(['', '5']);
    expect(grid.b[1]).toBe('6');
  });
});

describe('validateTaskForm', () => {
  it('accepts a complete grid', () => {
    expect(validateTaskForm(formState({}))).toEqual({});
  });

  it('reports empty and non-numeric cells', () => {
    const errors = validateTaskForm(formState({ grid: { a: [['2', ''], ['x', '3']], b: ['1', '2'] } }));
    expect(errors.grid).toBe('2 cells of A or b are empty or not a number.');
  });

  it('rejects a grid size above the editor limit', () => {
    expect(validateTaskForm(formState({ n: '13' })).n).toMatch(/from 1 to 12/);
  });

  it('requires both files', () => {
    const errors = validateTaskForm(formState({ source: 'file' }));
    expect(errors.a).toBe('Choose a file for A.');
    expect(errors.b).toBe('Choose a file for b.');
  });

  it('bounds the poisson2d grid side', () => {
    const errors = validateTaskForm(formState({ source: 'generated', generatorKind: 'poisson2d', n: '5000' }));
    expect(errors.n).toMatch(/grid side from 1 to 2000/);
  });

  it('checks the seed and options', () => {
    const errors = validateTaskForm(formState({ source: 'generated', n: '100', seed: '-1', tol: '2', maxIter: '0' }));
    expect(errors.seed).toBeDefined();
    expect(errors.tol).toMatch(/between 0 and 1/);
    expect(errors.max_iter).toBeDefined();
  });
});

describe('toTaskCreate', () => {
  it('sends the grid as numbers', () => {
    expect(toTaskCreate(formState({ tol: '1e-8' }))).toEqual({
      method: 'auto',
      a: [
        [2, 1],
        [1, 3],
      ],
      b: [1, 2],
      options: { tol: 1e-8 },
    });
  });

  it('sends a generator spec', () => {
    expect(toTaskCreate(formState({ source: 'generated', n: '500', seed: '7', method: 'lu' }))).toEqual({
      method: 'lu',
      generator: { kind: 'random_dense', n: 500, seed: 7 },
    });
  });
});
