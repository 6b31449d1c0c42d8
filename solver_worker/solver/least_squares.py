"""Least-squares solves for rectangular (or rank-deficient) systems."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg as sparse_linalg

from .progress import ProgressReporter

# A sparse matrix with at most this many entries in dense form is solved by the
# SVD, which also gives its rank. A larger one is solved by LSMR, without a rank.
MAX_DENSE_ENTRIES_FOR_SVD = 4_000_000


@dataclass
class LeastSquaresOutcome:
    x: np.ndarray
    rank: int | None
    condition_estimate: float | None
    flops: float
    method: str
    iterations: int | None = None
    warnings: list[str] = field(default_factory=list)


def solve_least_squares(a, b: np.ndarray, reporter: ProgressReporter, tol: float) -> LeastSquaresOutcome:
    """Return the minimum-norm least-squares solution of ``a x = b``."""
    m, n = a.shape
    if scipy.sparse.issparse(a) and m * n > MAX_DENSE_ENTRIES_FOR_SVD:
        return _solve_lsmr(a, b, reporter, tol)
    dense = a.toarray() if scipy.sparse.issparse(a) else a
    reporter.update(0.05, stage="svd", force=True)
    x, _, rank, singular_values = scipy.linalg.lstsq(dense, b, lapack_driver="gelsd", check_finite=False)
    reporter.check_cancel()
    small, large = min(m, n), max(m, n)
    flops = 4.0 * large * small * small + 8.0 * small**3
    warnings = []
    if singular_values[-1] == 0:
        condition = float("inf")
    else:
        condition = float(singular_values[0] / singular_values[-1])
    if rank < small:
        warnings.append(
            f"A has rank {rank} < {small} (singular values below {max(m, n)} * eps * the largest are treated as "
            "zero), so x is the minimum-norm solution among many"
        )
    warnings.append("condition_estimate is the 2-norm condition from the singular values of A")
    return LeastSquaresOutcome(x, int(rank), condition, flops, "lstsq", warnings=warnings)


def _solve_lsmr(a, b: np.ndarray, reporter: ProgressReporter, tol: float) -> LeastSquaresOutcome:
    m, n = a.shape
    reporter.update(0.05, stage="lsmr", force=True)
    result = sparse_linalg.lsmr(a, b, atol=tol, btol=tol, maxiter=max(100, 10 * min(m, n)))
    x, stop_reason, iterations = result[0], result[1], result[2]
    condition = float(result[6])
    warnings = [
        f"A is sparse and {m} x {n}, too large for the SVD, so LSMR was used and the rank was not computed",
        "condition_estimate is LSMR's estimate of the 2-norm condition of A",
    ]
    if stop_reason == 7:
        warnings.append(f"LSMR stopped at its iteration limit ({iterations}) before reaching tol={tol:g}")
    flops = iterations * (4.0 * a.nnz + 10.0 * (m + n))
    return LeastSquaresOutcome(x, None, condition, flops, "lstsq", iterations=int(iterations), warnings=warnings)
