"""Outcome events of a batch: results pass through, a dead solve process requeues the batch until max_attempts."""

from __future__ import annotations

from schemas.events import TaskCompleted, TaskFailed, TaskRequeued
from solver_worker.service import Worker
from solver_worker.settings import SolverWorkerSettings


def worker(max_attempts: int = 3) -> Worker:
    return Worker(SolverWorkerSettings(instance_id="solver_worker-unit", max_attempts=max_attempts))


def test_completed_outcome_becomes_task_completed():
    summary = {"method": "lu", "relative_residual": 1e-16}
    outcome = ("completed", summary, {"format": "dense", "shape": [2], "values": [1.0, 2.0]})

    payload = worker()._batch_outcome_payload(outcome, attempt=1)

    assert isinstance(payload, TaskCompleted)
    assert payload.worker == "solver_worker-unit"
    assert payload.solution.values == [1.0, 2.0]


def test_failed_outcome_becomes_task_failed():
    outcome = ("failed", "singular_matrix", "A is singular", {"pivot": 2})

    payload = worker()._batch_outcome_payload(outcome, attempt=1)

    assert isinstance(payload, TaskFailed)
    assert payload.code == "singular_matrix"
    assert payload.details == {"pivot": 2}


def test_dead_process_requeues_task():
    payload = worker()._batch_outcome_payload(("died", -9), attempt=1)

    assert isinstance(payload, TaskRequeued)
    assert payload.previous_attempt == 1
    assert "died during a batch" in payload.reason


def test_dead_process_at_max_attempts_fails_task():
    payload = worker(max_attempts=2)._batch_outcome_payload(("died", -9), attempt=2)

    assert isinstance(payload, TaskFailed)
    assert payload.code == "worker_error"
    assert "-9" in payload.message
