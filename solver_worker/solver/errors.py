"""Errors raised by the solver core.

``InputError`` and its subclasses describe something the user must change in
the request (the HTTP layer maps them to 422, ``ProblemTooLargeError`` to 413).
The others describe the outcome of a solve on valid input.
"""

from __future__ import annotations


class SolverError(Exception):
    """Base class of every error the solver core raises on purpose."""


class InputError(SolverError):
    """Invalid input that the user must fix: a parse error, a bad shape or value.

    ``line`` is the 1-based line of the offending text, ``value`` the offending
    token or number, and ``field`` the name of the input (``"A"``, ``"b"``) or a
    parameter.
    """

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        value: object = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.value = value
        self.field = field

    def to_dict(self) -> dict[str, object]:
        """Return the message and location as JSON-friendly values."""
        value = self.value if isinstance(self.value, (int, float, str)) or self.value is None else repr(self.value)
        return {"message": self.message, "line": self.line, "value": value, "field": self.field}


class ProblemTooLargeError(InputError):
    """Input whose size exceeds the configured ``Limits``."""


class NotPositiveDefiniteError(InputError):
    """Cholesky was requested for a matrix that is not symmetric positive definite."""


class SingularMatrixError(SolverError):
    """Matrix that is singular, exactly or to working precision.

    ``pivot`` is the 1-based index of a zero pivot when one was found, and
    ``rcond`` the reciprocal condition estimate when the matrix was rejected on it.
    """

    def __init__(self, message: str, *, pivot: int | None = None, rcond: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.pivot = pivot
        self.rcond = rcond


class ConvergenceError(SolverError):
    """Iterative method that did not reach the tolerance within ``max_iter`` iterations."""

    def __init__(self, message: str, *, iterations: int, residual: float, tol: float) -> None:
        super().__init__(message)
        self.message = message
        self.iterations = iterations
        self.residual = residual
        self.tol = tol


class SolveCancelledError(SolverError):
    """Solve stopped because its cancel token was set."""
