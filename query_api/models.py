"""Response models of the query API; their examples appear in the OpenAPI document."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

TaskStatus = Literal["queued", "running", "completed", "failed", "cancelled"]

EXAMPLE_TASK_ID = "3f0c5a9e-8d1b-4c57-9a51-0d4f3a1e2b77"


class Me(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"user_id": "0b8f2f7c-2f7e-4e0c-93f1-7d1f6a1c4e21", "email": "ada@example.org"}]})

    user_id: uuid.UUID
    email: str


class TaskSummary(BaseModel):
    """One row of the history."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "task_id": EXAMPLE_TASK_ID, "status": "completed", "method_requested": "auto", "method": "lu",
        "rows": 3000, "cols": 3000, "nnz": None, "is_sparse": False, "progress": 1.0, "eta_s": 0.0,
        "submitted_at": "2026-12-04T20:41:07.120Z", "started_at": "2026-12-04T20:41:07.125Z",
        "finished_at": "2026-12-04T20:41:08.010Z", "elapsed_s": 0.88, "relative_residual": 3.1e-15,
        "error": None, "attempt": 1}]})

    task_id: uuid.UUID
    status: TaskStatus
    method_requested: str
    method: str | None = Field(None, description="The method that ran; `auto` resolves to one.")
    rows: int | None
    cols: int | None
    nnz: int | None
    is_sparse: bool | None
    progress: float = Field(description="Fraction 0..1 of the work done.")
    eta_s: float | None = Field(None, description="Estimated seconds until the solve ends.")
    submitted_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    elapsed_s: float | None = Field(None, description="Seconds the solve has run (running) or took (finished).")
    relative_residual: float | None = Field(None, description="||A x - b|| / ||b|| of the result.")
    error: dict[str, Any] | None = Field(None, description="`code` and `message` of a failure or cancellation.")
    attempt: int


class TaskPage(BaseModel):
    """A page of the history, newest first; pass `next_cursor` as `cursor` for the next page."""

    items: list[TaskSummary]
    next_cursor: str | None = Field(None, description="Opaque; null on the last page.")


class QueueEstimate(BaseModel):
    """Queue position of a queued task; the start time is an estimate from the running tasks' ETAs."""

    position: int = Field(description="1 for the next task to start.")
    tasks_ahead: int
    workers_estimate: int = Field(description="Workers assumed busy or available, from recent activity.")
    predicted_start_at: datetime | None
    predicted_start_in_s: float | None


class ResultInfo(BaseModel):
    available: bool
    length: int | None = None
    formats: list[str] = ["json", "csv", "npy", "mtx"]
    url: str | None = Field(None, description="Path of the result below the query API.")


class TaskDetail(TaskSummary):
    """Every column of the read model for one task, with its queue estimate and result info."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        **TaskSummary.model_config["json_schema_extra"]["examples"][0],
        "method_reason": "dense square system: LU with partial pivoting", "input_kind": "generated",
        "input": {"kind": "generated", "generator": {"kind": "random_dense", "n": 3000, "seed": 7}},
        "options": {"tol": 1e-10, "max_iter": None, "preconditioner": None}, "phase": "solve",
        "flops_done": 1.8e10, "flops_total": 1.8e10, "rate_flops_per_s": 2.1e10, "iteration": None,
        "residual": None, "gflops": 20.4, "peak_memory_bytes": 216000000,
        "complexity": {"n": 3000, "flops": 1.8e10, "formula": "2/3 n^3 + 2 n^2"},
        "timings": {"load": 0.05, "solve": 0.88, "store": 0.01, "total": 0.94},
        "residual_norm": 2.2e-12, "condition_estimate": 4.1e4, "rank": None, "iterations": None,
        "warnings": [], "worker": "solver_worker-1", "lease_expires_at": None, "cancel_requested": False,
        "queue": None, "result": {"available": True, "length": 3000, "formats": ["json", "csv", "npy", "mtx"],
                                  "url": f"/v1/tasks/{EXAMPLE_TASK_ID}/result"}}]})

    method_reason: str | None
    input_kind: str
    input: dict[str, Any] = Field(description="Input references; inline values are left out (see `history`).")
    options: dict[str, Any] | None
    phase: str | None
    flops_done: float | None
    flops_total: float | None
    rate_flops_per_s: float | None
    iteration: int | None
    residual: float | None = Field(None, description="Latest relative residual of an iterative solve.")
    residual_history: list[float] | None = Field(
        None, description="Relative residual per iteration of a completed iterative solve.")
    gflops: float | None
    peak_memory_bytes: int | None
    complexity: dict[str, Any] | None = Field(None, description="Complexity figures the solver reported.")
    timings: dict[str, Any] | None = Field(None, description="Seconds per phase: load, solve, store, total.")
    residual_norm: float | None
    condition_estimate: float | None
    rank: int | None
    iterations: int | None
    warnings: list[str] | None
    worker: str | None
    lease_expires_at: datetime | None
    cancel_requested: bool
    queue: QueueEstimate | None = Field(None, description="Only while queued.")
    result: ResultInfo


class HistoryEvent(BaseModel):
    """One event of a task, as stored in the audit table."""

    event_id: uuid.UUID
    event_type: str
    schema_version: int
    attempt: int
    occurred_at: datetime
    topic: str
    partition: int
    offset: int
    producer: dict[str, Any] | None
    correlation_id: str | None
    payload: dict[str, Any]


class TaskHistory(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"task_id": EXAMPLE_TASK_ID, "events": [{
        "event_id": "6a0e2b1c-4f57-4a43-8d7b-0f2e9d6f1a11", "event_type": "TaskSubmitted", "schema_version": 1,
        "attempt": 1, "occurred_at": "2026-12-04T20:41:07.120Z", "topic": "task-events", "partition": 3,
        "offset": 1042, "producer": {"service": "command_api", "instance": "command_api-1"},
        "correlation_id": None, "payload": {"method": "auto", "rows": 3000, "cols": 3000}}]}]})

    task_id: uuid.UUID
    events: list[HistoryEvent]


class StreamToken(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "stream_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...", "expires_in": 60,
        "events_url": f"/v1/tasks/{EXAMPLE_TASK_ID}/events?stream_token=...",
        "ws_url": f"/v1/tasks/{EXAMPLE_TASK_ID}/ws?stream_token=..."}]})

    stream_token: str
    expires_in: int = Field(description="Seconds; the token opens streams of this task only.")
    events_url: str
    ws_url: str


class ErrorBody(BaseModel):
    detail: str
    code: str
