"""Seeded generators and the auto method choice on their output."""

from __future__ import annotations

import numpy as np
import pydantic
import pytest
import scipy.sparse

from solver_worker.solver import GeneratorSpec, Limits, ProblemTooLargeError, SingularMatrixError, generate, solve

KINDS = ["random_dense", "random_spd", "diagonally_dominant", "poisson2d", "hilbert"]


def _as_dense(matrix):
    return matrix.toarray() if scipy.sparse.issparse(matrix) else matrix


@pytest.mark.parametrize("kind", KINDS)
def test_generate_reproducible(kind):
    spec = GeneratorSpec(kind=kind, n=12, seed=7)
    first_matrix, first_rhs = generate(spec)
    second_matrix, second_rhs = generate(GeneratorSpec.model_validate_json(spec.model_dump_json()))

    assert np.array_equal(_as_dense(first_matrix), _as_dense(second_matrix))
    assert np.array_equal(first_rhs, second_rhs)


def test_generate_seed_changes_output():
    first, _ = generate(GeneratorSpec(kind="random_dense", n=5, seed=1))
    second, _ = generate(GeneratorSpec(kind="random_dense", n=5, seed=2))
    assert not np.array_equal(first, second)


def test_generate_poisson_uses_grid_side():
    matrix, rhs = generate(GeneratorSpec(kind="poisson2d", n=6))
    assert matrix.shape == (36, 36)
    assert rhs.shape == (36,)
    assert matrix.diagonal().tolist() == [4.0] * 36
    assert (matrix - matrix.T).nnz == 0


def test_generate_spd_exactly_symmetric_and_auto_cholesky():
    matrix, rhs = generate(GeneratorSpec(kind="random_spd", n=300, seed=2))
    result = solve(matrix, rhs)
    assert np.array_equal(matrix, matrix.T)
    assert result.method == "cholesky"
    assert result.relative_residual < 1e-15


def test_generate_diagonally_dominant_rows():
    matrix, _ = generate(GeneratorSpec(kind="diagonally_dominant", n=40, seed=3))
    off_diagonal = np.abs(matrix).sum(axis=1) - np.abs(np.diag(matrix))
    assert np.all(np.abs(np.diag(matrix)) > off_diagonal)


def test_generate_large_hilbert_is_singular():
    matrix, rhs = generate(GeneratorSpec(kind="hilbert", n=14))
    with pytest.raises(SingularMatrixError, match="singular to working precision"):
        solve(matrix, rhs)


def test_generate_respects_limits():
    with pytest.raises(ProblemTooLargeError):
        generate(GeneratorSpec(kind="random_dense", n=100), limits=Limits(max_dense_bytes=1000))


def test_generator_spec_rejects_unknown_kind():
    with pytest.raises(pydantic.ValidationError):
        GeneratorSpec(kind="magic", n=3)


def test_generator_spec_rejects_zero_size():
    with pytest.raises(pydantic.ValidationError):
        GeneratorSpec(kind="hilbert", n=0)


def test_auto_reason_for_sparse():
    matrix, rhs = generate(GeneratorSpec(kind="poisson2d", n=40))
    result = solve(matrix, rhs)
    assert result.method == "splu"
    assert "SuperLU" in result.method_reason
    assert "minimum degree" in result.method_reason
