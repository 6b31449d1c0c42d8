"""Dense direct solves: copy, scan, equilibrate, factor, check the condition, solve."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import dense
from ._conditioning import check_rcond, inverse_norm_1
from ._scaling import equilibrate_dense, equilibrate_symmetric_dense, first_asymmetry_dense, scan_dense
from .errors import NotPositiveDefiniteError
from .progress import ProgressReporter


@dataclass
class DenseOutcome:
    x: np.ndarray
    method: str
    reason: str
    condition_estimate: float
    flops: float
    equilibrated: bool
    norm_inf: float


def fortran_work_copy(a: np.ndarray) -> tuple[np.ndarray, bool]:
    """Return a Fortran-ordered float64 copy of ``a``, or of ``a.T`` when that copy is a plain memcpy.

    Copying a C-ordered matrix into Fortran order is a transpose that costs
    about a quarter of an n = 4000 LU; copying its transpose is a memcpy.
    """
    if a.flags.c_contiguous and not a.flags.f_contiguous:
        return np.array(a.T, dtype=np.float64, order="F"), True
    return np.array(a, dtype=np.float64, order="F"), False


def solve_dense_direct(
    a: np.ndarray, rhs: np.ndarray, method: str, reporter: ProgressReporter, block_size: int | None, *, auto: bool
) -> DenseOutcome:
    """Solve with blocked Cholesky or LU; with ``auto``, a failed Cholesky falls back to LU."""
    n = a.shape[0]
    block_size = block_size or dense.default_block_size(n)
    reason = ""
    factorization = None
    if method == "cholesky":
        try:
            factorization, norm_1, norm_inf = _factor_cholesky(a, reporter, block_size)
        except NotPositiveDefiniteError as error:
            if not auto:
                raise
            reason = f"Cholesky failed ({error.message.split(';')[0]}), so LU with partial pivoting was used"
            reporter.flops_total = dense.lu_flops(n) + 2.0 * n * n
            method = "lu"
    if factorization is None:
        factorization, norm_1, norm_inf = _factor_lu(a, reporter, block_size)

    rcond = factorization.rcond()
    check_rcond(rcond, n)
    reporter.update(0.99, stage="solve")
    x = factorization.solve(rhs)
    if factorization.equilibrated:
        condition = norm_1 * inverse_norm_1(n, factorization.solve)
    else:
        condition = 1.0 / rcond
    return DenseOutcome(x, method, reason, condition, factorization.flops + 2.0 * n * n,
                        factorization.equilibrated, norm_inf)


def _factor_lu(a, reporter, block_size) -> tuple[dense.DenseFactorization, float, float]:
    """Factor ``a`` (or its transpose) and return the factors with the 1- and infinity-norms of ``a``."""
    work, transposed = fortran_work_copy(a)
    scan = scan_dense(work, name="A", transposed=transposed)
    scaling, scaled_norm_1, scaled_norm_inf = equilibrate_dense(work, scan, transposed=transposed)
    pivots, flops = dense.blocked_lu(work, reporter, block_size)
    factorization = dense.DenseFactorization(
        "lu", work, pivots, scaling.row, scaling.col, flops, scaled_norm_1, scaled_norm_inf, scaling.applied,
        transposed,
    )
    norm_1, norm_inf = (scan.norm_inf, scan.norm_1) if transposed else (scan.norm_1, scan.norm_inf)
    return factorization, norm_1, norm_inf


def _factor_cholesky(a, reporter, block_size) -> tuple[dense.DenseFactorization, float, float]:
    asymmetry = first_asymmetry_dense(a)
    if asymmetry is not None:
        i, j = asymmetry
        raise NotPositiveDefiniteError(
            f"Cholesky needs a symmetric matrix, but A[{i}, {j}] = {float(a[i, j])!r} and A[{j}, {i}] = {float(a[j, i])!r}; "
            "use method='lu'",
            value=f"({i}, {j})",
            field="A",
        )
    diagonal = np.diag(a)
    if not np.all(diagonal > 0):
        k = int(np.argmin(diagonal > 0))
        raise NotPositiveDefiniteError(
            f"A is not positive definite: diagonal entry A[{k}, {k}] = {diagonal[k]!r} is not positive; "
            "use method='lu'",
            value=float(diagonal[k]),
            field="A",
        )
    # A is exactly symmetric, so the cheaper copy of its transpose is the same matrix.
    work, _ = fortran_work_copy(a)
    scan = scan_dense(work, name="A", transposed=False)
    scaling = equilibrate_symmetric_dense(work)
    scaled_norm = scan_dense(work, name="A", transposed=False).norm_1 if scaling.applied else scan.norm_1
    try:
        flops = dense.blocked_cholesky(work, reporter, block_size)
    except dense.NotPositiveDefinite as failure:
        del work
        raise NotPositiveDefiniteError(
            f"A is not positive definite: the leading minor of order {failure.order} is not positive; "
            "use method='lu'",
            value=failure.order,
            field="A",
        ) from None
    factorization = dense.DenseFactorization(
        "cholesky", work, None, scaling.row, scaling.col, flops, scaled_norm, scaled_norm, scaling.applied
    )
    return factorization, scan.norm_1, scan.norm_inf
