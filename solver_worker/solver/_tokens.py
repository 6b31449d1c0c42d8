"""Strict number tokens shared by the text parsers.

Python's ``float()`` also accepts ``nan``, ``inf``, ``1_000`` and surrounding
whitespace, so every token is matched against ``NUMBER`` before conversion.
"""

from __future__ import annotations

import math
import re

from .errors import InputError

# A decimal number with optional sign, fraction and exponent: 4, -4., .5, -.5, 1E-3.
NUMBER = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
INTEGER = r"[+-]?[0-9]+"
NUMBER_RE = re.compile(NUMBER)
_NON_FINITE_RE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)
_DECIMAL_COMMA_RE = re.compile(r"[+-]?[0-9]*,[0-9]+(?:[eE][+-]?[0-9]+)?")


def _where(name: str, line: int | None, column: int | None) -> str:
    where = name
    if line is not None:
        where += f", line {line}"
    if column is not None:
        where += f", column {column}"
    return where


def invalid_token_error(
    token: str,
    *,
    name: str,
    line: int | None = None,
    column: int | None = None,
    expected: str = "a decimal number such as 4.5 or -1e-3",
) -> InputError:
    """Build the ``InputError`` that explains why ``token`` is not an accepted number."""
    where = _where(name, line, column)
    stripped = token.strip()
    if stripped == "":
        message = (
            f"{where}: empty field where a number is expected "
            "(a trailing separator or two separators in a row); remove the separator or fill in the value"
        )
    elif _NON_FINITE_RE.fullmatch(stripped):
        message = f"{where}: non-finite value {stripped!r} is not allowed; replace it with a finite number"
    elif _DECIMAL_COMMA_RE.fullmatch(stripped):
        message = (
            f"{where}: {stripped!r} uses a decimal comma; write the number with a decimal point "
            f"({stripped.replace(',', '.')!r})"
        )
    else:
        message = f"{where}: {stripped!r} is not a complete number; expected {expected}"
    return InputError(message, line=line, value=stripped, field=name)


def parse_number(token: str, *, name: str, line: int | None = None, column: int | None = None) -> float:
    """Convert one strict decimal token to a finite float64, or raise ``InputError``."""
    stripped = token.strip()
    if not NUMBER_RE.fullmatch(stripped):
        raise invalid_token_error(token, name=name, line=line, column=column)
    value = float(stripped)
    check_finite_value(value, stripped, name=name, line=line, column=column)
    return value


def check_finite_value(
    value: float, token: str, *, name: str, line: int | None = None, column: int | None = None
) -> None:
    """Raise ``InputError`` when a parsed ``value`` overflowed float64."""
    if not math.isfinite(value):
        raise InputError(
            f"{_where(name, line, column)}: {token!r} overflows float64 (the largest magnitude is about 1.8e308); "
            "rescale the system",
            line=line,
            value=token,
            field=name,
        )
