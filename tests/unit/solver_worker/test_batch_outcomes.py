"""Batches in the worker: which tasks are small, the outcome events of a batch, cancels before a batch starts.

These tests check which events the worker builds, so a recorder takes the producer's place. The
integration tests in tests/integration/write_side send the events to a real broker.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from schemas.events import TaskCompleted, TaskFailed, TaskRequeued, TaskSubmitted
from schemas.problem import GeneratorSpec
from solver_worker.service import Worker
from solver_worker.settings import SolverWorkerSettings
from solver_worker.taskbook import OpenTask

COMPLETED = ("completed", {"method": "lu", "relative_residual": 1e-16},
             {"format": "dense", "shape": [2], "values": [1.0, 2.0]})


def worker(max_attempts: int = 3) -> Worker:
    return Worker(SolverWorkerSettings(instance_id="solver_worker-unit", max_attempts=max_attempts))


def open_task(worker_: Worker, *, n: int = 50, method: str = "auto", sparse: bool = False,
              attempt: int = 1) -> OpenTask:
    payload = TaskSubmitted(method=method, rows=n, cols=n, is_sparse=sparse, nnz=n if sparse else None,
                            input={"kind": "generated", "generator": GeneratorSpec(kind="random_dense", n=n)})
    task = OpenTask(uuid.uuid4(), uuid.uuid4(), payload, 0, 0, datetime.now(UTC), attempt=attempt,
                    status="running")
    worker_.book.open[task.task_id] = task
    return task


async def delivered(worker_: Worker) -> list:
    """Run the scheduled deliveries and return the envelopes they sent, in order."""
    sent: list = []

    async def record(envelopes):
        sent.extend(envelopes)
        return [None] * len(envelopes)

    worker_._send_all = record
    await asyncio.gather(*worker_.deliveries)
    return sent


def test_small_task_rules():
    subject = worker()

    assert subject._is_small(open_task(subject, n=200))
    assert not subject._is_small(open_task(subject, n=201))
    assert not subject._is_small(open_task(subject, sparse=True))
    assert not subject._is_small(open_task(subject, method="gmres"))
    assert not subject._is_small(open_task(subject, attempt=2))


def test_completed_outcome_becomes_task_completed():
    payload = worker()._batch_outcome_payload(COMPLETED, attempt=1)

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


async def test_batch_skips_superseded_attempt():
    subject = worker()
    current, superseded = open_task(subject), open_task(subject)
    subject.book.open[superseded.task_id].attempt = 2  # requeued while the batch ran

    subject._deliver_batch([(current, 1), (superseded, 1)], ("batch", [COMPLETED, COMPLETED]), 0.0)
    sent = await delivered(subject)

    assert [(envelope.task_id, envelope.event_type) for envelope in sent] == [(current.task_id, "TaskCompleted")]


async def test_dead_batch_requeues_with_next_attempt():
    subject = worker()
    tasks = [open_task(subject), open_task(subject)]

    subject._deliver_batch([(task, 1) for task in tasks], ("died", -9), 0.0)
    sent = await delivered(subject)

    assert [envelope.event_type for envelope in sent] == ["TaskRequeued", "TaskRequeued"]
    assert [envelope.attempt for envelope in sent] == [2, 2]
    assert [envelope.payload["previous_attempt"] for envelope in sent] == [1, 1]


async def test_cancel_request_drops_task_from_batch():
    subject = worker()
    runnable, cancelled = open_task(subject), open_task(subject)
    subject.book.open[cancelled.task_id].cancel_requested = True

    remaining = subject._drop_cancelled([(runnable, 1), (cancelled, 1)])
    sent = await delivered(subject)

    assert remaining == [(runnable, 1)]
    assert [(envelope.task_id, envelope.event_type) for envelope in sent] == [(cancelled.task_id, "TaskCancelled")]
    assert sent[0].payload["while_running"] is False
