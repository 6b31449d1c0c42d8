"""Parse user input for ``A`` and ``b`` in the formats json, csv, mtx and npy."""

from __future__ import annotations

import numpy as np
import scipy.sparse

from ._parse_mtx import parse_matrix_market
from ._parse_npy import parse_npy
from ._parse_text import parse_csv, parse_json
from .errors import InputError
from .limits import DEFAULT_LIMITS, Limits

FORMATS = ("json", "csv", "mtx", "npy")

Matrix = np.ndarray | scipy.sparse.csr_array | scipy.sparse.csc_array


def parse_matrix(
    data: bytes | str | list,
    fmt: str,
    *,
    name: str = "A",
    limits: Limits | None = None,
) -> Matrix:
    """Parse a matrix; dense formats give a 2-D float64 array, Matrix Market coordinate a CSR array.

    Raises ``InputError`` naming the line and value of anything invalid, and
    ``ProblemTooLargeError`` before allocating a matrix larger than ``limits``.
    """
    limits = limits or DEFAULT_LIMITS
    matrix = _parse(data, fmt, name=name, limits=limits)
    if matrix.ndim != 2:
        raise InputError(
            f"{name} is a vector of length {matrix.shape[0]}, but a matrix is expected; send a list of rows",
            value=str(matrix.shape),
            field=name,
        )
    limits.check_shape(*matrix.shape, name=name)
    if scipy.sparse.issparse(matrix):
        limits.check_nnz(matrix.nnz, name=name)
    return matrix


def parse_vector(
    data: bytes | str | list,
    fmt: str,
    *,
    name: str = "b",
    limits: Limits | None = None,
) -> np.ndarray:
    """Parse a right-hand side given as an n-vector, an n x 1 column or a single row; return shape (n,)."""
    limits = limits or DEFAULT_LIMITS
    vector = _parse(data, fmt, name=name, limits=limits)
    if scipy.sparse.issparse(vector):
        vector = vector.toarray()
    if vector.ndim == 2 and 1 in vector.shape:
        vector = vector.reshape(-1)
    if vector.ndim != 1:
        raise InputError(
            f"{name} has shape {vector.shape}, but a vector is expected; send n values as one column or one row",
            value=str(vector.shape),
            field=name,
        )
    limits.check_shape(vector.shape[0], 1, name=name)
    return np.ascontiguousarray(vector, dtype=np.float64)


def _parse(data: bytes | str | list, fmt: str, *, name: str, limits: Limits) -> Matrix:
    if fmt not in FORMATS:
        raise InputError(
            f"unknown format {fmt!r} for {name}; use one of {', '.join(FORMATS)}",
            value=fmt,
            field=name,
        )
    if isinstance(data, list) and fmt != "json":
        raise InputError(
            f"{name}: a decoded list is only accepted with the format 'json', not {fmt!r}; send the file content",
            value=fmt,
            field=name,
        )
    if fmt == "json":
        return parse_json(data, name=name, limits=limits)
    if fmt == "csv":
        return parse_csv(data, name=name, limits=limits)
    if fmt == "mtx":
        return parse_matrix_market(data, name=name, limits=limits)
    return parse_npy(data, name=name, limits=limits)
