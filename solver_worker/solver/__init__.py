"""Solver core: parse, generate and solve linear systems A x = b with progress and cancellation.

This package needs only NumPy, SciPy, psutil and pydantic. It does not use
Kafka, HTTP or databases.
"""

from .errors import (
    ConvergenceError,
    InputError,
    NotPositiveDefiniteError,
    ProblemTooLargeError,
    SingularMatrixError,
    SolveCancelledError,
    SolverError,
)
from .generators import GeneratorSpec, generate
from .limits import Limits
from .parsing import parse_matrix, parse_vector
from .progress import CancelToken, Progress
from .result import SolveResult
from .solve import METHODS, solve

__all__ = [
    "METHODS",
    "CancelToken",
    "ConvergenceError",
    "GeneratorSpec",
    "InputError",
    "Limits",
    "NotPositiveDefiniteError",
    "ProblemTooLargeError",
    "Progress",
    "SingularMatrixError",
    "SolveCancelledError",
    "SolveResult",
    "SolverError",
    "generate",
    "parse_matrix",
    "parse_vector",
    "solve",
]
