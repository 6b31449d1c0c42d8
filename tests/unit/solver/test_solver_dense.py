"""Dense blocked LU and Cholesky: agreement with LAPACK, singularity, memory."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from solver_worker.solver import InputError, NotPositiveDefiniteError, SingularMatrixError, solve
from solver_worker.solver.dense import blocked_lu
from solver_worker.solver.progress import ProgressReporter


def _random_matrix(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, n))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 90), block_size=st.integers(1, 40), seed=st.integers(0, 2**32 - 1))
def test_blocked_lu_matches_lapack_factors(n, block_size, seed):
    matrix = _random_matrix(n, seed)
    work = np.array(matrix, order="F")
    pivots, _ = blocked_lu(work, ProgressReporter(None, None, 1.0), block_size)
    expected, expected_pivots = scipy.linalg.lu_factor(matrix)

    assert np.array_equal(pivots, expected_pivots)
    assert np.max(np.abs(work - expected)) <= 1e-12 * max(1.0, np.max(np.abs(expected)))


@pytest.mark.parametrize("block_size", [1, 7, 64, 500])
def test_lu_solution_matches_lapack(block_size):
    matrix = _random_matrix(300, 1)
    rhs = np.random.default_rng(2).standard_normal(300)
    result = solve(matrix, rhs, method="lu", block_size=block_size)
    expected = scipy.linalg.lu_solve(scipy.linalg.lu_factor(matrix), rhs)
    lapack_residual = np.max(np.abs(matrix @ expected - rhs)) / (
        np.max(np.abs(matrix).sum(axis=1)) * np.max(np.abs(expected)) + np.max(np.abs(rhs))
    )

    assert result.method == "lu"
    assert result.relative_residual <= max(10 * lapack_residual, 1e-15)
    assert np.linalg.norm(result.x - expected) / np.linalg.norm(expected) <= result.condition_estimate * 1e-14


def test_lu_condition_estimate_near_exact():
    matrix = _random_matrix(120, 3)
    exact = np.linalg.cond(matrix, 1)
    result = solve(matrix, np.ones(120), method="lu")
    assert exact / 3 <= result.condition_estimate <= exact * 1.0001


def test_lu_input_left_unchanged():
    matrix = _random_matrix(50, 4)
    original = matrix.copy()
    solve(matrix, np.ones(50), method="lu")
    assert np.array_equal(matrix, original)


def test_cholesky_matches_lapack():
    factor = _random_matrix(200, 5)
    matrix = factor @ factor.T + 200 * np.eye(200)
    matrix = np.tril(matrix) + np.tril(matrix, -1).T
    rhs = np.ones(200)
    result = solve(matrix, rhs, method="cholesky", block_size=48)
    expected = scipy.linalg.cho_solve(scipy.linalg.cho_factor(matrix), rhs)

    assert result.method == "cholesky"
    assert np.linalg.norm(result.x - expected) / np.linalg.norm(expected) < 1e-12
    assert result.relative_residual < 1e-15


def test_cholesky_rejects_indefinite():
    matrix = np.array([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(NotPositiveDefiniteError, match="leading minor of order 2"):
        solve(matrix, np.ones(2), method="cholesky")


def test_cholesky_rejects_nonsymmetric():
    matrix = np.array([[2.0, 1.0], [0.0, 2.0]])
    with pytest.raises(NotPositiveDefiniteError, match="needs a symmetric matrix"):
        solve(matrix, np.ones(2), method="cholesky")


def test_auto_falls_back_from_cholesky_to_lu():
    matrix = np.array([[1.0, 2.0], [2.0, 1.0]])
    result = solve(matrix, np.array([3.0, 3.0]))
    assert result.method == "lu"
    assert "Cholesky failed" in result.method_reason
    assert np.allclose(result.x, [1.0, 1.0])


def test_lu_exact_zero_pivot_raises_singular():
    matrix = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    with pytest.raises(SingularMatrixError, match=r"pivot [23] is 0"):
        solve(matrix, np.ones(3), method="lu")


def test_lu_numerically_singular_raises():
    rng = np.random.default_rng(6)
    left = rng.standard_normal((80, 79))
    matrix = left @ rng.standard_normal((79, 80))
    with pytest.raises(SingularMatrixError, match="below n \\* eps"):
        solve(matrix, np.ones(80), method="lu")


def test_lu_zero_row_raises_singular():
    matrix = np.eye(3)
    matrix[1, 1] = 0.0
    with pytest.raises(SingularMatrixError, match="row 2 is all zeros"):
        solve(matrix, np.ones(3), method="lu")


def test_ill_conditioned_answer_warns():
    matrix = scipy.linalg.hilbert(9)
    result = solve(matrix, matrix @ np.ones(9), method="lu")
    assert result.condition_estimate > 1e11
    assert any("significant digits" in warning for warning in result.warnings)


def test_badly_scaled_matrix_is_equilibrated():
    matrix = np.diag([1e-200, 1.0, 1e200]) @ _random_matrix(3, 7)
    result = solve(matrix, matrix @ np.ones(3), method="lu")
    assert result.equilibrated
    assert np.allclose(result.x, 1.0, rtol=1e-10)


def test_solve_rejects_complex_matrix():
    with pytest.raises(InputError, match="complex-valued matrices are not supported"):
        solve(np.eye(2, dtype=complex), np.ones(2))


def test_solve_rejects_non_finite_matrix():
    matrix = np.eye(3)
    matrix[2, 1] = np.inf
    with pytest.raises(InputError, match="A\\[2, 1\\] is inf"):
        solve(matrix, np.ones(3))


def test_solve_rejects_shape_mismatch():
    with pytest.raises(InputError, match="A has 3 rows but b has 2 entries"):
        solve(np.eye(3), np.ones(2))


def test_solve_rejects_non_square_lu():
    with pytest.raises(InputError, match="use method='lstsq'"):
        solve(np.ones((3, 2)), np.ones(3), method="lu")


def test_solve_rejects_unknown_method():
    with pytest.raises(InputError, match="unknown method 'qr'"):
        solve(np.eye(2), np.ones(2), method="qr")


def test_lstsq_rank_deficient_gives_minimum_norm():
    matrix = np.array([[1.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    result = solve(matrix, np.array([2.0, 2.0, 0.0]), method="lstsq")
    assert result.rank == 1
    assert np.allclose(result.x, [1.0, 1.0])


def test_lstsq_inconsistent_reports_residual():
    matrix = np.array([[1.0], [1.0]])
    result = solve(matrix, np.array([0.0, 2.0]))
    assert result.method == "lstsq"
    assert result.x.tolist() == pytest.approx([1.0])
    assert result.residual_norm == pytest.approx(np.sqrt(2.0))
    assert any("inconsistent" in warning for warning in result.warnings)


MEMORY_SCRIPT = textwrap.dedent(
    """
    import numpy as np
    from solver_worker.solver import solve

    def status_bytes(key):
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError(key + " missing from /proc/self/status")

    n = {n}
    solve(np.random.default_rng(1).standard_normal((300, 300)), np.ones(300), method="lu")
    matrix = np.random.default_rng(0).standard_normal((n, n))
    rhs = np.ones(n)
    # Writing 5 to clear_refs resets the peak RSS (VmHWM) to the current RSS, so
    # neither earlier temporaries nor the parent's peak inherited at fork count.
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    baseline = status_bytes("VmRSS")
    result = solve(matrix, rhs, method="lu")
    peak = status_bytes("VmHWM")
    print((peak - baseline) / matrix.nbytes, result.peak_memory_bytes / matrix.nbytes)
    """
)


def test_lu_peak_memory_below_bound():
    completed = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT.format(n=2000)], capture_output=True, text=True, check=True, timeout=120
    )
    measured_ratio, sampled_ratio = (float(value) for value in completed.stdout.split())
    assert 0.9 < measured_ratio < 1.25
    assert 0.9 < sampled_ratio < 1.25
