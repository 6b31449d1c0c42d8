"""SolveProcess: a killed child is reported as died instead of leaving the parent polling a closed pipe."""

from __future__ import annotations

import asyncio

import pytest

from solver_worker.runner import SolveProcess


async def test_killed_solve_process_reports_died():
    process = SolveProcess(blas_threads=1)
    try:
        process.kill()
        messages = [message async for message in process.messages()]
    finally:
        await asyncio.wait_for(process.close(busy=True), 10)

    assert messages == [("died", -9)]


async def test_idle_solve_process_exits_on_close():
    process = SolveProcess(blas_threads=1)

    await asyncio.wait_for(process.close(), 15)

    assert process._process.exitcode is not None  # noqa: SLF001 - the test checks the reaped child


async def test_solve_process_runs_jobs_in_turn(tmp_path):
    process = SolveProcess(blas_threads=1, max_jobs=2)
    job = {"task_id": "t", "attempt": 1, "blob_dir": str(tmp_path), "inline_solution_max_values": 10,
           "instance_id": "unit-solve", "log_level": "WARNING",
           "limits": {"max_rows": 100, "max_cols": 100, "max_nnz": 1000, "max_dense_bytes": 10**6},
           "payload": {"method": "auto", "rows": 1, "cols": 1, "input": {
               "kind": "inline", "a": {"format": "dense", "shape": [1, 1], "values": [[2.0]]},
               "b": {"format": "dense", "shape": [1], "values": [4.0]}}}}
    outcomes = []
    try:
        for _ in range(2):
            process.start(job)
            outcomes.append([message async for message in process.messages()][-1])
        reusable_after_two = process.reusable
    finally:
        await asyncio.wait_for(process.close(), 15)

    assert [outcome[0] for outcome in outcomes] == ["completed", "completed"]
    assert outcomes[1][2]["values"] == pytest.approx([2.0])
    assert reusable_after_two is False
