"""JSON and CSV parsers for dense matrices and vectors."""

from __future__ import annotations

import json
import re

import numpy as np

from ._tokens import NUMBER, check_finite_value, invalid_token_error
from .errors import InputError
from .limits import Limits

_CSV_ROW_RE = re.compile(rf"[ \t]*{NUMBER}[ \t]*(?:,[ \t]*{NUMBER}[ \t]*)*")
_WORD_RE = re.compile(r"[A-Za-z_]")
_NON_FINITE_WORD_RE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)


def decode_text(data: bytes | str, *, name: str) -> str:
    """Decode UTF-8 bytes (an optional byte-order mark is dropped) or pass text through."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{name}: invalid UTF-8 at byte {error.start}; send the file as UTF-8 or ASCII text",
            value=error.start,
            field=name,
        ) from error


def parse_json(data: bytes | str | list, *, name: str, limits: Limits) -> np.ndarray:
    """Parse a JSON list of numbers (a vector) or a list of equal-length rows (a matrix)."""
    if isinstance(data, list):
        document = data
    else:
        text = decode_text(data, name=name)
        if text.strip() == "":
            raise InputError(f"{name} is empty; send a JSON list of rows such as [[4, 1], [1, 3]]", field=name)

        def reject_constant(token: str) -> float:
            raise InputError(
                f"{name}: non-finite value {token} is not allowed; replace it with a finite number",
                value=token,
                field=name,
            )

        try:
            document = json.loads(text, parse_constant=reject_constant)
        except json.JSONDecodeError as error:
            raise InputError(
                f"{name}: invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}; "
                "send a list of rows such as [[4, 1], [1, 3]]",
                line=error.lineno,
                field=name,
            ) from error

    if not isinstance(document, list):
        raise InputError(
            f"{name}: expected a JSON list, got {type(document).__name__}; send a list of rows such as [[4, 1], [1, 3]]",
            value=type(document).__name__,
            field=name,
        )
    if len(document) == 0:
        raise InputError(f"{name} is empty; send at least one row", field=name)
    if isinstance(document[0], list):
        return _json_matrix(document, name=name, limits=limits)
    limits.check_dense(len(document), 1, name=name)
    _check_json_numbers(document, name=name, row=None)
    return _json_to_array(document, name=name)


def _json_matrix(document: list, *, name: str, limits: Limits) -> np.ndarray:
    cols = len(document[0])
    limits.check_dense(len(document), cols, name=name)
    if cols == 0:
        raise InputError(f"{name}[0] is an empty row; every row needs at least one number", field=name)
    for index, row in enumerate(document):
        if not isinstance(row, list):
            raise InputError(
                f"{name}[{index}] is {_json_repr(row)}, not a row; every entry of the outer list must be a list of numbers",
                value=_json_repr(row),
                field=name,
            )
        if len(row) != cols:
            raise InputError(
                f"{name}[{index}] has {len(row)} entries but row 0 has {cols}; every row needs the same length",
                value=len(row),
                field=name,
            )
        _check_json_numbers(row, name=name, row=index)
    return _json_to_array(document, name=name)


def _check_json_numbers(values: list, *, name: str, row: int | None) -> None:
    if all(type(value) is float or type(value) is int for value in values):
        return
    for index, value in enumerate(values):
        if type(value) is float or type(value) is int:
            continue
        location = f"{name}[{index}]" if row is None else f"{name}[{row}][{index}]"
        hint = "write numbers without quotes" if isinstance(value, str) else "every entry must be a number"
        if isinstance(value, list):
            hint = "a vector is a flat list of numbers and a matrix a list of rows"
        raise InputError(
            f"{location} is {_json_repr(value)}, not a number; {hint}",
            value=_json_repr(value),
            field=name,
        )


def _json_repr(value: object) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _json_to_array(document: list, *, name: str) -> np.ndarray:
    try:
        array = np.array(document, dtype=np.float64)
    except OverflowError as error:
        raise InputError(
            f"{name}: an integer is too large for float64 (the largest magnitude is about 1.8e308); rescale the system",
            field=name,
        ) from error
    finite = np.isfinite(array)
    if not finite.all():
        position = tuple(int(i) for i in np.argwhere(~finite)[0])
        index = "".join(f"[{i}]" for i in position)
        if np.isnan(array[position]):
            problem = "is NaN; every entry must be a finite number"
        else:
            problem = ("is infinite or overflows float64 (the largest magnitude is about 1.8e308); "
                       "use finite values or rescale the system")
        raise InputError(f"{name}{index} {problem}", field=name, value=str(array[position]))
    return array


def parse_csv(data: bytes | str, *, name: str, limits: Limits) -> np.ndarray:
    """Parse comma-separated rows of decimal numbers into a 2-D float64 array.

    One row per line; spaces and tabs around a value are allowed. A single
    final newline is allowed, but blank lines, header rows, quoted fields,
    semicolons and decimal commas are rejected with the line number.
    """
    text = decode_text(data, name=name)
    lines = text.splitlines()
    if not lines or all(line.strip() == "" for line in lines):
        raise InputError(f"{name} is empty; send one row of comma-separated numbers per line", field=name)

    cols = None
    rows: list[np.ndarray] = []
    for number, line in enumerate(lines, start=1):
        if _CSV_ROW_RE.fullmatch(line):
            parts = line.split(",")
        else:
            _raise_csv_line_error(line, number, name=name, expected_cols=cols)
        if cols is None:
            cols = len(parts)
            limits.check_dense(len(lines), cols, name=name)
        elif len(parts) != cols:
            raise InputError(
                f"{name}, line {number}: {len(parts)} values but line 1 has {cols}; every row needs the same "
                "number of values (decimal commas such as 4,5 also split a value in two)",
                line=number,
                value=len(parts),
                field=name,
            )
        values = np.array([float(part) for part in parts], dtype=np.float64)
        if not np.isfinite(values).all():
            column = int(np.argmin(np.isfinite(values)))
            check_finite_value(values[column], parts[column].strip(), name=name, line=number, column=column + 1)
        rows.append(values)
    return np.vstack(rows)


def _raise_csv_line_error(line: str, number: int, *, name: str, expected_cols: int | None) -> None:
    if line.strip() == "":
        raise InputError(
            f"{name}, line {number} is empty; remove blank lines (only one final newline is allowed)",
            line=number,
            field=name,
        )
    if ";" in line:
        raise InputError(
            f"{name}, line {number}: ';' is not a separator here; separate values with ',' and write decimals "
            "with '.' (4.5, not 4,5)",
            line=number,
            value=line.strip()[:40],
            field=name,
        )
    if '"' in line or "'" in line:
        raise InputError(
            f"{name}, line {number}: quoted fields are not supported; write plain numbers with a decimal point "
            "(4.5, not \"4,5\")",
            line=number,
            value=line.strip()[:40],
            field=name,
        )
    tokens = line.split(",")
    is_header = any(_WORD_RE.search(token) for token in tokens) and not any(
        re.fullmatch(rf"[ \t]*{NUMBER}[ \t]*", token) or _NON_FINITE_WORD_RE.fullmatch(token.strip())
        for token in tokens
    )
    if number == 1 and is_header:
        raise InputError(
            f"{name}, line 1 looks like a header row ({line.strip()[:40]!r}); remove it, only numbers are allowed",
            line=1,
            value=line.strip()[:40],
            field=name,
        )
    for column, token in enumerate(tokens, start=1):
        if not re.fullmatch(rf"[ \t]*{NUMBER}[ \t]*", token):
            raise invalid_token_error(token, name=name, line=number, column=column)
    raise AssertionError("unreachable: a line that fails the row pattern has an invalid token")
