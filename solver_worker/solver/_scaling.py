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
_COLUMN_BLOCK = 256


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


def _reject_zero_lines(row_max: np.ndarray, col_max: np.ndarray) -> None:
    for what, maxima in (("row", row_max), ("column", col_max)):
        zero = np.flatnonzero(maxima == 0)
        if zero.size:
            raise SingularMatrixError(
                f"matrix is singular: {what} {int(zero[0]) + 1} is all zeros; "
                f"fix that {what} or use method='lstsq' for a least-squares solution",
                pivot=int(zero[0]) + 1,
            )


def _worth_scaling(scale: np.ndarray) -> bool:
    return bool(scale.min() < SCALE_THRESHOLD * scale.max())


def equilibrate_dense(a: np.ndarray) -> Scaling:
    """Scale the square Fortran-ordered ``a`` in place to ``diag(r) a diag(c)``."""
    n = a.shape[0]
    row_max = np.zeros(n)
    col_max = np.empty(n)
    for j in range(0, n, _COLUMN_BLOCK):
        block = np.abs(a[:, j : j + _COLUMN_BLOCK])
        np.maximum(row_max, block.max(axis=1), out=row_max)
        col_max[j : j + _COLUMN_BLOCK] = block.max(axis=0)
    _reject_zero_lines(row_max, col_max)
    row = _power_of_two_reciprocal(row_max)
    for j in range(0, n, _COLUMN_BLOCK):
        block = np.abs(a[:, j : j + _COLUMN_BLOCK])
        block *= row[:, None]
        col_max[j : j + _COLUMN_BLOCK] = block.max(axis=0)
    col = _power_of_two_reciprocal(col_max)
    if not (_worth_scaling(row) or _worth_scaling(col)):
        return Scaling(np.ones(n), np.ones(n), applied=False)
    for j in range(0, n, _COLUMN_BLOCK):
        block = a[:, j : j + _COLUMN_BLOCK]
        block *= row[:, None]
        block *= col[j : j + _COLUMN_BLOCK]
    return Scaling(row, col, applied=True)


def equilibrate_symmetric_dense(a: np.ndarray) -> Scaling:
    """Scale the symmetric ``a`` with positive diagonal in place to ``diag(s) a diag(s)``."""
    diagonal = np.diag(a).copy()
    scale = _power_of_two_reciprocal(np.sqrt(diagonal))
    if not _worth_scaling(scale):
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
    row = _power_of_two_reciprocal(row_max)
    col_max = (scipy.sparse.diags_array(row) @ magnitude).max(axis=0).toarray().ravel()
    col = _power_of_two_reciprocal(col_max)
    if not (_worth_scaling(row) or _worth_scaling(col)):
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
