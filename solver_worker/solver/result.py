"""The outcome of one solve."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

COMPLEXITY = {
    "lu": {"time": "O(n^3)", "memory": "O(n^2)", "flops": "2/3 n^3 + 2 n^2"},
    "cholesky": {"time": "O(n^3)", "memory": "O(n^2)", "flops": "1/3 n^3 + 2 n^2"},
    "lstsq": {"time": "O(m n min(m, n))", "memory": "O(m n)", "flops": "SVD-based (LAPACK gelsd)"},
    "lstsq-lsmr": {"time": "O(k nnz)", "memory": "O(nnz + m + n)", "flops": "about 4 nnz per iteration"},
    "splu": {"time": "O(flops of the fill-in)", "memory": "O(nnz(L + U))", "flops": "sum of l_k (1 + 2 u_k)"},
    "cg": {"time": "O(k nnz)", "memory": "O(nnz + n)", "flops": "about 2 nnz + 10 n per iteration"},
    "gmres": {"time": "O(k nnz + k restart n)", "memory": "O(nnz + restart n)", "flops": "about 2 nnz per iteration"},
    "bicgstab": {"time": "O(k nnz)", "memory": "O(nnz + n)", "flops": "about 4 nnz + 10 n per iteration"},
}


@dataclass
class SolveResult:
    """Solution of ``A x = b`` with the measures needed to judge it.

    ``relative_residual`` is the normwise backward error
    ``||A x - b|| / (||A|| ||x|| + ||b||)`` in the infinity norm.
    ``condition_estimate`` is an estimate of the 1-norm condition number of the
    user's ``A``, or None with the reason in ``warnings``. For least squares it
    is the 2-norm condition, from the singular values or from LSMR.
    """

    x: np.ndarray
    method: str
    method_reason: str
    relative_residual: float
    residual_norm: float
    condition_estimate: float | None
    rank: int | None = None
    warnings: list[str] = field(default_factory=list)
    iterations: int | None = None
    residual_history: list[float] = field(default_factory=list)
    flops: float = 0.0
    elapsed_s: float = 0.0
    gflops: float = 0.0
    peak_memory_bytes: int = 0
    complexity: str = ""
    equilibrated: bool = False

    def to_dict(self) -> dict[str, object]:
        """Return every field except ``x`` as JSON-friendly values, plus ``complexity_detail``."""
        data = {item.name: getattr(self, item.name) for item in fields(self) if item.name != "x"}
        data["warnings"] = list(self.warnings)
        data["residual_history"] = list(self.residual_history)
        data["complexity_detail"] = COMPLEXITY.get(self.method, {})
        return data
