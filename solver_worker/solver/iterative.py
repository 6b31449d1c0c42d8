"""Krylov solvers (CG, BiCGSTAB, GMRES) with preconditioners, residual history and cancellation.

CG and BiCGSTAB are written out here so each iteration reports the
recursively updated residual without an extra matrix-vector product; GMRES
is SciPy's, observed through its callback. The stopping test of all three is
``||b - A x|| <= tol * ||b||`` starting from ``x = 0``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse
import scipy.sparse.linalg as sparse_linalg

from .errors import ConvergenceError, InputError, NotPositiveDefiniteError, SingularMatrixError
from .progress import ProgressReporter

PRECONDITIONERS = (None, "jacobi", "ilu")
GMRES_RESTART = 50


@dataclass
class IterativeOutcome:
    x: np.ndarray
    iterations: int
    residual_history: list[float] = field(default_factory=list)
    flops: float = 0.0
    warnings: list[str] = field(default_factory=list)


def default_max_iter(n: int) -> int:
    """Return ``10 n`` bounded to 100..100000 iterations."""
    return max(100, min(10 * n, 100_000))


def build_preconditioner(
    a: scipy.sparse.csr_array | np.ndarray, kind: str | None
) -> tuple[Callable[[np.ndarray], np.ndarray] | None, float]:
    """Return a function applying ``M^-1`` and its flops per application."""
    if kind is None:
        return None, 0.0
    if kind == "jacobi":
        diagonal = a.diagonal()
        zero = np.flatnonzero(diagonal == 0)
        if zero.size:
            raise InputError(
                f"the Jacobi preconditioner needs a nonzero diagonal, but A[{zero[0]}, {zero[0]}] is 0; "
                "use preconditioner='ilu' or None",
                value=int(zero[0]),
                field="preconditioner",
            )
        inverse = 1.0 / diagonal
        return (lambda vector: vector * inverse), float(a.shape[0])
    if kind == "ilu":
        try:
            factor = sparse_linalg.spilu(scipy.sparse.csc_array(a), drop_tol=1e-4, fill_factor=10)
        except RuntimeError as error:
            raise SingularMatrixError(
                f"the incomplete LU factor of A is singular ({error}); use preconditioner='jacobi' or None, "
                "or method='splu'"
            ) from error
        return factor.solve, 2.0 * (factor.L.nnz + factor.U.nnz)
    raise InputError(
        f"unknown preconditioner {kind!r}; use one of None, 'jacobi', 'ilu'", value=kind, field="preconditioner"
    )


class _Monitor:
    """Records residuals, reports progress toward ``tol`` and checks cancellation per iteration."""

    def __init__(self, reporter: ProgressReporter, tol: float, flops_per_iteration: float) -> None:
        self.reporter = reporter
        self.tol = tol
        self.flops_per_iteration = flops_per_iteration
        self.history: list[float] = []

    def record(self, residual: float) -> None:
        self.history.append(residual)
        iteration = len(self.history)
        fraction = 0.0
        if 0 < residual < 1:
            fraction = min(1.0, math.log(residual) / math.log(self.tol))
        flops_done = iteration * self.flops_per_iteration
        if fraction > 0:
            self.reporter.flops_total = max(flops_done / fraction, flops_done)
        self.reporter.update(fraction, flops_done, stage="iterate", iteration=iteration, residual=residual)


def _convergence_error(method: str, monitor: _Monitor, max_iter: int, reason: str) -> ConvergenceError:
    achieved = monitor.history[-1] if monitor.history else 1.0
    return ConvergenceError(
        f"{method} did not reach the relative residual {monitor.tol:g} {reason}: the best achieved is "
        f"{achieved:.3e} after {len(monitor.history)} iterations (max_iter={max_iter}); "
        "raise max_iter, loosen tol, add a preconditioner or use a direct method (splu or lu)",
        iterations=len(monitor.history),
        residual=achieved,
        tol=monitor.tol,
    )


def conjugate_gradient(
    a, b: np.ndarray, precondition, monitor: _Monitor, max_iter: int
) -> tuple[np.ndarray, int]:
    """Preconditioned CG for symmetric positive definite ``a``; return x and the iteration count."""
    b_norm = float(np.linalg.norm(b))
    x = np.zeros_like(b)
    r = b.copy()
    z = precondition(r) if precondition else r
    p = z.copy()
    rz = float(r @ z)
    for iteration in range(1, max_iter + 1):
        ap = a @ p
        curvature = float(p @ ap)
        if curvature <= 0:
            raise NotPositiveDefiniteError(
                f"CG needs a symmetric positive definite matrix, but p'Ap = {curvature:.3e} <= 0 at iteration "
                f"{iteration}; use method='gmres', 'bicgstab' or 'splu'",
                value=curvature,
                field="method",
            )
        alpha = rz / curvature
        x += alpha * p
        r -= alpha * ap
        residual = float(np.linalg.norm(r)) / b_norm
        monitor.record(residual)
        if residual <= monitor.tol:
            return x, iteration
        z = precondition(r) if precondition else r
        rz_next = float(r @ z)
        p *= rz_next / rz
        p += z
        rz = rz_next
    raise _convergence_error("CG", monitor, max_iter, "within max_iter iterations")


def bicgstab(a, b: np.ndarray, precondition, monitor: _Monitor, max_iter: int) -> tuple[np.ndarray, int]:
    """Right-preconditioned BiCGSTAB for a general square ``a``; return x and the iteration count."""
    b_norm = float(np.linalg.norm(b))
    identity = precondition or (lambda vector: vector)
    x = np.zeros_like(b)
    r = b.copy()
    shadow = r.copy()
    rho = alpha = omega = 1.0
    v = np.zeros_like(b)
    p = np.zeros_like(b)
    for iteration in range(1, max_iter + 1):
        rho_next = float(shadow @ r)
        if rho_next == 0.0:
            raise _convergence_error("BiCGSTAB", monitor, max_iter, "because it broke down (rho = 0)")
        beta = (rho_next / rho) * (alpha / omega)
        p = r + beta * (p - omega * v)
        p_hat = identity(p)
        v = a @ p_hat
        alpha = rho_next / float(shadow @ v)
        s = r - alpha * v
        s_norm = float(np.linalg.norm(s)) / b_norm
        if s_norm <= monitor.tol:
            x += alpha * p_hat
            monitor.record(s_norm)
            return x, iteration
        s_hat = identity(s)
        t = a @ s_hat
        t_norm_squared = float(t @ t)
        omega = float(t @ s) / t_norm_squared if t_norm_squared > 0 else 0.0
        x += alpha * p_hat + omega * s_hat
        r = s - omega * t
        rho = rho_next
        residual = float(np.linalg.norm(r)) / b_norm
        monitor.record(residual)
        if residual <= monitor.tol:
            return x, iteration
        if omega == 0.0:
            raise _convergence_error("BiCGSTAB", monitor, max_iter, "because it broke down (omega = 0)")
    raise _convergence_error("BiCGSTAB", monitor, max_iter, "within max_iter iterations")


def gmres(a, b: np.ndarray, precondition, monitor: _Monitor, max_iter: int) -> tuple[np.ndarray, int]:
    """Restarted GMRES from SciPy; the history contains its preconditioned relative residuals."""
    n = b.shape[0]
    restart = min(GMRES_RESTART, n)
    operator = None
    if precondition is not None:
        operator = sparse_linalg.LinearOperator((n, n), matvec=precondition, dtype=np.float64)
    x, info = sparse_linalg.gmres(
        a,
        b,
        rtol=monitor.tol,
        atol=0.0,
        restart=restart,
        maxiter=max(1, math.ceil(max_iter / restart)),
        M=operator,
        callback=monitor.record,
        callback_type="pr_norm",
    )
    if info > 0:
        raise _convergence_error("GMRES", monitor, max_iter, "within max_iter iterations")
    if info < 0:
        raise _convergence_error("GMRES", monitor, max_iter, f"because SciPy reported illegal input ({info})")
    return x, len(monitor.history)


_METHODS = {"cg": conjugate_gradient, "bicgstab": bicgstab, "gmres": gmres}


def solve_iterative(
    a,
    b: np.ndarray,
    method: str,
    *,
    reporter: ProgressReporter,
    tol: float,
    max_iter: int | None,
    preconditioner: str | None,
) -> IterativeOutcome:
    """Run ``method`` on ``a x = b``; raise ``ConvergenceError`` if ``tol`` is not reached."""
    n = b.shape[0]
    max_iter = default_max_iter(n) if max_iter is None else max_iter
    if not 0 < tol < 1:
        raise InputError(f"tol must be between 0 and 1, got {tol}; use for example 1e-10", value=tol, field="tol")
    if max_iter < 1:
        raise InputError(f"max_iter must be at least 1, got {max_iter}", value=max_iter, field="max_iter")
    outcome_warnings = []
    if method == "cg" and preconditioner == "ilu":
        outcome_warnings.append(
            "the ILU preconditioner is not symmetric, so CG's convergence guarantee does not hold; "
            "prefer preconditioner='jacobi' with CG"
        )
    if np.linalg.norm(b) == 0:
        return IterativeOutcome(np.zeros(n), 0, [], 0.0, outcome_warnings)

    precondition, preconditioner_flops = build_preconditioner(a, preconditioner)
    nnz = a.nnz if scipy.sparse.issparse(a) else a.size
    matvecs = 2 if method == "bicgstab" else 1
    applications = 2 if method == "bicgstab" else 1
    flops_per_iteration = matvecs * 2.0 * nnz + applications * preconditioner_flops + 10.0 * n
    monitor = _Monitor(reporter, tol, flops_per_iteration)
    x, iterations = _METHODS[method](a, b, precondition, monitor, max_iter)
    return IterativeOutcome(x, iterations, monitor.history, iterations * flops_per_iteration, outcome_warnings)
