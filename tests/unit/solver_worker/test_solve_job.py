"""run_job: what the solve process reports for a solved, a failed and a cancelled task."""

from __future__ import annotations

import numpy as np

from common.blobs import BlobStore
from schemas.events import SolutionSummary, TaskSubmitted
from solver_worker.child import _thin, run_job
from solver_worker.solver import CancelToken

LIMITS = {"max_rows": 10_000, "max_cols": 10_000, "max_nnz": 1_000_000, "max_dense_bytes": 10**9}


def job(payload: dict, blob_dir, inline_max: int = 100) -> dict:
    return {"task_id": "t", "attempt": 1, "payload": TaskSubmitted.model_validate(payload).model_dump(mode="json"),
            "blob_dir": str(blob_dir), "inline_solution_max_values": inline_max, "limits": LIMITS}


def test_run_job_solves_inline_system(tmp_path):
    payload = {"method": "auto", "rows": 2, "cols": 2, "input": {
        "kind": "inline", "a": {"format": "dense", "shape": [2, 2], "values": [[4, 1], [1, 3]]},
        "b": {"format": "dense", "shape": [2], "values": [1, 2]}}}
    reports = []

    kind, summary, solution = run_job(job(payload, tmp_path), CancelToken(), reports.append)

    assert kind == "completed"
    assert np.allclose(solution["values"], np.linalg.solve([[4, 1], [1, 3]], [1, 2]))
    parsed = SolutionSummary.model_validate(summary)
    assert parsed.method == "cholesky"
    assert set(parsed.timings) == {"load_s", "solve_s", "store_s", "total_s"}
    assert reports and reports[-1].fraction == 1.0


def test_run_job_stores_long_solution_as_blob(tmp_path):
    payload = {"method": "lu", "rows": 300, "cols": 300,
               "input": {"kind": "generated", "generator": {"kind": "diagonally_dominant", "n": 300, "seed": 3}}}

    kind, _, solution = run_job(job(payload, tmp_path, inline_max=100), CancelToken(), lambda report: None)

    assert kind == "completed"
    assert solution["format"] == "npy"
    assert solution["size"] > 300 * 8
    assert BlobStore(tmp_path).exists(solution["sha256"])


def test_run_job_reports_singular_matrix(tmp_path):
    payload = {"method": "lu", "rows": 2, "cols": 2, "input": {
        "kind": "inline", "a": {"format": "dense", "shape": [2, 2], "values": [[1, 2], [2, 4]]},
        "b": {"format": "dense", "shape": [2], "values": [1, 2]}}}

    kind, code, message, _ = run_job(job(payload, tmp_path), CancelToken(), lambda report: None)

    assert kind == "failed"
    assert code == "singular_matrix"
    assert "lstsq" in message


def test_run_job_reports_missing_blob(tmp_path):
    payload = {"method": "lu", "rows": 2, "cols": 2, "input": {
        "kind": "blob", "a": {"sha256": "a" * 64, "size": 10, "format": "npy"},
        "b": {"format": "dense", "shape": [2], "values": [1, 2]}}}

    kind, code, _, _ = run_job(job(payload, tmp_path), CancelToken(), lambda report: None)

    assert (kind, code) == ("failed", "input_missing")


def test_run_job_honours_cancel(tmp_path):
    payload = {"method": "lu", "rows": 500, "cols": 500,
               "input": {"kind": "generated", "generator": {"kind": "random_dense", "n": 500}}}
    token = CancelToken()
    token.cancel()

    outcome = run_job(job(payload, tmp_path), token, lambda report: None)

    assert outcome[0] == "cancelled"


def test_thin_keeps_last_residual():
    history = [float(i) for i in range(1234)]

    thinned = _thin(history, keep=100)

    assert len(thinned) <= 101
    assert thinned[0] == 0.0
    assert thinned[-1] == 1233.0
