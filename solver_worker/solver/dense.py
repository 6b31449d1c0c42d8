"""Dense blocked LU and Cholesky factorizations that work in place and report progress.

Both are right-looking: each step factors one panel of ``block_size`` columns
with LAPACK, then updates the trailing matrix with one BLAS-3 call (dgemm for
LU, dsyrk for Cholesky), where almost all flops are. Progress and cancellation
are checked between panels, so one panel step bounds the cancel latency.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg.lapack as lapack

from . import _blas
from .errors import SingularMatrixError
from .progress import ProgressReporter

# A panel of 384 columns keeps the trailing dgemm near peak speed, and its
# first (largest) update at n = 4000 is about 11 GFLOP, a fraction of a second.
DEFAULT_BLOCK_SIZE = 384
SMALL_BLOCK_SIZE = 128


def default_block_size(n: int) -> int:
    """Return the panel width used when the caller gives none."""
    return SMALL_BLOCK_SIZE if n < 1500 else DEFAULT_BLOCK_SIZE


@dataclass
class DenseFactorization:
    """Factors of the equilibrated work matrix ``W_s = diag(row_scale) @ W @ diag(col_scale)``.

    ``W`` is the user's ``A``, or ``A.T`` when ``transposed`` is set (a
    C-ordered ``A`` is copied as its transpose because that copy needs no
    reordering). ``factors`` contains LU (unit L below the diagonal) or the
    lower Cholesky factor, and ``pivots`` the 0-based row interchanges in
    LAPACK order (LU only). The norms are those of ``W_s``.
    """

    kind: str
    factors: np.ndarray
    pivots: np.ndarray | None
    row_scale: np.ndarray
    col_scale: np.ndarray
    flops: float
    scaled_norm_1: float
    scaled_norm_inf: float
    equilibrated: bool
    transposed: bool = False

    def solve(self, rhs: np.ndarray, *, transpose: bool = False) -> np.ndarray:
        """Solve ``A x = rhs`` (or ``A.T x = rhs``) with the user's unscaled ``A``."""
        with_transpose = transpose != self.transposed
        if with_transpose:
            scale_in, scale_out = self.col_scale, self.row_scale
        else:
            scale_in, scale_out = self.row_scale, self.col_scale
        scaled = np.asarray(rhs, dtype=np.float64) * (scale_in if rhs.ndim == 1 else scale_in[:, None])
        if self.kind == "lu":
            y, info = lapack.dgetrs(self.factors, self.pivots, scaled, trans=1 if with_transpose else 0)
        else:
            y, info = lapack.dpotrs(self.factors, scaled, lower=1)
        if info != 0:
            raise ValueError(f"LAPACK solve failed with info={info}")
        return y * (scale_out if rhs.ndim == 1 else scale_out[:, None])

    def rcond(self) -> float:
        """Return LAPACK's reciprocal 1-norm condition estimate of the equilibrated ``A``."""
        if self.kind == "lu":
            # The 1-norm of A is the infinity-norm of W = A.T.
            norm, anorm = ("I", self.scaled_norm_inf) if self.transposed else ("1", self.scaled_norm_1)
            value, info = lapack.dgecon(self.factors, anorm, norm=norm)
        else:
            value, info = lapack.dpocon(self.factors, self.scaled_norm_1, uplo="L")
        if info != 0:
            raise ValueError(f"LAPACK condition estimate failed with info={info}")
        return float(value)


def lu_flops(n: int) -> float:
    return 2.0 * n**3 / 3.0


def cholesky_flops(n: int) -> float:
    return n**3 / 3.0


def _lu_step_flops(n: int, k: int, kb: int) -> float:
    """Estimate the flops of one LU step: the panel, the row block solve and the trailing update."""
    m = n - k
    rest = m - kb
    return m * kb * kb - kb**3 / 3.0 + kb * kb * rest + 2.0 * rest * rest * kb


def blocked_lu(a: np.ndarray, reporter: ProgressReporter, block_size: int) -> tuple[np.ndarray, float]:
    """Factor the square Fortran-ordered ``a`` in place as ``P a = L U``; return 0-based pivots and flops.

    Raises ``SingularMatrixError`` when a pivot is exactly zero.
    """
    n = a.shape[0]
    pivots = np.zeros(n, dtype=np.int32)
    starts = list(range(0, n, block_size))
    step_flops = [_lu_step_flops(n, k, min(block_size, n - k)) for k in starts]
    total = sum(step_flops)
    done = 0.0
    first_zero_pivot = 0
    for k, flops in zip(starts, step_flops, strict=True):
        kb = min(block_size, n - k)
        end = k + kb
        panel_pivots = pivots[k:end]
        info = _blas.getrf(a[k:, k:end], panel_pivots)
        if info > 0 and first_zero_pivot == 0:
            first_zero_pivot = k + info
        _blas.laswp(a[k:, :k], panel_pivots)
        if end < n:
            _blas.laswp(a[k:, end:], panel_pivots)
            _blas.trsm_left_lower_unit(a[k:end, k:end], a[k:end, end:])
            _blas.gemm_update(a[end:, end:], a[end:, k:end], a[k:end, end:])
        panel_pivots += k
        done += flops
        reporter.update(done / total, lu_flops(n) * done / total, stage="factor")
    if first_zero_pivot:
        raise SingularMatrixError(
            f"matrix is singular to working precision: pivot {first_zero_pivot} is 0 after partial pivoting; "
            "check for a zero or linearly dependent row or column, or use method='lstsq' for a least-squares solution",
            pivot=first_zero_pivot,
        )
    return pivots - 1, lu_flops(n)


def _cholesky_step_flops(n: int, k: int, kb: int) -> float:
    rest = n - k - kb
    return kb**3 / 3.0 + kb * kb * rest + rest * rest * kb


def blocked_cholesky(a: np.ndarray, reporter: ProgressReporter, block_size: int) -> float:
    """Overwrite the lower triangle of the Fortran-ordered ``a`` with ``L``, ``a = L L.T``; return flops.

    Raises ``NotPositiveDefinite`` with the order of the first leading minor that is not positive.
    """
    n = a.shape[0]
    starts = list(range(0, n, block_size))
    step_flops = [_cholesky_step_flops(n, k, min(block_size, n - k)) for k in starts]
    total = sum(step_flops)
    done = 0.0
    for k, flops in zip(starts, step_flops, strict=True):
        kb = min(block_size, n - k)
        end = k + kb
        info = _blas.potrf_lower(a[k:end, k:end])
        if info > 0:
            raise NotPositiveDefinite(k + info)
        if end < n:
            _blas.trsm_right_lower_transpose(a[k:end, k:end], a[end:, k:end])
            _blas.syrk_lower_update(a[end:, end:], a[end:, k:end])
        done += flops
        reporter.update(done / total, cholesky_flops(n) * done / total, stage="factor")
    return cholesky_flops(n)


class NotPositiveDefinite(Exception):
    """Internal signal: the leading minor of order ``order`` is not positive."""

    def __init__(self, order: int) -> None:
        super().__init__(order)
        self.order = order
