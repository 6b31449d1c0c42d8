"""Projection rules: each event's effect, fencing by attempt, and idempotency."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from projector.reducer import apply_event
from schemas.events import (
    BlobRef, InlineMatrix, Payload, ProblemInput, Producer, SolutionSummary, TaskCancellationRequested,
    TaskCancelled, TaskCompleted, TaskFailed, TaskProgressed, TaskRequeued, TaskStarted, TaskSubmitted,
    WorkerHeartbeat, make_event,
)

TASK_ID = uuid.uuid4()
USER_ID = uuid.uuid4()
PRODUCER = Producer(service="tests", instance="unit")
LEASE = datetime(2030, 1, 1, tzinfo=UTC)


def submitted() -> TaskSubmitted:
    problem = ProblemInput(kind="inline", a=InlineMatrix(shape=(2, 2), values=[[2, 0], [0, 4]]),
                           b=InlineMatrix(shape=(2,), values=[2, 4]))
    return TaskSubmitted(method="auto", input=problem, rows=2, cols=2)


def completed(values: list[float] = (1.0, 1.0)) -> TaskCompleted:
    summary = SolutionSummary(method="lu", relative_residual=1e-16, condition_estimate=2.0, flops=12.0,
                              complexity={"n": 2, "flops_formula": "2/3 n^3"})
    return TaskCompleted(summary=summary, solution=InlineMatrix(shape=(2,), values=list(values)))


def progressed(fraction: float) -> TaskProgressed:
    return TaskProgressed(fraction=fraction, elapsed_s=1.0, eta_s=2.0, flops_done=fraction * 12, flops_total=12)


def run(events: list[tuple[Payload, int]], task: dict | None = None) -> dict | None:
    """Apply (payload, attempt) pairs in order and return the final row."""
    for payload, attempt in events:
        envelope = make_event(payload, task_id=TASK_ID, user_id=USER_ID, attempt=attempt, producer=PRODUCER)
        outcome = apply_event(task, envelope, payload)
        if outcome.task is not None:
            task = outcome.task
    return task


def started(worker: str = "worker-1") -> TaskStarted:
    return TaskStarted(worker=worker, lease_expires_at=LEASE)


def test_submitted_creates_queued_task():
    task = run([(submitted(), 1)])

    assert task["status"] == "queued"
    assert task["user_id"] == USER_ID
    assert task["method_requested"] == "auto"
    assert task["rows"] == 2
    assert task["progress"] == 0.0
    assert task["options"]["tol"] == 1e-10


def test_full_life_completes_with_figures():
    task = run([(submitted(), 1), (started(), 1), (progressed(0.5), 1), (completed(), 1)])

    assert task["status"] == "completed"
    assert task["progress"] == 1.0
    assert task["method"] == "lu"
    assert task["condition_estimate"] == 2.0
    assert task["complexity"]["n"] == 2
    assert task["worker"] == "worker-1"
    assert task["finished_at"] is not None


def test_completion_returns_result_row():
    task = run([(submitted(), 1), (started(), 1)])
    payload = completed([1.5, -2.0])
    envelope = make_event(payload, task_id=TASK_ID, user_id=USER_ID, attempt=1, producer=PRODUCER)

    outcome = apply_event(task, envelope, payload)

    assert outcome.result["solution"] == [1.5, -2.0]
    assert outcome.result["length"] == 2
    assert outcome.result["attempt"] == 1


def test_blob_completion_records_reference():
    task = run([(submitted(), 1), (started(), 1)])
    payload = TaskCompleted(summary=SolutionSummary(method="lu"),
                            solution=BlobRef(sha256="a" * 64, size=32, format="npy"))
    envelope = make_event(payload, task_id=TASK_ID, user_id=USER_ID, attempt=1, producer=PRODUCER)

    outcome = apply_event(task, envelope, payload)

    assert outcome.result["blob_sha256"] == "a" * 64
    assert outcome.result["solution"] is None
    assert outcome.result["length"] == 2


def test_repeated_events_change_nothing():
    payloads = [submitted(), started(), progressed(0.5), completed()]
    envelopes = [make_event(payload, task_id=TASK_ID, user_id=USER_ID, attempt=1, producer=PRODUCER)
                 for payload in payloads]
    once = twice = None
    for envelope, payload in zip(envelopes, payloads):
        once = apply_event(once, envelope, payload).task or once
        for _ in range(2):
            twice = apply_event(twice, envelope, payload).task or twice

    assert twice == once


def test_progress_never_decreases_within_attempt():
    task = run([(submitted(), 1), (started(), 1), (progressed(0.6), 1), (progressed(0.4), 1)])

    assert task["progress"] == 0.6


def test_superseded_attempt_is_ignored():
    task = run([(submitted(), 1), (started("worker-1"), 1),
                (TaskRequeued(previous_attempt=1, reason="lease expired"), 2),
                (started("worker-2"), 2), (progressed(0.9), 1), (completed([9.0, 9.0]), 1)])

    assert task["status"] == "running"
    assert task["attempt"] == 2
    assert task["worker"] == "worker-2"
    assert task["progress"] == 0.0


def test_requeue_resets_attempt_telemetry():
    task = run([(submitted(), 1), (started(), 1), (progressed(0.7), 1),
                (TaskRequeued(previous_attempt=1, reason="lease expired"), 2)])

    assert task["status"] == "queued"
    assert task["attempt"] == 2
    assert task["progress"] == 0.0
    assert task["worker"] is None
    assert task["started_at"] is None


def test_requeue_with_old_attempt_in_envelope():
    task = run([(submitted(), 1), (started(), 1), (TaskRequeued(previous_attempt=1, reason="lease"), 1)])

    assert task["attempt"] == 2
    assert task["status"] == "queued"


def test_terminal_task_never_changes():
    task = run([(submitted(), 1), (started(), 1), (completed(), 1), (TaskFailed(code="x", message="late"), 1),
                (TaskRequeued(previous_attempt=1, reason="late lease"), 2), (progressed(0.1), 2)])

    assert task["status"] == "completed"
    assert task["attempt"] == 1
    assert task["error"] is None


def test_failure_records_code_and_message():
    task = run([(submitted(), 1), (started(), 1),
                (TaskFailed(code="singular_matrix", message="A is singular; check the input"), 1)])

    assert task["status"] == "failed"
    assert task["error"] == {"code": "singular_matrix", "message": "A is singular; check the input"}


def test_cancel_of_queued_task():
    task = run([(submitted(), 1), (TaskCancellationRequested(), 1),
                (TaskCancelled(reason="requested by the owner", while_running=False), 1)])

    assert task["status"] == "cancelled"
    assert task["cancel_requested"] is True
    assert task["error"]["while_running"] is False


def test_progress_before_submission_is_ignored():
    payload = progressed(0.5)
    envelope = make_event(payload, task_id=TASK_ID, user_id=USER_ID, attempt=1, producer=PRODUCER)

    outcome = apply_event(None, envelope, payload)

    assert outcome.task is None
    assert "not projected" in outcome.ignored_because


def test_telemetry_keeps_last_fact_id():
    task = run([(submitted(), 1), (started(), 1)])
    before = task["last_event_id"]

    task = run([(progressed(0.3), 1), (WorkerHeartbeat(worker="worker-1", lease_expires_at=LEASE
                                                        + timedelta(seconds=30)), 1)], task)

    assert task["last_event_id"] == before
    assert task["lease_expires_at"] == LEASE + timedelta(seconds=30)
    assert task["progress"] == 0.3


def test_input_is_not_modified():
    task = run([(submitted(), 1)])
    snapshot = dict(task)

    run([(started(), 1), (completed(), 1)], task)

    assert task == snapshot


def test_first_claim_of_attempt_wins():
    task = run([(submitted(), 1), (started("worker-1"), 1), (started("worker-2"), 1)])

    assert task["worker"] == "worker-1"
