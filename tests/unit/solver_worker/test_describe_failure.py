"""Failure messages for users: the solver's own advice is not repeated."""

from solver_worker.child import describe_failure
from solver_worker.solver import SingularMatrixError


def test_singular_message_keeps_solver_advice():
    message = "matrix is singular to working precision: pivot 3 is 0; use method='lstsq' instead"

    code, text, _ = describe_failure(SingularMatrixError(message, pivot=3, rcond=0.0))

    assert code == "singular_matrix"
    assert text == message


def test_singular_message_gets_advice():
    code, text, details = describe_failure(SingularMatrixError("matrix is singular", pivot=3, rcond=0.0))

    assert code == "singular_matrix"
    assert text.startswith("matrix is singular; check A for dependent rows or columns")
    assert text.count("lstsq") == 1
    assert details == {"pivot": 3, "rcond": 0.0}
