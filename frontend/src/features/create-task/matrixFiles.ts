// Checks of an uploaded matrix file before it is sent: format from the name
// and the first bytes, shape, and a sparsity pattern for the details page.
// The API parses the file again and has the last word.
import { PatternBuilder, type SparsityPattern } from '../../lib/sparsity';

/** Both files of one upload together; mirrors MAX_UPLOAD_MB (64) of the command API and nginx. */
export const MAX_UPLOAD_BYTES = 64 * 1024 * 1024;
export const ACCEPTED_EXTENSIONS = ['.mtx', '.csv', '.npy'] as const;

export type MatrixFormat = 'mtx' | 'csv' | 'npy';

export interface MatrixFileInfo {
  name: string;
  format: MatrixFormat;
  rows: number;
  cols: number;
  /** Stored entries of a coordinate file, or the non-zero entries counted in a dense one when known. */
  nnz: number | null;
  field: string | null;
  pattern: SparsityPattern | null;
}

export class MatrixFileError extends Error {}

export function formatOf(fileName: string): MatrixFormat {
  const lower = fileName.toLowerCase();
  const extension = ACCEPTED_EXTENSIONS.find((candidate) => lower.endsWith(candidate));
  if (!extension) {
    throw new MatrixFileError(
      `${fileName}: unsupported file type; use Matrix Market (.mtx), CSV (.csv) or NumPy (.npy).`,
    );
  }
  return extension.slice(1) as MatrixFormat;
}

/** Reads and checks one file; raises MatrixFileError with a message for the user. */
export async function inspectMatrixFile(file: File): Promise<MatrixFileInfo> {
  const format = formatOf(file.name);
  if (file.size === 0) throw new MatrixFileError(`${file.name} is empty.`);
  if (file.size > MAX_UPLOAD_BYTES) {
    throw new MatrixFileError(
      `${file.name} is ${(file.size / 2 ** 20).toFixed(1)} MiB, more than the upload limit of ${MAX_UPLOAD_BYTES / 2 ** 20} MiB; use a generated problem or a sparse .mtx file.`,
    );
  }
  if (format === 'npy') return inspectNpy(file.name, new Uint8Array(await file.arrayBuffer()));
  const text = await file.text();
  return format === 'mtx' ? inspectMatrixMarket(file.name, text) : inspectCsv(file.name, text);
}

/** Checks that A and b form a system: b is a vector with one entry per row of A. */
export function checkSystem(a: MatrixFileInfo, b: MatrixFileInfo): string | null {
  if (b.cols !== 1 && b.rows !== 1) {
    return `b must be a vector, but ${b.name} is ${b.rows} x ${b.cols}.`;
  }
  const length = b.cols === 1 ? b.rows : b.cols;
  if (length !== a.rows) {
    return `b has ${length} entries but A has ${a.rows} rows; they must match.`;
  }
  return null;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function inspectMatrixMarket(name: string, text: string): MatrixFileInfo {
  const lines = text.split(/\r?\n/);
  const banner = lines[0]?.trim().split(/\s+/) ?? [];
  if (banner[0]?.toLowerCase() !== '%%matrixmarket' || banner[1]?.toLowerCase() !== 'matrix') {
    throw new MatrixFileError(`${name}: not a Matrix Market file; the first line must start with "%%MatrixMarket matrix".`);
  }
  const layout = banner[2]?.toLowerCase();
  const field = banner[3]?.toLowerCase() ?? 'real';
  const symmetry = banner[4]?.toLowerCase() ?? 'general';
  if (layout !== 'coordinate' && layout !== 'array') {
    throw new MatrixFileError(`${name}: unknown Matrix Market layout "${banner[2]}"; expected coordinate or array.`);
  }

  let index = 1;
  while (index < lines.length && (lines[index]!.trim() === '' || lines[index]!.trimStart().startsWith('%'))) index += 1;
  const sizes = (lines[index] ?? '').trim().split(/\s+/).map(Number);
  const [rows, cols, declared] = sizes;
  const needed = layout === 'coordinate' ? 3 : 2;
  if (sizes.length < needed || sizes.slice(0, needed).some((value) => !Number.isInteger(value) || value < 0)) {
    throw new MatrixFileError(`${name}: invalid size line "${lines[index] ?? ''}"; expected ${layout === 'coordinate' ? 'rows cols entries' : 'rows cols'}.`);
  }
  if (rows! < 1 || cols! < 1) throw new MatrixFileError(`${name}: the matrix has no rows or no columns.`);
  if (layout === 'array') {
    return { name, format: 'mtx', rows: rows!, cols: cols!, nnz: null, field, pattern: null };
  }

  const builder = new PatternBuilder(rows!, cols!);
  const mirrored = symmetry !== 'general';
  let entries = 0;
  for (index += 1; index < lines.length; index += 1) {
    const line = lines[index]!.trim();
    if (line === '' || line.startsWith('%')) continue;
    const parts = line.split(/\s+/);
    const row = Number(parts[0]) - 1;
    const col = Number(parts[1]) - 1;
    if (!Number.isInteger(row) || !Number.isInteger(col) || row < 0 || col < 0 || row >= rows! || col >= cols!) {
      throw new MatrixFileError(`${name}, line ${index + 1}: entry "${line}" is outside the ${rows} x ${cols} matrix.`);
    }
    entries += 1;
    builder.add(row, col);
    if (mirrored && row !== col) builder.add(col, row);
  }
  if (entries !== declared) {
    throw new MatrixFileError(`${name}: the size line declares ${declared} entries but the file has ${entries}.`);
  }
  const pattern = builder.build();
  return { name, format: 'mtx', rows: rows!, cols: cols!, nnz: pattern.nnz, field, pattern };
}

export function inspectCsv(name: string, text: string): MatrixFileInfo {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  if (lines.length === 0) throw new MatrixFileError(`${name}: no rows.`);
  const values = lines.map((line, row) => {
    const cells = line.split(',').map((cell) => cell.trim());
    cells.forEach((cell, col) => {
      if (!NUMBER.test(cell)) {
        throw new MatrixFileError(`${name}, row ${row + 1}, column ${col + 1}: "${cell}" is not a number.`);
      }
    });
    return cells.map(Number);
  });
  const cols = values[0]!.length;
  const ragged = values.findIndex((row) => row.length !== cols);
  if (ragged >= 0) {
    throw new MatrixFileError(`${name}: row ${ragged + 1} has ${values[ragged]!.length} values, row 1 has ${cols}.`);
  }
  const builder = new PatternBuilder(values.length, cols);
  values.forEach((row, i) =>
    row.forEach((value, j) => {
      if (value !== 0) builder.add(i, j);
    }),
  );
  const pattern = builder.build();
  return { name, format: 'csv', rows: values.length, cols, nnz: pattern.nnz, field: 'real', pattern };
}

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

export function inspectNpy(name: string, bytes: Uint8Array): MatrixFileInfo {
  if (bytes.length < 10 || NPY_MAGIC.some((value, i) => bytes[i] !== value)) {
    throw new MatrixFileError(`${name}: not a NumPy .npy file (the magic bytes \\x93NUMPY are missing).`);
  }
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(bytes.subarray(headerStart, headerStart + headerLength));

  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw new MatrixFileError(`${name}: the .npy header has no dtype or shape.`);
  const shape = shapeText
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map(Number);
  if (shape.length < 1 || shape.length > 2) {
    throw new MatrixFileError(`${name}: the array has ${shape.length} dimensions; A needs 2 and b needs 1 or 2.`);
  }

  const kind = descr.slice(1, 2);
  const itemSize = Number(descr.slice(2));
  if (!['f', 'i', 'u', 'c'].includes(kind) || !Number.isInteger(itemSize)) {
    throw new MatrixFileError(`${name}: dtype ${descr} is not numeric; save the array as float64.`);
  }

  const rows = shape[0]!;
  const cols = shape[1] ?? 1;
  const dataStart = headerStart + headerLength;
  if (bytes.length - dataStart !== rows * cols * itemSize) {
    throw new MatrixFileError(
      `${name}: the header declares ${rows} x ${cols} values of ${itemSize} bytes but the file contains ${bytes.length - dataStart} data bytes.`,
    );
  }
  const pattern = descr === '<f8' ? npyPattern(view, dataStart, rows, cols, fortran) : null;
  return { name, format: 'npy', rows, cols, nnz: pattern?.nnz ?? null, field: descr, pattern };
}

function npyPattern(view: DataView, start: number, rows: number, cols: number, fortran: boolean): SparsityPattern {
  const builder = new PatternBuilder(rows, cols);
  for (let k = 0; k < rows * cols; k += 1) {
    if (view.getFloat64(start + k * 8, true) === 0) continue;
    if (fortran) builder.add(k % rows, Math.floor(k / rows));
    else builder.add(Math.floor(k / cols), k % cols);
  }
  return builder.build();
}
