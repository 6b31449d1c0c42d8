"""Seeded test-problem generators."""

from __future__ import annotations

from typing import Literal

import numpy as np
import scipy.linalg
import scipy.sparse
from pydantic import BaseModel, ConfigDict, Field

from .limits import DEFAULT_LIMITS, Limits

GeneratorKind = Literal["random_dense", "random_spd", "diagonally_dominant", "poisson2d", "hilbert"]


class GeneratorSpec(BaseModel):
    """Recipe for a generated system ``A x = b``.

    ``n`` is the matrix order, except for ``poisson2d`` where it is the grid
    side m and the matrix order is m * m. The same spec gives the same system
    bit for bit with the same NumPy version, because every random number
    comes from ``numpy.random.default_rng(seed)`` (PCG64).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: GeneratorKind
    n: int = Field(ge=1, description="matrix order; for poisson2d the grid side m (order m * m)")
    seed: int = Field(default=0, ge=0, description="seed of numpy.random.default_rng")

    @property
    def order(self) -> int:
        """Number of unknowns of the generated system."""
        return self.n * self.n if self.kind == "poisson2d" else self.n


def generate(spec: GeneratorSpec, *, limits: Limits | None = None) -> tuple[np.ndarray | scipy.sparse.csr_array, np.ndarray]:
    """Build ``(A, b)`` for ``spec``; ``b`` is standard normal from the same seed.

    Raises ``ProblemTooLargeError`` before allocating a system beyond ``limits``.
    """
    limits = limits or DEFAULT_LIMITS
    rng = np.random.default_rng(spec.seed)
    order = spec.order
    if spec.kind == "poisson2d":
        limits.check_shape(order, order, name="A")
        limits.check_nnz(5 * order, name="A")
        matrix = poisson2d(spec.n)
    else:
        limits.check_dense(order, order, name="A")
        matrix = _DENSE_BUILDERS[spec.kind](order, rng)
    rhs = rng.standard_normal(order)
    return matrix, rhs


def poisson2d(m: int) -> scipy.sparse.csr_array:
    """Return the 5-point Laplacian on an m x m grid with Dirichlet boundary (4 on the diagonal, -1 off it)."""
    ones = np.ones(m)
    second_difference = scipy.sparse.diags_array([-ones[:-1], 2 * ones, -ones[:-1]], offsets=[-1, 0, 1])
    identity = scipy.sparse.eye_array(m)
    matrix = scipy.sparse.kron(second_difference, identity) + scipy.sparse.kron(identity, second_difference)
    return scipy.sparse.csr_array(matrix)


def _random_dense(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal((n, n))


def _random_spd(n: int, rng: np.random.Generator) -> np.ndarray:
    """Return G G^T / n + I for a standard normal G, exactly symmetric, eigenvalues above 1."""
    factor = rng.standard_normal((n, n))
    matrix = factor @ factor.T
    matrix /= n
    matrix[np.diag_indices(n)] += 1.0
    lower = np.tril_indices(n, -1) if n <= 2048 else None
    if lower is not None:
        matrix[lower] = matrix.T[lower]
    else:
        for j in range(0, n, 512):
            block = matrix[j:, j : j + 512]
            matrix[j : j + 512, j:] = block.T
    return matrix


def _diagonally_dominant(n: int, rng: np.random.Generator) -> np.ndarray:
    """Return a nonsymmetric matrix with |a_ii| > sum of |a_ij| (j != i) in every row."""
    matrix = rng.uniform(-1.0, 1.0, size=(n, n))
    matrix[np.diag_indices(n)] = 0.0
    matrix[np.diag_indices(n)] = np.abs(matrix).sum(axis=1) + 1.0
    return matrix


def _hilbert(n: int, rng: np.random.Generator) -> np.ndarray:
    return scipy.linalg.hilbert(n)


_DENSE_BUILDERS = {
    "random_dense": _random_dense,
    "random_spd": _random_spd,
    "diagonally_dominant": _diagonally_dominant,
    "hilbert": _hilbert,
}
