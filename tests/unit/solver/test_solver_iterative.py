"""Iterative methods, preconditioners and their failures."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse

from solver_worker.solver import (
    ConvergenceError,
    GeneratorSpec,
    InputError,
    NotPositiveDefiniteError,
    generate,
    solve,
)


def _convection_diffusion(m: int) -> scipy.sparse.csr_array:
    """Return a nonsymmetric 2-D convection-diffusion matrix (upwind, Peclet number 0.5)."""
    ones = np.ones(m)
    one_dimension = scipy.sparse.diags_array([-1.5 * ones[:-1], 2 * ones, -0.5 * ones[:-1]], offsets=[-1, 0, 1])
    identity = scipy.sparse.eye_array(m)
    return scipy.sparse.csr_array(scipy.sparse.kron(one_dimension, identity) + scipy.sparse.kron(identity, one_dimension))


@pytest.mark.parametrize("method", ["cg", "gmres", "bicgstab"])
@pytest.mark.parametrize("preconditioner", [None, "jacobi", "ilu"])
def test_iterative_poisson_converges(method, preconditioner):
    matrix, rhs = generate(GeneratorSpec(kind="poisson2d", n=25, seed=2))
    result = solve(matrix, rhs, method=method, preconditioner=preconditioner, tol=1e-10)
    exact = scipy.sparse.linalg.spsolve(scipy.sparse.csc_array(matrix), rhs)

    assert result.method == method
    assert result.residual_history[-1] <= 1e-10
    assert result.iterations == len(result.residual_history)
    assert np.linalg.norm(result.x - exact) / np.linalg.norm(exact) < 1e-7
    assert result.relative_residual < 1e-10


@pytest.mark.parametrize("method", ["gmres", "bicgstab"])
@pytest.mark.parametrize("preconditioner", [None, "ilu"])
def test_iterative_nonsymmetric_converges(method, preconditioner):
    matrix = _convection_diffusion(20)
    rhs = matrix @ np.ones(400)
    result = solve(matrix, rhs, method=method, preconditioner=preconditioner, tol=1e-12)
    assert np.max(np.abs(result.x - 1.0)) < 1e-8


def test_iterative_ilu_reduces_iterations():
    matrix, rhs = generate(GeneratorSpec(kind="poisson2d", n=30))
    plain = solve(matrix, rhs, method="cg")
    preconditioned = solve(matrix, rhs, method="bicgstab", preconditioner="ilu")
    assert preconditioned.iterations < plain.iterations / 5


def test_cg_with_ilu_warns_about_symmetry():
    matrix, rhs = generate(GeneratorSpec(kind="poisson2d", n=10))
    result = solve(matrix, rhs, method="cg", preconditioner="ilu")
    assert any("not symmetric" in warning for warning in result.warnings)


@pytest.mark.parametrize("method", ["cg", "gmres", "bicgstab"])
def test_iterative_max_iter_raises_convergence(method):
    matrix, rhs = generate(GeneratorSpec(kind="poisson2d", n=30))
    with pytest.raises(ConvergenceError) as caught:
        solve(matrix, rhs, method=method, max_iter=3)
    assert caught.value.residual > 1e-10
    assert caught.value.iterations <= 3 or method == "gmres"
    assert "best achieved" in str(caught.value)


def test_cg_indefinite_raises():
    matrix = scipy.sparse.csr_array(np.diag([1.0, -1.0, 2.0]))
    with pytest.raises(NotPositiveDefiniteError, match="p'Ap"):
        solve(matrix, np.ones(3), method="cg")


def test_jacobi_zero_diagonal_raises():
    matrix = scipy.sparse.csr_array(np.array([[0.0, 1.0], [1.0, 0.0]]))
    with pytest.raises(InputError, match="nonzero diagonal"):
        solve(matrix, np.ones(2), method="gmres", preconditioner="jacobi")


def test_iterative_zero_rhs_gives_zero():
    matrix, _ = generate(GeneratorSpec(kind="poisson2d", n=5))
    result = solve(matrix, np.zeros(25), method="cg")
    assert np.all(result.x == 0.0)
    assert result.iterations == 0


def test_preconditioner_with_direct_method_rejected():
    with pytest.raises(InputError, match="applies only to cg, gmres and bicgstab"):
        solve(np.eye(2), np.ones(2), method="lu", preconditioner="jacobi")


def test_iterative_on_dense_input():
    matrix, rhs = generate(GeneratorSpec(kind="random_spd", n=60, seed=4))
    result = solve(matrix, rhs, method="cg", preconditioner="jacobi")
    assert result.relative_residual < 1e-10
