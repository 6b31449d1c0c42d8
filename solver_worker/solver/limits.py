"""Size limits that parsers and generators enforce before allocating memory."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ProblemTooLargeError


@dataclass(frozen=True)
class Limits:
    """Maximum sizes of one input; callers pass their configured values.

    The defaults admit a dense 20000 x 20000 float64 matrix (3.2 GB) and a
    sparse matrix with 20 million stored entries.
    """

    max_rows: int = 5_000_000
    max_cols: int = 5_000_000
    max_nnz: int = 20_000_000
    max_dense_bytes: int = 20_000 * 20_000 * 8

    def check_shape(self, rows: int, cols: int, *, name: str) -> None:
        """Raise ``ProblemTooLargeError`` when ``rows`` or ``cols`` exceeds its limit."""
        if rows > self.max_rows:
            raise ProblemTooLargeError(
                f"{name} has {rows} rows, more than the limit of {self.max_rows}; "
                "split the problem or ask for a higher row limit",
                value=rows,
                field=name,
            )
        if cols > self.max_cols:
            raise ProblemTooLargeError(
                f"{name} has {cols} columns, more than the limit of {self.max_cols}; "
                "split the problem or ask for a higher column limit",
                value=cols,
                field=name,
            )

    def check_dense(self, rows: int, cols: int, *, name: str) -> None:
        """Raise ``ProblemTooLargeError`` when a dense ``rows`` x ``cols`` float64 array is too big."""
        self.check_shape(rows, cols, name=name)
        size = rows * cols * 8
        if size > self.max_dense_bytes:
            raise ProblemTooLargeError(
                f"{name} is {rows} x {cols}, which needs {size} bytes as a dense float64 array, "
                f"more than the limit of {self.max_dense_bytes} bytes; "
                "send it as a sparse Matrix Market file (coordinate format) or reduce its size",
                value=size,
                field=name,
            )

    def check_nnz(self, nnz: int, *, name: str) -> None:
        """Raise ``ProblemTooLargeError`` when a sparse matrix stores more than ``max_nnz`` entries."""
        if nnz > self.max_nnz:
            raise ProblemTooLargeError(
                f"{name} has {nnz} stored entries, more than the limit of {self.max_nnz}; "
                "reduce the number of nonzeros or ask for a higher limit",
                value=nnz,
                field=name,
            )


DEFAULT_LIMITS = Limits()
