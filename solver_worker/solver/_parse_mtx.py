"""Matrix Market parser: a strict validation pass, then ``scipy.io.mmread``.

``scipy.io.mmread`` (SciPy 1.17, fast_matrix_market) reads valid files fast
but is not a validator. It fails on some valid files, such as one with a
comment or blank line after the size line ("Line 6: Invalid integer value").
It also does not report every invalid token with its line. So every line is
checked here first: the banner, the size line, the count of entries, each
index and each value. Comment and blank lines are then dropped and mmread reads the cleaned
text, which contains the same entries as the user's file.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import numpy as np
import scipy.io
import scipy.sparse

from ._parse_text import decode_text
from ._tokens import INTEGER, NUMBER, check_finite_value, invalid_token_error
from .errors import InputError, SolverError
from .limits import Limits

_FORMATS = ("coordinate", "array")
_FIELDS = ("real", "double", "integer", "pattern", "complex")
_SYMMETRIES = ("general", "symmetric", "skew-symmetric", "hermitian")
_BLANK_OR_COMMENT_RE = re.compile(r"^[ \t]*(?:%[^\n]*)?$", re.MULTILINE)
_SPACE = "[ \t]"
_UNSIGNED_RE = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class _Header:
    format: str
    field: str
    symmetry: str
    rows: int
    cols: int
    entries: int
    size_line: int

    @property
    def values_per_line(self) -> int:
        """Return the tokens on one data line: a value, or row and column with a value unless pattern."""
        if self.format == "array":
            return 1
        if self.field == "pattern":
            return 2
        return 3


def parse_matrix_market(data: bytes | str, *, name: str, limits: Limits) -> np.ndarray | scipy.sparse.csr_array:
    """Parse Matrix Market text: coordinate files become CSR arrays, array files dense arrays."""
    text = decode_text(data, name=name).replace("\r\n", "\n")
    if text.strip() == "":
        raise InputError(f"{name} is empty; send a Matrix Market file starting with %%MatrixMarket", field=name)
    lines = text.split("\n")
    header = _parse_header(lines, name=name, limits=limits)
    data_lines = lines[header.size_line :]

    clean = "\n".join(line for line in data_lines if not _BLANK_OR_COMMENT_RE.fullmatch(line))
    _validate_data_lines(clean, data_lines, header, name=name)
    values = _load_values(clean, header)
    _check_entries(values, data_lines, header, name=name)
    return _read_with_mmread(clean, header, values.shape[0], name=name)


def _parse_header(lines: list[str], *, name: str, limits: Limits) -> _Header:
    banner = lines[0].split()
    if len(banner) != 5 or banner[0] != "%%MatrixMarket":
        raise InputError(
            f"{name}, line 1: expected the banner '%%MatrixMarket matrix coordinate real general', "
            f"got {lines[0][:60]!r}; start the file with a Matrix Market banner",
            line=1,
            value=lines[0][:60],
            field=name,
        )
    kind, fmt, field, symmetry = (token.lower() for token in banner[1:])
    _check_banner_word(kind, ("matrix",), "object", name=name)
    _check_banner_word(fmt, _FORMATS, "format", name=name)
    _check_banner_word(field, _FIELDS, "field", name=name)
    _check_banner_word(symmetry, _SYMMETRIES, "symmetry", name=name)
    if field == "complex":
        raise InputError(
            f"{name}, line 1: complex-valued matrices are not supported (field 'complex'); "
            "convert to the real 2n x 2n system [[Re A, -Im A], [Im A, Re A]] [Re x; Im x] = [Re b; Im b], "
            "or send the real part only if the imaginary part is zero",
            line=1,
            value="complex",
            field=name,
        )
    if fmt == "array" and field == "pattern":
        raise InputError(
            f"{name}, line 1: the field 'pattern' is only valid with the format 'coordinate'; "
            "use 'coordinate pattern' or send the values",
            line=1,
            value="array pattern",
            field=name,
        )

    size_index = 1
    while size_index < len(lines) and _BLANK_OR_COMMENT_RE.fullmatch(lines[size_index]):
        size_index += 1
    if size_index == len(lines):
        raise InputError(
            f"{name}: the size line is missing after the banner; add 'rows columns entries' "
            "(coordinate) or 'rows columns' (array)",
            field=name,
        )
    size_tokens = lines[size_index].split()
    expected = 3 if fmt == "coordinate" else 2
    if len(size_tokens) != expected or not all(_UNSIGNED_RE.fullmatch(token) for token in size_tokens):
        layout = "rows columns entries" if fmt == "coordinate" else "rows columns"
        raise InputError(
            f"{name}, line {size_index + 1}: the size line must hold {expected} non-negative integers "
            f"({layout}), got {lines[size_index].strip()[:60]!r}",
            line=size_index + 1,
            value=lines[size_index].strip()[:60],
            field=name,
        )
    rows, cols = int(size_tokens[0]), int(size_tokens[1])
    if rows == 0 or cols == 0:
        raise InputError(
            f"{name}, line {size_index + 1}: the matrix is {rows} x {cols}, which is empty; send at least one row "
            "and one column",
            line=size_index + 1,
            value=f"{rows} {cols}",
            field=name,
        )
    if symmetry != "general" and rows != cols:
        raise InputError(
            f"{name}, line {size_index + 1}: a {symmetry} matrix must be square, but the size is {rows} x {cols}; "
            "declare it 'general' or fix the size",
            line=size_index + 1,
            value=f"{rows} {cols}",
            field=name,
        )

    if fmt == "coordinate":
        entries = int(size_tokens[2])
        limits.check_shape(rows, cols, name=name)
        limits.check_nnz(entries if symmetry == "general" else 2 * entries, name=name)
    else:
        limits.check_dense(rows, cols, name=name)
        entries = _array_entry_count(rows, cols, symmetry)
    return _Header(fmt, "real" if field == "double" else field, symmetry, rows, cols, entries, size_index + 1)


def _check_banner_word(word: str, allowed: tuple[str, ...], what: str, *, name: str) -> None:
    if word not in allowed:
        raise InputError(
            f"{name}, line 1: unknown Matrix Market {what} {word!r}; use one of {', '.join(allowed)}",
            line=1,
            value=word,
            field=name,
        )


def _array_entry_count(rows: int, cols: int, symmetry: str) -> int:
    """Return how many values an array-format file stores (one triangle unless general)."""
    if symmetry == "general":
        return rows * cols
    if symmetry == "skew-symmetric":
        return rows * (rows - 1) // 2
    return rows * (rows + 1) // 2


def _line_pattern(header: _Header) -> str:
    value = INTEGER if header.field == "integer" else NUMBER
    if header.format == "array":
        return rf"{_SPACE}*{value}{_SPACE}*"
    if header.field == "pattern":
        return rf"{_SPACE}*[0-9]+{_SPACE}+[0-9]+{_SPACE}*"
    return rf"{_SPACE}*[0-9]+{_SPACE}+[0-9]+{_SPACE}+{value}{_SPACE}*"


def _validate_data_lines(clean: str, data_lines: list[str], header: _Header, *, name: str) -> None:
    """Check every data line against the token layout of the header; one regex pass when all are valid."""
    line_re = _line_pattern(header)
    if clean == "" or re.fullmatch(rf"(?:{line_re}\n)*{line_re}", clean):
        return
    single = re.compile(line_re)
    for offset, line in enumerate(data_lines):
        if _BLANK_OR_COMMENT_RE.fullmatch(line) or single.fullmatch(line):
            continue
        _raise_line_error(line, header.size_line + offset + 1, header, name=name)
    raise AssertionError("unreachable: the data section failed the pattern but no line did")


def _raise_line_error(line: str, number: int, header: _Header, *, name: str) -> None:
    tokens = line.split()
    expected = header.values_per_line
    if len(tokens) != expected:
        layout = {1: "one value", 2: "row and column", 3: "row, column and value"}[expected]
        raise InputError(
            f"{name}, line {number}: expected {expected} fields ({layout}) for a {header.format} {header.field} "
            f"file, got {len(tokens)}: {line.strip()[:60]!r}",
            line=number,
            value=line.strip()[:60],
            field=name,
        )
    if header.format == "coordinate":
        for token, what in zip(tokens[:2], ("row", "column"), strict=True):
            if not _UNSIGNED_RE.fullmatch(token):
                raise InputError(
                    f"{name}, line {number}: {what} index {token!r} is not a positive integer; "
                    "Matrix Market indices are 1-based integers",
                    line=number,
                    value=token,
                    field=name,
                )
    value = tokens[-1]
    if header.field == "integer" and re.fullmatch(NUMBER, value):
        raise InputError(
            f"{name}, line {number}: {value!r} is not an integer but the banner declares the field 'integer'; "
            "declare the field 'real' or write whole numbers",
            line=number,
            value=value,
            field=name,
        )
    raise invalid_token_error(value, name=name, line=number)


def _load_values(clean: str, header: _Header) -> np.ndarray:
    if clean == "":
        return np.empty((0, header.values_per_line), dtype=np.float64)
    return np.loadtxt(io.StringIO(clean), dtype=np.float64, ndmin=2)


def _data_line_number(data_lines: list[str], header: _Header, entry: int) -> int:
    """Return the 1-based file line of the data entry with 0-based index ``entry``."""
    seen = -1
    for offset, line in enumerate(data_lines):
        if not _BLANK_OR_COMMENT_RE.fullmatch(line):
            seen += 1
            if seen == entry:
                return header.size_line + offset + 1
    return header.size_line + len(data_lines)


def _check_entries(values: np.ndarray, data_lines: list[str], header: _Header, *, name: str) -> None:
    count = values.shape[0]
    if count != header.entries:
        where = "coordinate entries" if header.format == "coordinate" else "values"
        line = _data_line_number(data_lines, header, header.entries) if count > header.entries else None
        raise InputError(
            f"{name}: the size line (line {header.size_line}) declares {header.entries} {where} but the file "
            f"has {count}; fix the count on the size line or the missing or extra lines",
            line=line if line is not None else header.size_line,
            value=count,
            field=name,
        )

    finite = np.isfinite(values[:, -1])
    if not finite.all():
        entry = int(np.argmin(finite))
        line = _data_line_number(data_lines, header, entry)
        check_finite_value(float(values[entry, -1]), data_lines[line - header.size_line - 1].split()[-1],
                           name=name, line=line)
    if header.format == "coordinate" and count > 0:
        _check_indices(values[:, 0], values[:, 1], data_lines, header, name=name)


def _check_indices(rows: np.ndarray, cols: np.ndarray, data_lines: list[str], header: _Header, *, name: str) -> None:
    def fail(entry: int, problem: str, fix: str) -> None:
        line = _data_line_number(data_lines, header, entry)
        entry_text = f"({int(rows[entry])}, {int(cols[entry])})"
        raise InputError(f"{name}, line {line}: entry {entry_text} {problem}; {fix}", line=line,
                         value=entry_text, field=name)

    bad = (rows < 1) | (rows > header.rows)
    if bad.any():
        fail(int(np.argmax(bad)), f"has a row index outside 1..{header.rows}", "fix the index or the size line")
    bad = (cols < 1) | (cols > header.cols)
    if bad.any():
        fail(int(np.argmax(bad)), f"has a column index outside 1..{header.cols}", "fix the index or the size line")
    if header.symmetry in ("symmetric", "hermitian"):
        bad = rows < cols
        if bad.any():
            fail(int(np.argmax(bad)), f"is above the diagonal in a {header.symmetry} file",
                 "store only the lower triangle (row >= column) or declare the matrix 'general'")
    if header.symmetry == "skew-symmetric":
        bad = rows <= cols
        if bad.any():
            fail(int(np.argmax(bad)), "is on or above the diagonal in a skew-symmetric file",
                 "store only the strict lower triangle (row > column) or declare the matrix 'general'")

    linear = (rows.astype(np.int64) - 1) * header.cols + (cols.astype(np.int64) - 1)
    order = np.argsort(linear, kind="stable")
    repeated = np.flatnonzero(linear[order][1:] == linear[order][:-1])
    if repeated.size:
        first, second = sorted((int(order[repeated[0]]), int(order[repeated[0] + 1])))
        first_line = _data_line_number(data_lines, header, first)
        fail(second, f"repeats the entry on line {first_line}",
             "list each position once (the reader would add the two values)")


def _read_with_mmread(
    clean: str, header: _Header, count: int, *, name: str
) -> np.ndarray | scipy.sparse.csr_array:
    # A real Hermitian matrix is symmetric, and mmread reads 'symmetric' on every version.
    symmetry = "symmetric" if header.symmetry == "hermitian" else header.symmetry
    size = f"{header.rows} {header.cols}" + (f" {count}" if header.format == "coordinate" else "")
    normalized = f"%%MatrixMarket matrix {header.format} {header.field} {symmetry}\n{size}\n{clean}\n"
    matrix = scipy.io.mmread(io.BytesIO(normalized.encode("ascii")), spmatrix=False)
    if matrix.shape != (header.rows, header.cols):
        raise SolverError(f"{name}: scipy.io.mmread returned shape {matrix.shape}, expected "
                          f"{(header.rows, header.cols)}; this is a parser bug")
    if header.format == "array":
        return np.asarray(matrix, dtype=np.float64)
    return scipy.sparse.csr_array(matrix, dtype=np.float64)
