"""Read-model queries: the caller's tasks, one task with its queue estimate, its events, its result.

Every query filters by the caller's user id, so a task of another user is
indistinguishable from a task that does not exist.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from query_api.errors import InvalidCursorError, TaskNotFoundError
from query_api.queue import predict_start
from schemas.tables import results, task_events, tasks, users

# How far back finished tasks count when estimating the number of workers and the mean duration.
RECENT_WINDOW = timedelta(minutes=30)


def encode_cursor(submitted_at: datetime, task_id: uuid.UUID) -> str:
    raw = json.dumps([submitted_at.isoformat(), str(task_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """Return (submitted_at, task_id) of a cursor; raise InvalidCursorError for a malformed one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        submitted_at, task_id = json.loads(raw)
        return datetime.fromisoformat(submitted_at), uuid.UUID(task_id)
    except (binascii.Error, ValueError, TypeError) as error:
        raise InvalidCursorError(
            f"cursor {cursor!r} is invalid: pass the `next_cursor` of the previous page unchanged") from error


async def read_user(connection: AsyncConnection, user_id: uuid.UUID) -> dict[str, Any] | None:
    row = (await connection.execute(select(users.c.user_id, users.c.email).where(users.c.user_id == user_id))).first()
    return dict(row._mapping) if row else None


async def list_tasks(connection: AsyncConnection, user_id: uuid.UUID, *, status: str | None, method: str | None,
                     submitted_after: datetime | None, submitted_before: datetime | None, cursor: str | None,
                     limit: int) -> tuple[list[dict], str | None]:
    """Return one page of the user's tasks, newest first, and the cursor of the next page."""
    query = select(tasks).where(tasks.c.user_id == user_id)
    if status:
        query = query.where(tasks.c.status == status)
    if method:
        query = query.where(or_(tasks.c.method == method, tasks.c.method_requested == method))
    if submitted_after:
        query = query.where(tasks.c.submitted_at >= submitted_after)
    if submitted_before:
        query = query.where(tasks.c.submitted_at < submitted_before)
    if cursor:
        query = query.where(tuple_(tasks.c.submitted_at, tasks.c.task_id) < tuple_(*decode_cursor(cursor)))
    query = query.order_by(tasks.c.submitted_at.desc(), tasks.c.task_id.desc()).limit(limit + 1)
    rows = [dict(row._mapping) for row in await connection.execute(query)]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1]["submitted_at"], rows[-1]["task_id"])
    return rows, next_cursor


async def read_task(connection: AsyncConnection, user_id: uuid.UUID, task_id: uuid.UUID) -> dict[str, Any]:
    """Return the task row with its result info and queue estimate; raise TaskNotFoundError."""
    row = (await connection.execute(
        select(tasks, results.c.length.label("result_length"), results.c.residual_history)
        .select_from(tasks.outerjoin(results, results.c.task_id == tasks.c.task_id))
        .where(tasks.c.task_id == task_id, tasks.c.user_id == user_id))).first()
    if row is None:
        raise TaskNotFoundError(task_id)
    task = dict(row._mapping)
    task["input"] = strip_inline_values(task["input"])
    available = task["status"] == "completed" and task["result_length"] is not None
    task["result"] = {"available": available, "length": task.pop("result_length"),
                      "url": f"/v1/tasks/{task_id}/result" if available else None}
    task["queue"] = await estimate_queue(connection, task) if task["status"] == "queued" else None
    return task


def strip_inline_values(problem: dict[str, Any]) -> dict[str, Any]:
    """Return the input description without the numbers of inline matrices, which can be large."""
    stripped = dict(problem)
    for name in ("a", "b"):
        part = stripped.get(name)
        if isinstance(part, dict) and "values" in part:
            stripped[name] = {key: value for key, value in part.items() if key not in ("values", "rows", "cols")}
    return stripped


async def estimate_queue(connection: AsyncConnection, task: dict[str, Any]) -> dict[str, Any]:
    """Return the position of a queued task and an estimate of when it starts."""
    ahead = (await connection.execute(
        select(func.count()).select_from(tasks).where(
            tasks.c.status == "queued",
            tuple_(tasks.c.submitted_at, tasks.c.task_id) < tuple_(task["submitted_at"], task["task_id"])))
    ).scalar_one()
    now = datetime.now(UTC)
    running_etas = [eta for (eta,) in await connection.execute(
        select(tasks.c.eta_s).where(tasks.c.status == "running"))]
    recent = and_(tasks.c.finished_at > now - RECENT_WINDOW, tasks.c.status == "completed")
    workers, mean_duration = (await connection.execute(
        select(func.count(tasks.c.worker.distinct()).filter(or_(tasks.c.status == "running", recent)),
               func.avg(tasks.c.elapsed_s).filter(recent)))).one()
    workers = max(workers or 0, len(running_etas), 1)
    start_in = predict_start(ahead, running_etas, workers, mean_duration)
    return {"position": ahead + 1, "tasks_ahead": ahead, "workers_estimate": workers,
            "predicted_start_in_s": start_in,
            "predicted_start_at": None if start_in is None else now + timedelta(seconds=start_in)}


async def read_history(connection: AsyncConnection, user_id: uuid.UUID, task_id: uuid.UUID) -> list[dict]:
    """Return the task's events in log order; raise TaskNotFoundError."""
    await require_owner(connection, user_id, task_id)
    rows = await connection.execute(
        select(task_events).where(task_events.c.task_id == task_id)
        .order_by(task_events.c.topic, task_events.c.partition, task_events.c.offset))
    events = []
    for row in rows:
        envelope = row.envelope
        events.append({**dict(row._mapping), "producer": envelope.get("producer"),
                       "correlation_id": envelope.get("correlation_id"), "payload": envelope.get("payload", {})})
    return events


async def read_result(connection: AsyncConnection, user_id: uuid.UUID, task_id: uuid.UUID) -> tuple[str, dict | None]:
    """Return the task's status and its results row (None until completed); raise TaskNotFoundError."""
    row = (await connection.execute(
        select(tasks.c.status, results).select_from(tasks.outerjoin(results, results.c.task_id == tasks.c.task_id))
        .where(tasks.c.task_id == task_id, tasks.c.user_id == user_id))).first()
    if row is None:
        raise TaskNotFoundError(task_id)
    mapping = dict(row._mapping)
    status = mapping.pop("status")
    return status, mapping if mapping.get("length") is not None else None


async def require_owner(connection: AsyncConnection, user_id: uuid.UUID, task_id: uuid.UUID) -> None:
    found = (await connection.execute(
        select(tasks.c.task_id).where(tasks.c.task_id == task_id, tasks.c.user_id == user_id))).first()
    if found is None:
        raise TaskNotFoundError(task_id)


async def latest_event_offset(connection: AsyncConnection, task_id: uuid.UUID) -> int:
    """Return the highest audited `task-events` offset of a task, or -1."""
    value = (await connection.execute(
        select(func.max(task_events.c.offset)).where(task_events.c.task_id == task_id))).scalar_one()
    return -1 if value is None else value
