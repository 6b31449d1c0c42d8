import { describe, expect, it } from 'vitest';
import {
  MAX_UPLOAD_BYTES,
  MatrixFileError,
  checkSystem,
  inspectCsv,
  inspectMatrixFile,
  inspectMatrixMarket,
  inspectNpy,
} from './matrixFiles';

const SYMMETRIC_MTX = `%%MatrixMarket matrix coordinate real symmetric
% a comment
3 3 4
1 1 4.0
2 1 -1
% a comment among the entries

3 3 2.5
3 2 .5
`;

function npyBytes(descr: string, shape: number[], values: number[], fortran = false): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  while ((10 + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const data = new Float64Array(values);
  const bytes = new Uint8Array(10 + header.length + data.byteLength);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(bytes.buffer).setUint16(8, header.length, true);
  bytes.set(new TextEncoder().encode(header), 10);
  bytes.set(new Uint8Array(data.buffer), 10 + header.length);
  return bytes;
}

describe('inspectMatrixMarket', () => {
  it('reads shape and mirrors symmetric entries', () => {
    const info = inspectMatrixMarket('a.mtx', SYMMETRIC_MTX);
    expect(info.rows).toBe(3);
    expect(info.cols).toBe(3);
    expect(info.field).toBe('real');
    // 4 stored entries, 2 of them off the diagonal and mirrored.
    expect(info.nnz).toBe(6);
  });

  it('rejects a missing banner', () => {
    expect(() => inspectMatrixMarket('a.mtx', '3 3 1\n1 1 1\n')).toThrow(/not a Matrix Market file/);
  });

  it('rejects an entry count that differs from the size line', () => {
    const text = '%%MatrixMarket matrix coordinate real general\n2 2 3\n1 1 1\n2 2 1\n';
    expect(() => inspectMatrixMarket('a.mtx', text)).toThrow(/declares 3 entries but the file has 2/);
  });

  it('rejects an entry outside the matrix', () => {
    const text = '%%MatrixMarket matrix coordinate real general\n2 2 1\n3 1 1\n';
    expect(() => inspectMatrixMarket('a.mtx', text)).toThrow(/outside the 2 x 2 matrix/);
  });

  it('reads the shape of the array layout', () => {
    const info = inspectMatrixMarket('b.mtx', '%%MatrixMarket matrix array real general\n3 1\n1\n1\n1\n');
    expect(info.rows).toBe(3);
    expect(info.cols).toBe(1);
    expect(info.pattern).toBeNull();
  });
});

describe('inspectCsv', () => {
  it('counts rows, columns and non-zero entries', () => {
    const info = inspectCsv('a.csv', '1,0,2\n0,3,0\r\n4,0,-5e-3\n\n');
    expect(info.rows).toBe(3);
    expect(info.cols).toBe(3);
    expect(info.nnz).toBe(5);
  });

  it('rejects a ragged row', () => {
    expect(() => inspectCsv('a.csv', '1,2\n3\n')).toThrow(/row 2 has 1 values, row 1 has 2/);
  });

  it('rejects a cell that is not a number', () => {
    expect(() => inspectCsv('a.csv', '1,x\n')).toThrow(/row 1, column 2: "x" is not a number/);
  });
});

describe('inspectNpy', () => {
  it('reads a C-order float64 matrix', () => {
    const info = inspectNpy('a.npy', npyBytes('<f8', [2, 3], [1, 0, 2, 0, 0, 3]));
    expect(info.rows).toBe(2);
    expect(info.cols).toBe(3);
    expect(info.nnz).toBe(3);
    expect(info.pattern?.counts).toEqual([1, 0, 1, 0, 0, 1]);
  });

  it('places Fortran-order values by column', () => {
    const info = inspectNpy('a.npy', npyBytes('<f8', [2, 2], [1, 2, 0, 0], true));
    expect(info.pattern?.counts).toEqual([1, 0, 1, 0]);
  });

  it('reads a vector as n x 1', () => {
    const info = inspectNpy('b.npy', npyBytes('<f8', [4], [1, 1, 1, 1]));
    expect(info.rows).toBe(4);
    expect(info.cols).toBe(1);
  });

  it('rejects a data size that differs from the header', () => {
    const bytes = npyBytes('<f8', [2, 2], [1, 2, 3, 4]);
    expect(() => inspectNpy('a.npy', bytes.subarray(0, bytes.length - 8))).toThrow(/header declares 2 x 2/);
  });

  it('rejects missing magic bytes', () => {
    expect(() => inspectNpy('a.npy', new Uint8Array(20))).toThrow(/not a NumPy .npy file/);
  });
});

describe('inspectMatrixFile', () => {
  it('rejects an unsupported extension', async () => {
    await expect(inspectMatrixFile(new File(['1'], 'a.xlsx'))).rejects.toThrow(MatrixFileError);
  });

  it('rejects a file above the upload limit', async () => {
    const big = new File([new Uint8Array(8)], 'a.csv');
    Object.defineProperty(big, 'size', { value: MAX_UPLOAD_BYTES + 1 });
    await expect(inspectMatrixFile(big)).rejects.toThrow(/more than the upload limit of 64 MiB/);
  });

  it('rejects an empty file', async () => {
    await expect(inspectMatrixFile(new File([], 'a.mtx'))).rejects.toThrow(/is empty/);
  });
});

describe('checkSystem', () => {
  const a = inspectMatrixMarket('a.mtx', SYMMETRIC_MTX);

  it('accepts b with one entry per row of A', () => {
    expect(checkSystem(a, inspectCsv('b.csv', '1\n2\n3\n'))).toBeNull();
  });

  it('rejects b of the wrong length', () => {
    expect(checkSystem(a, inspectCsv('b.csv', '1\n2\n'))).toMatch(/b has 2 entries but A has 3 rows/);
  });

  it('rejects b that is a matrix', () => {
    expect(checkSystem(a, inspectCsv('b.csv', '1,2\n3,4\n'))).toMatch(/b must be a vector/);
  });
});
