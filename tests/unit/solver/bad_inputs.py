"""Catalogue of invalid inputs with the message fragment each must produce.

Each case is (description, fmt, data, expected fragment of the error message).
``parse_matrix(data, fmt)`` must raise ``InputError`` whose message contains
the fragment; the HTTP API tests reuse this list for 422 responses.
"""

from __future__ import annotations

import io

import numpy as np


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _npz() -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, a=np.eye(2))
    return buffer.getvalue()


def _object_npy() -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.array([[1, "x"]], dtype=object), allow_pickle=True)
    return buffer.getvalue()


_MTX = "%%MatrixMarket matrix coordinate real general\n"

BAD_INPUT_CASES: list[tuple[str, str, bytes, str]] = [
    # CSV
    ("csv decimal comma quoted", "csv", b'"4,5","1"\n"2","3"\n', "quoted fields"),
    ("csv semicolon separator", "csv", b"4,5;1\n2;3\n", "';' is not a separator"),
    ("csv trailing comma", "csv", b"1,2,\n3,4,\n", "line 1, column 3: empty field"),
    ("csv ragged rows", "csv", b"1,2\n3,4,5\n", "line 2: 3 values but line 1 has 2"),
    ("csv header row", "csv", b"x,y\n1,2\n", "line 1 looks like a header row"),
    ("csv empty line inside", "csv", b"1,2\n\n3,4\n", "line 2 is empty"),
    ("csv number with letters", "csv", b"1,4.5abc\n3,4\n", "'4.5abc' is not a complete number"),
    ("csv nan", "csv", b"1,nan\n3,4\n", "non-finite value 'nan'"),
    ("csv inf", "csv", b"1,2\n-inf,4\n", "line 2, column 1: non-finite value '-inf'"),
    ("csv overflow", "csv", b"1,1e999\n3,4\n", "overflows float64"),
    ("csv empty", "csv", b"", "is empty"),
    ("csv underscore digits", "csv", b"1_000,2\n3,4\n", "'1_000' is not a complete number"),
    ("csv invalid utf-8", "csv", b"1,2\n\xff,4\n", "invalid UTF-8"),
    # JSON
    ("json NaN constant", "json", b"[[1, NaN], [2, 3]]", "non-finite value NaN"),
    ("json Infinity constant", "json", b"[[1, 2], [Infinity, 3]]", "non-finite value Infinity"),
    ("json ragged rows", "json", b"[[1, 2], [3]]", "A[1] has 1 entries but row 0 has 2"),
    ("json string number", "json", b'[[1, "2"], [3, 4]]', 'A[0][1] is "2", not a number'),
    ("json boolean", "json", b"[[1, true], [3, 4]]", "A[0][1] is true, not a number"),
    ("json null", "json", b"[[1, null], [3, 4]]", "A[0][1] is null, not a number"),
    ("json syntax error", "json", b"[[1, 2], [3, 4]", "invalid JSON at line 1"),
    ("json trailing comma", "json", b"[[1, 2,], [3, 4]]", "invalid JSON"),
    ("json empty list", "json", b"[]", "is empty"),
    ("json object", "json", b'{"a": 1}', "expected a JSON list, got dict"),
    ("json overflow", "json", b"[[1, 1e999], [3, 4]]", "A[0][1] is infinite or overflows float64"),
    ("json NaN", "json", b"[[1, NaN], [3, 4]]", "non-finite value NaN is not allowed"),
    ("json vector for matrix", "json", b"[1, 2, 3]", "a matrix is expected"),
    # Matrix Market
    ("mtx missing banner", "mtx", b"2 2 1\n1 1 1.0\n", "expected the banner"),
    ("mtx unknown field", "mtx", b"%%MatrixMarket matrix coordinate quaternion general\n1 1 1\n1 1 1\n",
     "unknown Matrix Market field 'quaternion'"),
    ("mtx complex field", "mtx", b"%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1 0\n",
     "complex-valued matrices are not supported"),
    ("mtx too few entries", "mtx", (_MTX + "2 2 3\n1 1 1\n2 2 1\n").encode(), "declares 3 coordinate entries but the file has 2"),
    ("mtx too many entries", "mtx", (_MTX + "2 2 1\n1 1 1\n2 2 1\n").encode(), "declares 1 coordinate entries but the file has 2"),
    ("mtx row index out of range", "mtx", (_MTX + "2 2 2\n1 1 1\n3 2 1\n").encode(), "line 4: entry (3, 2) has a row index outside 1..2"),
    ("mtx column index zero", "mtx", (_MTX + "2 2 2\n1 1 1\n2 0 1\n").encode(), "line 4: entry (2, 0) has a column index outside 1..2"),
    ("mtx decimal comma", "mtx", (_MTX + "2 2 2\n1 1 4,5\n2 2 1\n").encode(), "line 3: '4,5' uses a decimal comma"),
    ("mtx value with letters", "mtx", (_MTX + "2 2 2\n1 1 4.5abc\n2 2 1\n").encode(), "line 3: '4.5abc' is not a complete number"),
    ("mtx nan value", "mtx", (_MTX + "2 2 2\n1 1 nan\n2 2 1\n").encode(), "line 3: non-finite value 'nan'"),
    ("mtx inf value", "mtx", (_MTX + "2 2 2\n1 1 1\n2 2 Inf\n").encode(), "line 4: non-finite value 'Inf'"),
    ("mtx overflow value", "mtx", (_MTX + "2 2 2\n1 1 1\n2 2 1e400\n").encode(), "line 4: '1e400' overflows float64"),
    ("mtx fractional index", "mtx", (_MTX + "2 2 2\n1 1 1\n2.0 2 1\n").encode(), "line 4: row index '2.0' is not a positive integer"),
    ("mtx missing value", "mtx", (_MTX + "2 2 2\n1 1\n2 2 1\n").encode(), "line 3: expected 3 fields"),
    ("mtx duplicate entry", "mtx", (_MTX + "2 2 3\n1 1 1\n2 2 1\n1 1 5\n").encode(), "line 5: entry (1, 1) repeats the entry on line 3"),
    ("mtx upper triangle in symmetric", "mtx",
     b"%%MatrixMarket matrix coordinate real symmetric\n2 2 2\n1 1 1\n1 2 1\n", "is above the diagonal in a symmetric file"),
    ("mtx diagonal in skew-symmetric", "mtx",
     b"%%MatrixMarket matrix coordinate real skew-symmetric\n2 2 1\n1 1 1\n", "on or above the diagonal in a skew-symmetric"),
    ("mtx real value in integer field", "mtx",
     b"%%MatrixMarket matrix coordinate integer general\n1 1 1\n1 1 1.5\n", "'1.5' is not an integer"),
    ("mtx bad size line", "mtx", (_MTX + "2 x 2\n").encode(), "the size line must hold 3 non-negative integers"),
    ("mtx missing size line", "mtx", (_MTX + "% only a comment\n").encode(), "the size line is missing"),
    ("mtx zero size", "mtx", (_MTX + "0 0 0\n").encode(), "which is empty"),
    ("mtx array too few values", "mtx", b"%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n", "declares 4 values but the file has 3"),
    ("mtx array pattern", "mtx", b"%%MatrixMarket matrix array pattern general\n1 1\n", "only valid with the format 'coordinate'"),
    ("mtx non-square symmetric", "mtx", b"%%MatrixMarket matrix coordinate real symmetric\n2 3 0\n", "must be square"),
    ("mtx empty", "mtx", b"   \n", "is empty"),
    # NPY
    ("npy complex", "npy", _npy(np.eye(2, dtype=np.complex128)), "complex-valued matrices are not supported"),
    ("npy object dtype", "npy", _object_npy(), "unsupported dtype object"),
    ("npy string dtype", "npy", _npy(np.array([["a", "b"]])), "unsupported dtype <U1"),
    ("npy boolean dtype", "npy", _npy(np.eye(2, dtype=bool)), "unsupported dtype bool"),
    ("npy nan", "npy", _npy(np.array([[1.0, np.nan], [0.0, 1.0]])), "A[0, 1]: non-finite value nan"),
    ("npy three dimensions", "npy", _npy(np.zeros((2, 2, 2))), "the array has 3 dimensions"),
    ("npy npz archive", "npy", _npz(), ".npz archive is not supported"),
    ("npy not npy", "npy", b"1,2\n3,4\n", "not a .npy file"),
    ("npy empty array", "npy", _npy(np.zeros((0, 3))), "is empty"),
    ("npy empty bytes", "npy", b"", "is empty"),
    ("npy vector for matrix", "npy", _npy(np.ones(3)), "a matrix is expected"),
    # Format
    ("unknown format", "xlsx", b"1", "unknown format 'xlsx'"),
]
