"""The projection rules: how one event changes a task's read-model row.

Pure functions over plain dicts (the columns of `schemas.tables.tasks`), so
the same rules serve the live projector, `rebuild`, `verify` and unit tests.

Rules that make the projection idempotent and fenced:
- A task in a terminal status (completed, failed, cancelled) never changes again.
- An event whose `attempt` is lower than the task's current attempt belongs
  to a superseded attempt and is ignored; `TaskRequeued` raises the attempt.
- The first `TaskStarted` of an attempt claims it, as in the workers. A
  later claim of the same attempt lost the race and changes nothing.
- Progress only moves forward within an attempt, so a repeated or late
  `TaskProgressed` cannot lower the percentage.
- Only `task-events` facts set `last_event_id`; telemetry from `task-progress`
  (progress, ETA, lease) changes only the telemetry columns.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from schemas.events import (
    BlobRef, Envelope, Payload, TaskCancellationRequested, TaskCancelled, TaskCompleted, TaskFailed,
    TaskProgressed, TaskRequeued, TaskStarted, TaskSubmitted, WorkerHeartbeat,
)

QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED = "queued", "running", "completed", "failed", "cancelled"
TERMINAL_STATUSES = frozenset({COMPLETED, FAILED, CANCELLED})

# Columns that only telemetry from `task-progress` writes. A rebuild replays
# `task-events` alone, so `verify` leaves these out of its comparison.
TELEMETRY_COLUMNS = frozenset({
    "progress", "eta_s", "flops_done", "flops_total", "rate_flops_per_s", "iteration", "residual", "phase",
    "lease_expires_at", "elapsed_s", "updated_at",
})

# Telemetry of one attempt, cleared when a new attempt starts from the queue.
_ATTEMPT_TELEMETRY = {
    "progress": 0.0, "eta_s": None, "flops_done": None, "flops_total": None, "rate_flops_per_s": None,
    "iteration": None, "residual": None, "phase": None, "elapsed_s": None, "worker": None,
    "lease_expires_at": None, "started_at": None,
}


@dataclass(frozen=True)
class Outcome:
    """Effect of one event: the task row after it (None when ignored) and a result row, if any."""

    task: dict[str, Any] | None
    result: dict[str, Any] | None = None
    ignored_because: str | None = None


def ignore(reason: str) -> Outcome:
    return Outcome(task=None, ignored_because=reason)


def apply_event(task: dict[str, Any] | None, event: Envelope, payload: Payload) -> Outcome:
    """Return the outcome of `event` on `task` (None when the task is not projected yet).

    `payload` is `event.typed_payload()`, decoded once by the caller. The input
    dict is never modified.
    """
    if isinstance(payload, TaskSubmitted):
        return _submitted(task, event, payload)
    if task is None:
        return ignore("task not projected yet")
    if task["status"] in TERMINAL_STATUSES:
        return ignore(f"task already {task['status']}")
    if isinstance(payload, TaskCancellationRequested):
        return _changed(task, event, cancel_requested=True)
    if isinstance(payload, TaskRequeued):
        return _requeued(task, event, payload)
    if event.attempt < task["attempt"]:
        return ignore(f"attempt {event.attempt} superseded by attempt {task['attempt']}")
    handler = _HANDLERS.get(type(payload))
    if handler is None:
        return ignore(f"{event.event_type} does not change the read model")
    return handler(task, event, payload)


def _changed(task: dict[str, Any], event: Envelope, **columns: Any) -> Outcome:
    row = dict(task, **columns)
    if event.event_type not in _TELEMETRY_EVENTS:
        row["last_event_id"] = event.event_id
    return Outcome(task=row)


def _submitted(task: dict[str, Any] | None, event: Envelope, payload: TaskSubmitted) -> Outcome:
    if task is not None:
        return ignore("task already submitted")
    row = {
        "task_id": event.task_id, "user_id": event.user_id, "status": QUEUED,
        "method_requested": payload.method, "method": None, "method_reason": None,
        "input_kind": payload.input.kind, "input": payload.input.model_dump(mode="json", exclude_none=True),
        "options": payload.options.model_dump(mode="json"),
        "rows": payload.rows, "cols": payload.cols, "nnz": payload.nnz, "is_sparse": payload.is_sparse,
        "submitted_at": event.occurred_at, "finished_at": None, "gflops": None, "peak_memory_bytes": None,
        "complexity": None, "timings": None, "relative_residual": None, "residual_norm": None,
        "condition_estimate": None, "rank": None, "iterations": None, "warnings": None, "error": None,
        "attempt": event.attempt, "cancel_requested": False, "last_event_id": event.event_id,
        **_ATTEMPT_TELEMETRY,
    }
    return Outcome(task=row)


def _requeued(task: dict[str, Any], event: Envelope, payload: TaskRequeued) -> Outcome:
    new_attempt = max(event.attempt, payload.previous_attempt + 1)
    if new_attempt <= task["attempt"]:
        return ignore(f"requeue to attempt {new_attempt} is not newer than attempt {task['attempt']}")
    return _changed(task, event, status=QUEUED, attempt=new_attempt, **_ATTEMPT_TELEMETRY)


def _started(task: dict[str, Any], event: Envelope, payload: TaskStarted) -> Outcome:
    if task["status"] == RUNNING and event.attempt == task["attempt"]:
        return ignore(f"attempt {event.attempt} already claimed by {task['worker']}")
    return _changed(task, event, status=RUNNING, attempt=event.attempt, worker=payload.worker,
                    started_at=event.occurred_at, lease_expires_at=payload.lease_expires_at)


def _progressed(task: dict[str, Any], event: Envelope, payload: TaskProgressed) -> Outcome:
    if event.attempt != task["attempt"]:
        return ignore(f"progress of attempt {event.attempt} before that attempt started")
    if payload.fraction < (task["progress"] or 0.0):
        return ignore("progress older than the stored value")
    return _changed(
        task, event, progress=payload.fraction, eta_s=payload.eta_s, flops_done=payload.flops_done,
        flops_total=payload.flops_total, rate_flops_per_s=payload.rate_flops_per_s,
        iteration=payload.iteration, residual=payload.residual, phase=payload.phase, elapsed_s=payload.elapsed_s,
    )


def _heartbeat(task: dict[str, Any], event: Envelope, payload: WorkerHeartbeat) -> Outcome:
    if event.attempt != task["attempt"] or task["status"] != RUNNING:
        return ignore("heartbeat of an attempt that is not running")
    return _changed(task, event, lease_expires_at=payload.lease_expires_at)


def _completed(task: dict[str, Any], event: Envelope, payload: TaskCompleted) -> Outcome:
    summary = payload.summary
    worker = getattr(payload, "worker", None) or task["worker"]
    row = _changed(
        task, event, status=COMPLETED, attempt=event.attempt, worker=worker, finished_at=event.occurred_at,
        progress=1.0, eta_s=0.0, method=summary.method, method_reason=summary.method_reason,
        relative_residual=summary.relative_residual, residual_norm=summary.residual_norm,
        condition_estimate=summary.condition_estimate, rank=summary.rank, iterations=summary.iterations,
        warnings=list(summary.warnings), elapsed_s=summary.elapsed_s, gflops=summary.gflops,
        peak_memory_bytes=summary.peak_memory_bytes, complexity=summary.complexity,
        timings=getattr(summary, "timings", None),
        flops_done=summary.flops if summary.flops is not None else task["flops_done"],
        flops_total=summary.flops if summary.flops is not None else task["flops_total"],
    ).task
    return Outcome(task=row, result=result_row(event.task_id, event.attempt, payload, task["cols"]))


def _failed(task: dict[str, Any], event: Envelope, payload: TaskFailed) -> Outcome:
    error: dict[str, Any] = {"code": payload.code, "message": payload.message}
    details = getattr(payload, "details", None)
    if details:
        error["details"] = details
    return _changed(task, event, status=FAILED, attempt=event.attempt, finished_at=event.occurred_at,
                    eta_s=None, error=error)


def _cancelled(task: dict[str, Any], event: Envelope, payload: TaskCancelled) -> Outcome:
    error = {"code": "cancelled", "message": payload.reason, "while_running": payload.while_running}
    return _changed(task, event, status=CANCELLED, attempt=event.attempt, finished_at=event.occurred_at,
                    eta_s=None, cancel_requested=True, error=error)


def result_row(task_id: uuid.UUID, attempt: int, payload: TaskCompleted, unknowns: int | None) -> dict[str, Any]:
    """Return the `results` row of a completion: the inline vector, or the blob reference.

    `unknowns` (the column count of A) is the length recorded for a blob, whose
    event carries only its size in bytes.
    """
    solution = payload.solution
    history = payload.summary.residual_history
    if isinstance(solution, BlobRef):
        return {"task_id": task_id, "attempt": attempt, "length": unknowns or 0, "solution": None,
                "blob_sha256": solution.sha256, "blob_format": solution.format, "residual_history": history}
    values = _flatten(solution.values)
    return {"task_id": task_id, "attempt": attempt, "length": len(values), "solution": values,
            "blob_sha256": None, "blob_format": None, "residual_history": history}


def _flatten(values: list) -> list[float]:
    if values and isinstance(values[0], list):
        return [float(item) for row in values for item in row]
    return [float(item) for item in values]


_TELEMETRY_EVENTS = frozenset({TaskProgressed.event_type, WorkerHeartbeat.event_type})

_HANDLERS = {
    TaskStarted: _started,
    TaskProgressed: _progressed,
    WorkerHeartbeat: _heartbeat,
    TaskCompleted: _completed,
    TaskFailed: _failed,
    TaskCancelled: _cancelled,
}

