"""Every real test matrix of MANIFEST.tsv solved with b = A 1 and checked against its listed properties.

Forward error ||x - 1|| / ||1|| is checked only where cond1 * eps <= 1e-6,
against the bound 100 * cond1 * eps (the usual first-order bound cond * eps
with a margin for the estimate and the dimension).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from tests.unit.solver.conftest import manifest_rows

from solver_worker.solver import InputError, SingularMatrixError, parse_matrix, parse_vector, solve

EPS = np.finfo(np.float64).eps
ROWS = manifest_rows()
DENSE_LU_MAX_N = 2500


def _rows(predicate) -> list:
    selected = [row for row in ROWS if predicate(row)]
    return [pytest.param(row, id=row["file"]) for row in selected] or [pytest.param(None, id="no-matrices")]


def _is_vector(row) -> bool:
    return row["cols"] == "1"


def _is_singular(row) -> bool:
    return "SINGULAR" in row["note"]


def _is_regular(row) -> bool:
    return row["field"] != "complex" and row["rows"] == row["cols"] and not _is_singular(row)


def _load(folder, row):
    if row is None:
        pytest.fail("MANIFEST.tsv not found: place shared/data/matrices beside the checkout or set SCT_MATRICES_DIR")
    return parse_matrix((folder / row["file"]).read_bytes(), "mtx")


@pytest.mark.parametrize("row", _rows(_is_regular))
def test_matrix_auto_solve_meets_manifest(matrix_folder, row):
    matrix = _load(matrix_folder, row)
    ones = np.ones(matrix.shape[1])
    result = solve(matrix, matrix @ ones)
    listed_condition = float(row["cond1_est"])
    exact = re.search(r"cond1\(exact\)=([0-9.e+-]+);", row["note"])
    reference_condition = float(exact.group(1)) if exact else listed_condition
    forward_error = np.linalg.norm(result.x - ones) / np.linalg.norm(ones)

    assert result.relative_residual < 1e-14
    assert reference_condition / 10 <= result.condition_estimate <= reference_condition * 1.01
    if listed_condition * EPS <= 1e-6:
        assert forward_error <= 100 * listed_condition * EPS
    else:
        assert any("significant digits" in warning for warning in result.warnings)


@pytest.mark.parametrize("row", _rows(lambda row: _is_regular(row) and int(row["rows"]) <= DENSE_LU_MAX_N))
def test_matrix_dense_lu_meets_manifest(matrix_folder, row):
    matrix = _load(matrix_folder, row)
    ones = np.ones(matrix.shape[1])
    result = solve(matrix, matrix @ ones, method="lu")
    listed_condition = float(row["cond1_est"])

    assert result.method == "lu"
    assert result.relative_residual < 1e-14
    if listed_condition * EPS <= 1e-6:
        assert np.linalg.norm(result.x - ones) / np.linalg.norm(ones) <= 100 * listed_condition * EPS


@pytest.mark.parametrize("row", _rows(lambda row: row["field"] != "complex" and _is_singular(row)))
@pytest.mark.parametrize("method", ["auto", "lu", "splu"])
def test_matrix_singular_rejected(matrix_folder, row, method):
    matrix = _load(matrix_folder, row)
    with pytest.raises(SingularMatrixError, match="singular"):
        solve(matrix, matrix @ np.ones(matrix.shape[1]), method=method)


@pytest.mark.parametrize(
    "row", _rows(lambda row: row["field"] != "complex" and row["rows"] != row["cols"] and not _is_vector(row))
)
def test_matrix_rectangular_least_squares(matrix_folder, row):
    matrix = _load(matrix_folder, row)
    ones = np.ones(matrix.shape[1])
    result = solve(matrix, matrix @ ones)
    listed_rank = re.search(r"rank=(\d+) \(full", row["note"])

    assert result.method == "lstsq"
    assert result.relative_residual < 1e-13
    if result.rank is not None:
        assert result.rank == int(listed_rank.group(1))
    if matrix.shape[0] > matrix.shape[1]:
        assert np.linalg.norm(result.x - ones) / np.linalg.norm(ones) < 1e-10


@pytest.mark.parametrize("row", _rows(lambda row: row["field"] == "complex"))
def test_matrix_complex_rejected(matrix_folder, row):
    if row is None:
        pytest.fail("MANIFEST.tsv not found: place shared/data/matrices beside the checkout or set SCT_MATRICES_DIR")
    with pytest.raises(InputError, match="complex-valued matrices are not supported"):
        parse_matrix((matrix_folder / row["file"]).read_bytes(), "mtx")


@pytest.mark.parametrize("row", _rows(_is_vector))
def test_matrix_vectors_parse(matrix_folder, row):
    if row is None:
        pytest.fail("MANIFEST.tsv not found: place shared/data/matrices beside the checkout or set SCT_MATRICES_DIR")
    vector = parse_vector((matrix_folder / row["file"]).read_bytes(), "mtx")
    assert vector.shape == (int(row["rows"]),)


def test_matrix_shipped_rhs_solution(matrix_folder):
    matrix = parse_matrix((matrix_folder / "simple-solver_A.mtx").read_bytes(), "mtx")
    rhs = parse_vector((matrix_folder / "simple-solver_b.mtx").read_bytes(), "mtx")
    result = solve(matrix, rhs)
    assert result.x[0] == pytest.approx(0.252217952, rel=1e-8)
    assert np.linalg.norm(result.x) == pytest.approx(0.304943832, rel=1e-8)
