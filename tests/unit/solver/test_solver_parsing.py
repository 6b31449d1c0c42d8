"""Parsers: accepted formats, Matrix Market quirks and the bad-input catalogue."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest
import scipy.sparse
from tests.unit.solver.bad_inputs import BAD_INPUT_CASES
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from solver_worker.solver import InputError, Limits, ProblemTooLargeError, parse_matrix, parse_vector


@pytest.mark.parametrize(("description", "fmt", "data", "fragment"), BAD_INPUT_CASES,
                         ids=[case[0] for case in BAD_INPUT_CASES])
def test_parse_matrix_rejects_bad_input(description, fmt, data, fragment):
    with pytest.raises(InputError) as caught:
        parse_matrix(data, fmt)
    assert fragment in str(caught.value)


def test_parse_json_nested_list():
    matrix = parse_matrix([[4, 1], [1.5, 3]], "json")
    assert matrix.dtype == np.float64
    assert matrix.tolist() == [[4.0, 1.0], [1.5, 3.0]]


def test_parse_json_text_and_bytes_agree():
    text = "[[4, 1e-3], [-.5e2, 3]]".replace("-.5e2", "-0.5e2")
    assert np.array_equal(parse_matrix(text, "json"), parse_matrix(text.encode(), "json"))


def test_parse_csv_allows_spaces_and_final_newline():
    matrix = parse_matrix(b" 1, -.5 \r\n2.5E1,\t4\n", "csv")
    assert matrix.tolist() == [[1.0, -0.5], [25.0, 4.0]]


def test_parse_csv_error_has_line_and_value():
    with pytest.raises(InputError) as caught:
        parse_matrix(b"1,2\n3,4.5abc\n", "csv")
    assert caught.value.line == 2
    assert caught.value.value == "4.5abc"
    assert caught.value.field == "A"


def test_parse_mtx_error_has_line():
    with pytest.raises(InputError) as caught:
        parse_matrix(b"%%MatrixMarket matrix coordinate real general\n% c\n2 2 2\n\n1 1 1\n9 9 1\n", "mtx")
    assert caught.value.line == 6


def test_parse_mtx_comments_after_size_line():
    text = (
        "%%MatrixMarket matrix coordinate real general\n% head\n2 2 3\n\n% comment after the size line\n"
        "1 1 -.5\n\n2 2 1E2\n  2   1   3\n\n"
    )
    matrix = parse_matrix(text, "mtx")
    assert scipy.sparse.issparse(matrix)
    assert matrix.toarray().tolist() == [[-0.5, 0.0], [3.0, 100.0]]


def test_parse_mtx_symmetric_expands():
    text = "%%MatrixMarket matrix coordinate real symmetric\n2 2 2\n1 1 2\n2 1 -1\n"
    assert parse_matrix(text, "mtx").toarray().tolist() == [[2.0, -1.0], [-1.0, 0.0]]


def test_parse_mtx_skew_symmetric_expands():
    text = "%%MatrixMarket matrix coordinate integer skew-symmetric\n2 2 1\n2 1 3\n"
    assert parse_matrix(text, "mtx").toarray().tolist() == [[0.0, -3.0], [3.0, 0.0]]


def test_parse_mtx_real_hermitian_is_symmetric():
    text = "%%MatrixMarket matrix coordinate real Hermitian\n2 2 2\n1 1 2\n2 1 5\n"
    assert parse_matrix(text, "mtx").toarray().tolist() == [[2.0, 5.0], [5.0, 0.0]]


def test_parse_mtx_pattern_reads_ones():
    text = "%%MatrixMarket matrix coordinate pattern general\n2 2 2\n1 2\n2 1\n"
    assert parse_matrix(text, "mtx").toarray().tolist() == [[0.0, 1.0], [1.0, 0.0]]


def test_parse_mtx_array_is_column_major_dense():
    text = "%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n"
    matrix = parse_matrix(text, "mtx")
    assert isinstance(matrix, np.ndarray)
    assert matrix.tolist() == [[1.0, 3.0], [2.0, 4.0]]


def test_parse_mtx_array_symmetric():
    text = "%%MatrixMarket matrix array real symmetric\n2 2\n1\n2\n3\n"
    assert parse_matrix(text, "mtx").tolist() == [[1.0, 2.0], [2.0, 3.0]]


def test_parse_mtx_tiny_values_survive():
    text = "%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 3.3e-306\n2 2 4.9e-324\n"
    matrix = parse_matrix(text, "mtx")
    assert matrix.dtype == np.float64
    assert matrix[0, 0] == float("3.3e-306")
    assert matrix[1, 1] == float("4.9e-324")


def test_parse_mtx_file_with_values_below_float32_range(matrix_folder):
    data = (matrix_folder / "adder_dcop_05.mtx").read_bytes()
    matrix = parse_matrix(data, "mtx")
    smallest = np.abs(matrix.data[matrix.data != 0]).min()
    assert smallest < np.finfo(np.float32).tiny
    assert smallest == pytest.approx(3.3e-306, rel=0.02)


def test_parse_mtx_jumbled_file_that_mmread_rejects(matrix_folder):
    matrix = parse_matrix((matrix_folder / "west0067_jumbled.mtx").read_bytes(), "mtx")
    assert matrix.shape == (67, 67)
    assert matrix.nnz == 294


def test_parse_mtx_leading_whitespace_file(matrix_folder):
    matrix = parse_matrix((matrix_folder / "pts5ldd03.mtx").read_bytes(), "mtx")
    assert matrix.shape == (161, 161)
    assert matrix.nnz == 745


@pytest.mark.parametrize("name", ["w156.mtx", "GD99_cc.mtx", "cha.mtx"])
def test_parse_mtx_complex_file_rejected(matrix_folder, name):
    with pytest.raises(InputError) as caught:
        parse_matrix((matrix_folder / name).read_bytes(), "mtx")
    assert "complex-valued matrices are not supported" in str(caught.value)
    assert caught.value.line == 1


def test_parse_npy_float32_upcast_exactly():
    buffer = io.BytesIO()
    source = np.array([[0.1, 2.0], [3.0, 4.0]], dtype=np.float32)
    np.save(buffer, source)
    matrix = parse_matrix(buffer.getvalue(), "npy")
    assert matrix.dtype == np.float64
    assert np.array_equal(matrix, source.astype(np.float64))


def test_parse_vector_shapes():
    assert parse_vector([1, 2, 3], "json").shape == (3,)
    assert parse_vector([[1], [2], [3]], "json").shape == (3,)
    assert parse_vector(b"1\n2\n3\n", "csv").tolist() == [1.0, 2.0, 3.0]
    assert parse_vector(b"1,2,3\n", "csv").tolist() == [1.0, 2.0, 3.0]
    assert parse_vector(b"%%MatrixMarket matrix array real general\n2 1\n5\n6\n", "mtx").tolist() == [5.0, 6.0]


def test_parse_vector_rejects_matrix():
    with pytest.raises(InputError, match="a vector is expected"):
        parse_vector([[1, 2], [3, 4]], "json")


def test_parse_vector_shipped_rhs(matrix_folder):
    vector = parse_vector((matrix_folder / "simple-solver_b.mtx").read_bytes(), "mtx")
    assert vector.shape == (19,)
    assert np.all(vector == 1.0)


def test_limits_dense_bytes_raise_too_large():
    with pytest.raises(ProblemTooLargeError, match="needs 32 bytes"):
        parse_matrix([[1, 2], [3, 4]], "json", limits=Limits(max_dense_bytes=16))


def test_limits_nnz_raise_too_large():
    text = "%%MatrixMarket matrix coordinate real general\n3 3 3\n1 1 1\n2 2 1\n3 3 1\n"
    with pytest.raises(ProblemTooLargeError, match="more than the limit of 2"):
        parse_matrix(text, "mtx", limits=Limits(max_nnz=2))


def test_limits_rows_raise_too_large():
    with pytest.raises(ProblemTooLargeError, match="3 rows"):
        parse_matrix(b"1\n2\n3\n", "csv", limits=Limits(max_rows=2))


finite_matrices = hnp.arrays(
    np.float64,
    st.tuples(st.integers(1, 6), st.integers(1, 6)),
    elements=st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=True),
)


@settings(max_examples=60, deadline=None)
@given(finite_matrices)
def test_parse_roundtrip_is_exact(matrix):
    csv_text = "\n".join(",".join(repr(float(value)) for value in row) for row in matrix) + "\n"
    json_text = json.dumps(matrix.tolist())
    rows, cols = matrix.shape
    entries = "\n".join(f"{i + 1} {j + 1} {float(matrix[i, j])!r}" for i in range(rows) for j in range(cols))
    mtx_text = f"%%MatrixMarket matrix coordinate real general\n{rows} {cols} {rows * cols}\n{entries}\n"
    buffer = io.BytesIO()
    np.save(buffer, matrix)

    assert np.array_equal(parse_matrix(csv_text, "csv"), matrix)
    assert np.array_equal(parse_matrix(json_text, "json"), matrix)
    assert np.array_equal(parse_matrix(mtx_text, "mtx").toarray(), matrix)
    assert np.array_equal(parse_matrix(buffer.getvalue(), "npy"), matrix)


@pytest.mark.parametrize(("value", "message"), [(float("nan"), "A[0][1] is NaN"),
                                                (float("inf"), "A[0][1] is infinite or overflows")])
def test_parse_decoded_json_names_non_finite(value, message):
    with pytest.raises(InputError, match=re.escape(message)):
        parse_matrix([[1.0, value], [3.0, 4.0]], "json")
