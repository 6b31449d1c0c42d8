"""Norms, finiteness checks and power-of-two equilibration, blockwise and in place.

Scaling factors are powers of two, so scaling changes no digit of any entry
and the solution of the scaled system maps back exactly. As in LAPACK's
dgeequ/dlaqge, scaling is applied only when the smallest row or column scale
is below 0.1 times the largest (LAPACK's THRESH).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse

from .errors import InputError, SingularMatrixError

SCALE_THRESHOLD = 0.1
_COLUMN_BLOCK = 128


@dataclass
class Scaling:
    row: np.ndarray
    col: np.ndarray
    applied: bool


def _power_of_two_reciprocal(values: np.ndarray) -> np.ndarray:
    """Return 2**-e with values = m * 2**e, 0.5 <= m < 1, so values * result lies in [0.5, 1)."""
    _, exponents = np.frexp(values)
    return np.ldexp(1.0, -exponents)


def check_finite_dense(a: np.ndarray, *, name: str) -> None:
    """Raise ``InputError`` naming the first non-finite entry of the 2-D or 1-D array ``a``."""
    if a.ndim == 1:
        blocks = [(0, a)]
    else:
        blocks = [(j, a[:, j : j + _COLUMN_BLOCK]) for j in range(0, a.shape[1], _COLUMN_BLOCK)]
    for start, block in blocks:
        finite = np.isfinite(block)
        if not finite.all():
            position = np.argwhere(~finite)[0]
            if a.ndim == 1:
                index, where = int(position[0]), f"{name}[{int(position[0])}]"
            else:
                index = (int(position[0]), int(position[1]) + start)
                where = f"{name}[{index[0]}, {index[1]}]"
            value = float(a[index])
            raise InputError(f"{where} is {value}, not a finite number; replace it with a finite number",
                             value=str(value), field=name)


def dense_norms(a: np.ndarray) -> tuple[float, float]:
    """Return the 1-norm and infinity-norm of ``a`` without a full-size temporary."""
    col_sums = np.empty(a.shape[1])
    row_sums = np.zeros(a.shape[0])
    for j in range(0, a.shape[1], _COLUMN_BLOCK):
        block = np.abs(a[:, j : j + _COLUMN_BLOCK])
        col_sums[j : j + _COLUMN_BLOCK] = block.sum(axis=0)
        row_sums += block.sum(axis=1)
    return float(col_sums.max()), float(row_sums.max())


@dataclass
class DenseScan:
    """Norms and row and column maxima of |w| from one pass over a dense matrix ``w``."""

    norm_1: float
    norm_inf: float
    row_max: np.ndarray
    col_max: np.ndarray


def scan_dense(w: np.ndarray, *, name: str, transposed: bool) -> DenseScan:
    """Check that ``w`` is finite and collect its norms and maxima in one blockwise pass.

    ``transposed`` marks ``w`` as the transpose of the user's matrix, so
    error messages swap the indices back.
    """
    rows, cols = w.shape
    col_sums = np.empty(cols)
    row_sums = np.zeros(rows)
    row_max = np.zeros(rows)
    col_max = np.empty(cols)
    for j in range(0, cols, _COLUMN_BLOCK):
        block = w[:, j : j + _COLUMN_BLOCK]
        finite = np.isfinite(block)
        if not finite.all():
            i, k = (int(index) for index in np.argwhere(~finite)[0])
            value = float(block[i, k])
            row, col = (j + k, i) if transposed else (i, j + k)
            raise InputError(f"{name}[{row}, {col}] is {value}, not a finite number; replace it with a finite number",
                             value=str(value), field=name)
        magnitude = np.abs(block)
        col_sums[j : j + _COLUMN_BLOCK] = magnitude.sum(axis=0)
        row_sums += magnitude.sum(axis=1)
        np.maximum(row_max, magnitude.max(axis=1), out=row_max)
        col_max[j : j + _COLUMN_BLOCK] = magnitude.max(axis=0)
    return DenseScan(float(col_sums.max()), float(row_sums.max()), row_max, col_max)


def _reject_zero_lines(row_max: np.ndarray, col_max: np.ndarray, *, transposed: bool = False) -> None:
    # Check the user's rows first; they are the columns of a transposed work matrix.
    lines = (("row", col_max), ("column", row_max)) if transposed else (("row", row_max), ("column", col_max))
    for what, maxima in lines:
        zero = np.flatnonzero(maxima == 0)
        if zero.size:
            raise SingularMatrixError(
                f"matrix is singular: {what} {int(zero[0]) + 1} is all zeros; "
                f"fix that {what} or use method='lstsq' for a least-squares solution",
                pivot=int(zero[0]) + 1,
            )


def _worth_scaling(maxima: np.ndarray) -> bool:
    return bool(maxima.min() < SCALE_THRESHOLD * maxima.max())


def equilibrate_dense(w: np.ndarray, scan: DenseScan, *, transposed: bool) -> tuple[Scaling, float, float]:
    """Scale the square Fortran-ordered ``w`` in place to ``diag(r) w diag(c)``.

    Returns the scaling and the 1-norm and infinity-norm of the scaled matrix.
    Matrices whose row and column maxima are within SCALE_THRESHOLD of each
    other are left alone without a second pass.
    """
    n = w.shape[0]
    _reject_zero_lines(scan.row_max, scan.col_max, transposed=transposed)
    if not (_worth_scaling(scan.row_max) or _worth_scaling(scan.col_max)):
        return Scaling(np.ones(n), np.ones(n), applied=False), scan.norm_1, scan.norm_inf
    # As in LAPACK's dgeequ, the rows of the user's A are scaled first and the
    # columns from the row-scaled matrix; the order changes the result.
    if transposed:
        col = _power_of_two_reciprocal(scan.col_max)
        row_max = np.zeros(n)
        for j in range(0, n, _COLUMN_BLOCK):
            block = np.abs(w[:, j : j + _COLUMN_BLOCK])
            block *= col[j : j + _COLUMN_BLOCK]
            np.maximum(row_max, block.max(axis=1), out=row_max)
        row = _power_of_two_reciprocal(row_max)
    else:
        row = _power_of_two_reciprocal(scan.row_max)
        col_max = np.empty(n)
        for j in range(0, n, _COLUMN_BLOCK):
            block = np.abs(w[:, j : j + _COLUMN_BLOCK])
            block *= row[:, None]
            col_max[j : j + _COLUMN_BLOCK] = block.max(axis=0)
        col = _power_of_two_reciprocal(col_max)
    col_sums = np.empty(n)
    row_sums = np.zeros(n)
    for j in range(0, n, _COLUMN_BLOCK):
        block = w[:, j : j + _COLUMN_BLOCK]
        block *= row[:, None]
        block *= col[j : j + _COLUMN_BLOCK]
        magnitude = np.abs(block)
        col_sums[j : j + _COLUMN_BLOCK] = magnitude.sum(axis=0)
        row_sums += magnitude.sum(axis=1)
    return Scaling(row, col, applied=True), float(col_sums.max()), float(row_sums.max())


def equilibrate_symmetric_dense(a: np.ndarray) -> Scaling:
    """Scale the symmetric ``a`` with positive diagonal in place to ``diag(s) a diag(s)``."""
    diagonal = np.diag(a).copy()
    scale = _power_of_two_reciprocal(np.sqrt(diagonal))
    if not _worth_scaling(diagonal):
        n = a.shape[0]
        return Scaling(np.ones(n), np.ones(n), applied=False)
    for j in range(0, a.shape[1], _COLUMN_BLOCK):
        block = a[:, j : j + _COLUMN_BLOCK]
        block *= scale[:, None]
        block *= scale[j : j + _COLUMN_BLOCK]
    return Scaling(scale, scale.copy(), applied=True)


def equilibrate_sparse(a: scipy.sparse.csc_array) -> tuple[scipy.sparse.csc_array, Scaling]:
    """Return ``diag(r) a diag(c)`` as a new CSC array with power-of-two scales."""
    n = a.shape[0]
    magnitude = abs(a)
    row_max = magnitude.max(axis=1).toarray().ravel()
    col_max = magnitude.max(axis=0).toarray().ravel()
    _reject_zero_lines(row_max, col_max)
    if not (_worth_scaling(row_max) or _worth_scaling(col_max)):
        return a, Scaling(np.ones(n), np.ones(n), applied=False)
    row = _power_of_two_reciprocal(row_max)
    col_max = (scipy.sparse.diags_array(row) @ magnitude).max(axis=0).toarray().ravel()
    col = _power_of_two_reciprocal(col_max)
    if not (_worth_scaling(1.0 / row) or _worth_scaling(1.0 / col)):
        return a, Scaling(np.ones(n), np.ones(n), applied=False)
    scaled = scipy.sparse.diags_array(row) @ a @ scipy.sparse.diags_array(col)
    return scipy.sparse.csc_array(scaled), Scaling(row, col, applied=True)


def first_asymmetry_dense(a: np.ndarray) -> tuple[int, int] | None:
    """Return the first (i, j) with a[i, j] != a[j, i], or None if ``a`` is exactly symmetric."""
    n = a.shape[0]
    for j in range(0, n, _COLUMN_BLOCK):
        columns = a[:, j : j + _COLUMN_BLOCK]
        rows = a[j : j + _COLUMN_BLOCK, :]
        differ = columns.T != rows
        if differ.any():
            position = np.argwhere(differ)[0]
            return int(position[1]), int(position[0]) + j
    return None


def is_symmetric_sparse(a: scipy.sparse.sparray) -> bool:
    """Return True when the sparse ``a`` equals its transpose exactly."""
    difference = scipy.sparse.csr_array(a) - scipy.sparse.csr_array(a.T)
    difference.eliminate_zeros()
    return difference.nnz == 0
