"""Condition estimates and the singular-to-working-precision rule shared by the direct methods."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse.linalg as sparse_linalg

from .errors import SingularMatrixError

EPS = float(np.finfo(np.float64).eps)


def check_rcond(rcond: float, n: int) -> None:
    """Raise ``SingularMatrixError`` when the equilibrated reciprocal condition is below n * eps."""
    if rcond < n * EPS:
        raise SingularMatrixError(
            f"matrix is singular to working precision: the reciprocal condition estimate {rcond:.2e} of the "
            f"equilibrated matrix is below n * eps = {n * EPS:.2e}, so no digit of x could be trusted; "
            "check for linearly dependent rows or columns, or use method='lstsq' for a least-squares solution",
            rcond=rcond,
        )


def inverse_norm_1(n: int, solve_with: Callable[..., np.ndarray]) -> float:
    """Estimate ||A^-1||_1 with Higham's block 1-norm estimator (randomized, so an estimate)."""
    operator = sparse_linalg.LinearOperator(
        (n, n),
        matvec=lambda v: solve_with(np.ravel(v)),
        rmatvec=lambda v: solve_with(np.ravel(v), transpose=True),
        dtype=np.float64,
    )
    return float(sparse_linalg.onenormest(operator))
