"""``solve``: validate the system, choose a method, run it and measure the result."""

from __future__ import annotations

import time

import numpy as np
import scipy.linalg.blas
import scipy.sparse
import scipy.sparse.linalg as sparse_linalg

from . import dense
from ._conditioning import check_rcond, inverse_norm_1
from ._scaling import check_finite_dense, dense_norms, equilibrate_sparse, first_asymmetry_dense, is_symmetric_sparse
from .dense_direct import solve_dense_direct
from .errors import InputError
from .iterative import PRECONDITIONERS, solve_iterative
from .least_squares import solve_least_squares
from .limits import DEFAULT_LIMITS, Limits
from .progress import CancelToken, ProgressCallback, ProgressReporter
from .result import COMPLEXITY, SolveResult
from .sparse_direct import factor_sparse

METHODS = ("auto", "lu", "cholesky", "lstsq", "splu", "cg", "gmres", "bicgstab")
ITERATIVE_METHODS = ("cg", "gmres", "bicgstab")
EPS = float(np.finfo(np.float64).eps)
DENSE_DIRECT_METHODS = ("lu", "cholesky")

# A sparse square matrix this small and at least this dense is solved as dense,
# where BLAS-3 LU is faster than SuperLU's sparse bookkeeping.
DENSE_FALLBACK_MAX_N = 2000
DENSE_FALLBACK_MIN_DENSITY = 0.05

# Warn when cond * eps exceeds this: fewer than about 6 significant digits of x
# are then guaranteed by the usual bound ||dx|| / ||x|| <~ cond * eps.
CONDITION_WARNING = 1e-6


def solve(
    A,
    b,
    method: str = "auto",
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    tol: float = 1e-10,
    max_iter: int | None = None,
    preconditioner: str | None = None,
    block_size: int | None = None,
    limits: Limits | None = None,
) -> SolveResult:
    """Solve ``A x = b`` with ``method`` and return the solution with its accuracy measures.

    ``A`` is a 2-D NumPy array or SciPy sparse array or matrix and ``b`` a
    vector (or n x 1). ``tol`` and ``max_iter`` apply to iterative methods and
    ``block_size`` to dense LU and Cholesky. ``cancel`` is a ``CancelToken`` or
    any object with ``is_set()``.

    Raises ``InputError`` for invalid input, ``SingularMatrixError`` when A is
    singular to working precision (its equilibrated reciprocal condition
    estimate is below n * eps), ``ConvergenceError`` and ``SolveCancelledError``.
    """
    start = time.perf_counter()
    limits = limits or DEFAULT_LIMITS
    _check_options(method, preconditioner, block_size, cancel)
    a = _validate_matrix(A)
    rhs = _validate_rhs(b, a.shape[0])
    chosen, reason = _choose_method(a, method)
    a = _convert_for_method(a, chosen, limits)

    if chosen not in DENSE_DIRECT_METHODS and not scipy.sparse.issparse(a):
        # Dense LU and Cholesky check finiteness during their own pass over the copy.
        check_finite_dense(a, name="A")

    reporter = ProgressReporter(progress, cancel, _estimated_flops(a, chosen))
    reporter.start(stage="start")
    norm_inf = None
    if chosen == "lstsq":
        result = _run_least_squares(a, rhs, reporter, tol)
    elif chosen in ITERATIVE_METHODS:
        result = _run_iterative(a, rhs, chosen, reporter, tol, max_iter, preconditioner)
    elif chosen == "splu":
        result = _run_sparse_direct(a, rhs, reporter)
    else:
        result, norm_inf = _run_dense_direct(a, rhs, chosen, reporter, block_size, auto=method == "auto")

    result.method_reason = f"{reason}; {result.method_reason}" if result.method_reason else reason
    _finish_result(result, a, rhs, reporter, start, norm_inf)
    return result


def _check_options(method: str, preconditioner: str | None, block_size: int | None, cancel) -> None:
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; use one of {', '.join(METHODS)}", value=method, field="method")
    if preconditioner not in PRECONDITIONERS:
        raise InputError(
            f"unknown preconditioner {preconditioner!r}; use None, 'jacobi' or 'ilu'",
            value=preconditioner,
            field="preconditioner",
        )
    if preconditioner is not None and method not in ITERATIVE_METHODS:
        raise InputError(
            f"a preconditioner applies only to cg, gmres and bicgstab, not to method {method!r}; drop it "
            "or choose an iterative method",
            value=preconditioner,
            field="preconditioner",
        )
    if block_size is not None and (not isinstance(block_size, int) or block_size < 1):
        raise InputError(f"block_size must be a positive integer, got {block_size!r}; 256 to 512 suits most "
                         "machines", value=block_size, field="block_size")
    if cancel is not None and not callable(getattr(cancel, "is_set", None)):
        raise InputError("cancel must be a CancelToken or an object with is_set(), such as multiprocessing.Event",
                         value=type(cancel).__name__, field="cancel")


def _reject_complex(dtype: np.dtype, name: str) -> None:
    if np.issubdtype(dtype, np.complexfloating):
        raise InputError(
            f"complex-valued matrices are not supported ({name} has dtype {dtype}); convert to the real 2n x 2n "
            "system [[Re A, -Im A], [Im A, Re A]] [Re x; Im x] = [Re b; Im b], or pass the real part only "
            "if the imaginary part is zero",
            value=str(dtype),
            field=name,
        )
    if not (np.issubdtype(dtype, np.floating) or np.issubdtype(dtype, np.integer)):
        raise InputError(f"{name} has dtype {dtype}; send real numbers (float or integer)", value=str(dtype),
                         field=name)


def _validate_matrix(A):
    if scipy.sparse.issparse(A):
        _reject_complex(A.dtype, "A")
        a = scipy.sparse.csr_array(A, dtype=np.float64)
        if not np.isfinite(a.data).all():
            raise InputError("A contains a non-finite entry; replace it with a finite number", field="A")
    else:
        a = np.asarray(A)
        _reject_complex(a.dtype, "A")
        if a.ndim != 2:
            raise InputError(f"A must be 2-D, got shape {a.shape}; send a list of rows", value=str(a.shape),
                             field="A")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise InputError(f"A is empty (shape {a.shape}); send at least one row and one column",
                         value=str(a.shape), field="A")
    return a


def _validate_rhs(b, rows: int) -> np.ndarray:
    vector = b.toarray() if scipy.sparse.issparse(b) else np.asarray(b)
    _reject_complex(vector.dtype, "b")
    if vector.ndim == 2 and vector.shape[1] == 1:
        vector = vector[:, 0]
    if vector.ndim != 1:
        raise InputError(f"b must be a vector or an n x 1 column, got shape {vector.shape}",
                         value=str(vector.shape), field="b")
    if vector.shape[0] != rows:
        raise InputError(
            f"A has {rows} rows but b has {vector.shape[0]} entries; b needs one entry per row of A",
            value=vector.shape[0],
            field="b",
        )
    vector = np.array(vector, dtype=np.float64)
    check_finite_dense(vector, name="b")
    return vector


def _choose_method(a, method: str) -> tuple[str, str]:
    """Return the method to run and the reason, in words, for choosing it."""
    rows, cols = a.shape
    if method != "auto":
        if method != "lstsq" and rows != cols:
            raise InputError(
                f"A is {rows} x {cols}, but method {method!r} needs a square matrix; use method='lstsq' "
                "for a least-squares solution",
                value=f"{rows}x{cols}",
                field="method",
            )
        return method, "requested by the caller"
    if rows != cols:
        shape = "overdetermined" if rows > cols else "underdetermined"
        return "lstsq", f"A is {rows} x {cols} ({shape}): least squares by SVD"
    if scipy.sparse.issparse(a):
        density = a.nnz / (rows * cols)
        if rows <= DENSE_FALLBACK_MAX_N and density >= DENSE_FALLBACK_MIN_DENSITY:
            dense_method, dense_reason = _choose_dense(a.toarray())
            return dense_method, f"sparse but small (n={rows}) and {density:.0%} full, so solved dense: {dense_reason}"
        return "splu", f"sparse square (n={rows}, nnz={a.nnz}, {density:.2g} full): SuperLU direct factorization"
    method, reason = _choose_dense(a)
    return method, f"dense square (n={rows}): {reason}"


def _choose_dense(a: np.ndarray) -> tuple[str, str]:
    if first_asymmetry_dense(a) is None and bool(np.all(np.diag(a) > 0)):
        return "cholesky", "exactly symmetric with positive diagonal, so Cholesky was attempted"
    return "lu", "not symmetric with positive diagonal, so LU with partial pivoting"


def _convert_for_method(a, method: str, limits: Limits):
    if method in ("lu", "cholesky") and scipy.sparse.issparse(a):
        limits.check_dense(*a.shape, name="A")
        return a.toarray()
    if method == "splu" and not scipy.sparse.issparse(a):
        return scipy.sparse.csc_array(a)
    return a


def _estimated_flops(a, method: str) -> float:
    n = a.shape[0]
    if method == "lu":
        return dense.lu_flops(n) + 2.0 * n * n
    if method == "cholesky":
        return dense.cholesky_flops(n) + 2.0 * n * n
    return 0.0


def _run_dense_direct(a, rhs, method, reporter, block_size, *, auto: bool) -> tuple[SolveResult, float]:
    outcome = solve_dense_direct(a, rhs, method, reporter, block_size, auto=auto)
    result = _new_result(outcome.x, outcome.method, outcome.reason, outcome.condition_estimate)
    result.flops = outcome.flops
    result.equilibrated = outcome.equilibrated
    return result, outcome.norm_inf


def _run_sparse_direct(a, rhs, reporter) -> SolveResult:
    n = a.shape[0]
    work = scipy.sparse.csc_array(a, dtype=np.float64)
    magnitude = abs(work)
    norm_1 = float(magnitude.sum(axis=0).max())
    pattern = scipy.sparse.csc_array((np.ones(work.nnz), work.indices, work.indptr), shape=work.shape)
    symmetric_pattern = is_symmetric_sparse(pattern)
    scaled, scaling = equilibrate_sparse(work)
    reporter.update(0.05, stage="analysis", force=True)

    factorization = factor_sparse(scaled, scaling, symmetric=symmetric_pattern)
    reporter.update(0.9, stage="factor", force=True)
    scaled_norm_1 = float(abs(scaled).sum(axis=0).max())
    check_rcond(1.0 / (scaled_norm_1 * inverse_norm_1(n, factorization.solve_scaled)), n)
    x = factorization.solve(rhs)
    reporter.update(0.95, stage="solve", force=True)
    condition = norm_1 * inverse_norm_1(n, factorization.solve)
    ordering = "minimum degree on A'+A" if symmetric_pattern else "COLAMD"
    result = _new_result(x, "splu", f"column ordering: {ordering}", condition)
    result.flops = factorization.flops + 2.0 * (factorization.lu.L.nnz + factorization.lu.U.nnz)
    result.equilibrated = scaling.applied
    return result


def _run_iterative(a, rhs, method, reporter, tol, max_iter, preconditioner) -> SolveResult:
    outcome = solve_iterative(
        a, rhs, method, reporter=reporter, tol=tol, max_iter=max_iter, preconditioner=preconditioner
    )
    result = _new_result(outcome.x, method, "", None)
    result.warnings.extend(outcome.warnings)
    result.warnings.append("condition_estimate is not computed for iterative methods, because it needs a factorization")
    result.iterations = outcome.iterations
    result.residual_history = outcome.residual_history
    result.flops = outcome.flops
    return result


def _run_least_squares(a, rhs, reporter, tol) -> SolveResult:
    outcome = solve_least_squares(a, rhs, reporter, tol)
    result = _new_result(outcome.x, "lstsq", "", outcome.condition_estimate)
    result.rank = outcome.rank
    result.iterations = outcome.iterations
    result.warnings.extend(outcome.warnings)
    result.flops = outcome.flops
    return result


def _new_result(x, method, reason, condition) -> SolveResult:
    return SolveResult(
        x=x,
        method=method,
        method_reason=reason,
        relative_residual=0.0,
        residual_norm=0.0,
        condition_estimate=condition,
    )


def _finish_result(
    result: SolveResult, a, rhs: np.ndarray, reporter: ProgressReporter, start: float, norm_inf: float | None
) -> None:
    residual = a @ result.x - rhs
    # dnrm2 scales internally, so entries near 1e200 do not overflow.
    result.residual_norm = float(scipy.linalg.blas.dnrm2(residual))
    if norm_inf is None:
        norm_inf = float(abs(a).sum(axis=1).max()) if scipy.sparse.issparse(a) else dense_norms(a)[1]
    denominator = norm_inf * float(np.max(np.abs(result.x))) + float(np.max(np.abs(rhs)))
    result.relative_residual = float(np.max(np.abs(residual))) / denominator if denominator > 0 else 0.0

    condition = result.condition_estimate
    if condition is not None and condition * EPS > CONDITION_WARNING:
        digits = max(0.0, -np.log10(condition * EPS))
        result.warnings.append(
            f"condition estimate {condition:.2e} exceeds {CONDITION_WARNING:g} / eps, so only about "
            f"{digits:.0f} significant digits of x are trustworthy (forward error bound cond * eps = "
            f"{condition * EPS:.1e}) even though the residual is small"
        )
    if a.shape[0] > a.shape[1] and result.relative_residual > 1e-8:
        result.warnings.append("the system is inconsistent: x minimizes ||A x - b|| but does not satisfy A x = b")

    reporter.finish(result.flops, iteration=result.iterations,
                    residual=result.residual_history[-1] if result.residual_history else None)
    result.elapsed_s = time.perf_counter() - start
    result.gflops = result.flops / result.elapsed_s / 1e9 if result.elapsed_s > 0 else 0.0
    result.peak_memory_bytes = reporter.peak_memory_bytes
    result.complexity = COMPLEXITY[result.method]["time"]
