"""Validate a submitted problem with the solver library's parsers and decide where its data travels.

Everything that can be checked without solving is checked here: formats,
shapes, finiteness, sizes against the limits, the method against the shape.
Small inputs travel inline in the event; larger ones go to the blob store
first, so the event only carries their sha256, size and format.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.io
import scipy.sparse

from command_api.errors import InvalidTaskError
from common.blobs import BlobStore, StoredBlob
from schemas.events import BlobRef, InlineMatrix, ProblemInput, SolveOptions
from schemas.problem import GeneratorSpec
from solver_worker.solver import METHODS, InputError, Limits, parse_matrix, parse_vector

log = logging.getLogger(__name__)

ITERATIVE_METHODS = ("cg", "gmres", "bicgstab")
# Bytes one float takes in the event's JSON, about; used to decide inline or blob without serializing.
JSON_BYTES_PER_VALUE = 24
UPLOAD_FORMATS = {"mtx": "mtx", "csv": "csv", "npy": "npy", "json": "json", "txt": "csv"}


@dataclass
class PreparedProblem:
    """A validated problem: the event's input section and the figures the read side shows."""

    input: ProblemInput
    rows: int
    cols: int
    nnz: int | None
    is_sparse: bool
    created_blobs: list[StoredBlob] = field(default_factory=list)


@dataclass
class ParsedPart:
    value: Any  # numpy array or scipy sparse array
    original: bytes | None = None
    original_format: str | None = None


def limits_from(settings) -> Limits:
    return Limits(max_rows=settings.max_rows, max_cols=settings.max_rows, max_nnz=settings.max_nnz,
                  max_dense_bytes=settings.max_dense_bytes)


def check_method(method: str, options: SolveOptions) -> None:
    """Raise InvalidTaskError for an unknown method or a preconditioner on a direct method."""
    if method not in METHODS:
        raise InvalidTaskError(f"method {method!r} is unknown; use one of {', '.join(METHODS)}",
                               extra={"field": "method", "value": method})
    if options.preconditioner is not None and method not in ITERATIVE_METHODS:
        raise InvalidTaskError(
            f"preconditioner {options.preconditioner!r} applies only to cg, gmres and bicgstab, not to method "
            f"{method!r}; drop the preconditioner or choose an iterative method",
            extra={"field": "options.preconditioner", "value": options.preconditioner})


def check_generator(spec: GeneratorSpec, limits: Limits) -> None:
    """Raise ProblemTooLargeError for a generator spec beyond the limits, before anything is built."""
    order = spec.order
    if spec.kind == "poisson2d":
        limits.check_shape(order, order, name="A")
        limits.check_nnz(5 * order, name="A")
    else:
        limits.check_dense(order, order, name="A")


def parse_json_matrix(data: Any, limits: Limits) -> ParsedPart:
    if isinstance(data, dict):
        return ParsedPart(coo_to_csr(data, limits))
    return ParsedPart(parse_matrix(data, "json", name="A", limits=limits))


def coo_to_csr(data: dict, limits: Limits) -> scipy.sparse.csr_array:
    """Build a CSR array from `{format: "coo", shape, rows, cols, values}` (0-based indices)."""
    shape = data.get("shape")
    if not (isinstance(shape, list) and len(shape) == 2 and all(isinstance(v, int) and v > 0 for v in shape)):
        raise InputError(f"A.shape is {shape!r}; send [rows, cols] as two positive integers", field="A.shape",
                         value=repr(shape))
    rows, cols = shape
    limits.check_shape(rows, cols, name="A")
    arrays = {}
    for key in ("rows", "cols", "values"):
        entries = data.get(key)
        if not isinstance(entries, list):
            raise InputError(f"A.{key} is missing or not a list; send one entry per stored value", field=f"A.{key}")
        arrays[key] = entries
    lengths = {key: len(entries) for key, entries in arrays.items()}
    if len(set(lengths.values())) != 1:
        raise InputError(f"A.rows, A.cols and A.values have different lengths {lengths}; send one row index, "
                         "one column index and one value per stored entry", field="A", value=str(lengths))
    limits.check_nnz(lengths["values"], name="A")
    row_index = _index_array(arrays["rows"], rows, "A.rows")
    col_index = _index_array(arrays["cols"], cols, "A.cols")
    values = parse_vector(arrays["values"], "json", name="A.values", limits=limits) if arrays["values"] else np.zeros(0)
    flat = row_index.astype(np.int64) * cols + col_index
    unique, counts = np.unique(flat, return_counts=True)
    if (counts > 1).any():
        repeated = int(unique[np.argmax(counts > 1)])
        raise InputError(f"A has entry ({repeated // cols}, {repeated % cols}) more than once; send each "
                         "position once (duplicates would be summed)", field="A", value=repeated)
    return scipy.sparse.csr_array((values, (row_index, col_index)), shape=(rows, cols))


def _index_array(entries: list, bound: int, name: str) -> np.ndarray:
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in entries):
        bad = next(v for v in entries if not isinstance(v, int) or isinstance(v, bool))
        raise InputError(f"{name} contains {bad!r}; indices must be integers from 0", field=name, value=repr(bad))
    array = np.asarray(entries, dtype=np.int64)
    if array.size and (array.min() < 0 or array.max() >= bound):
        bad = int(array[(array < 0) | (array >= bound)][0])
        raise InputError(f"{name} contains {bad}, outside 0..{bound - 1}; indices are 0-based", field=name,
                         value=bad)
    return array


def parse_upload(data: bytes, filename: str | None, explicit_format: str | None, *, name: str, vector: bool,
                 limits: Limits) -> ParsedPart:
    """Parse an uploaded file; the format is `explicit_format` or the file name's extension."""
    fmt = explicit_format or _extension(filename)
    if fmt is None:
        raise InputError(f"cannot tell the format of file {name} ({filename!r}); name it .mtx, .csv, .npy or "
                         f".json, or set the form field {name.lower()}_format", field=name, value=filename)
    fmt = UPLOAD_FORMATS.get(fmt, fmt)
    parser = parse_vector if vector else parse_matrix
    return ParsedPart(parser(data, fmt, name=name, limits=limits), data, fmt)


def _extension(filename: str | None) -> str | None:
    if not filename or "." not in filename:
        return None
    return filename.rsplit(".", 1)[1].lower()


def check_system(a: Any, b: np.ndarray, method: str) -> None:
    """Raise InvalidTaskError when b does not fit A or the method needs a square A."""
    rows, cols = a.shape
    if b.shape[0] != rows:
        raise InvalidTaskError(f"A has {rows} rows but b has {b.shape[0]} entries; b needs one entry per row of A",
                               extra={"field": "b", "value": int(b.shape[0])})
    if rows != cols and method not in ("auto", "lstsq"):
        raise InvalidTaskError(f"A is {rows} x {cols}, but method {method!r} needs a square matrix; use "
                               "method 'lstsq' (or 'auto') for a least-squares solution",
                               extra={"field": "method", "value": method})


class ProblemStore:
    """Turns parsed parts into the event's input: inline when small, otherwise a durable blob."""

    def __init__(self, blobs: BlobStore, inline_max_bytes: int) -> None:
        self.blobs = blobs
        self.inline_max_bytes = inline_max_bytes

    def prepare(self, a: ParsedPart, b: ParsedPart) -> PreparedProblem:
        created: list[StoredBlob] = []
        try:
            part_a = self._place(a, created, vector=False)
            part_b = self._place(b, created, vector=True)
        except BaseException:
            self.discard(created)
            raise
        kind = "blob" if isinstance(part_a, BlobRef) or isinstance(part_b, BlobRef) else "inline"
        sparse = scipy.sparse.issparse(a.value)
        rows, cols = a.value.shape
        return PreparedProblem(ProblemInput(kind=kind, a=part_a, b=part_b), rows, cols,
                               int(a.value.nnz) if sparse else None, sparse, created)

    def discard(self, created: list[StoredBlob]) -> None:
        """Delete blobs this request created, because the event that refers to them was not written."""
        # NOTE: a concurrent request with identical content that found the blob already stored would lose
        # it here. The window is the few milliseconds between its put and this delete.
        for blob in created:
            if blob.created:
                self.blobs.delete(blob.sha256)

    def _place(self, part: ParsedPart, created: list[StoredBlob], *, vector: bool) -> InlineMatrix | BlobRef:
        value = part.value
        stored_values = value.nnz * 3 if scipy.sparse.issparse(value) else value.size
        if stored_values * JSON_BYTES_PER_VALUE <= self.inline_max_bytes:
            return _inline(value)
        data, fmt = (part.original, part.original_format) if part.original is not None else _serialize(value)
        stored = self.blobs.put(data)
        created.append(stored)
        return BlobRef(sha256=stored.sha256, size=stored.size, format=fmt)


def _inline(value) -> InlineMatrix:
    if scipy.sparse.issparse(value):
        coo = value.tocoo()
        return InlineMatrix(format="coo", shape=tuple(int(v) for v in coo.shape), values=coo.data.tolist(),
                            rows=coo.row.tolist(), cols=coo.col.tolist())
    return InlineMatrix(format="dense", shape=tuple(int(v) for v in value.shape), values=value.tolist())


def _serialize(value) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    if scipy.sparse.issparse(value):
        scipy.io.mmwrite(buffer, scipy.sparse.coo_array(value))
        return buffer.getvalue(), "mtx"
    np.save(buffer, np.ascontiguousarray(value, dtype=np.float64), allow_pickle=False)
    return buffer.getvalue(), "npy"
