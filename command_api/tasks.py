"""Task commands: submit and cancel. Each records one event and returns only after the broker acknowledged it."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from command_api import idempotency
from command_api.errors import TaskNotFoundError
from command_api.problems import PreparedProblem, ProblemStore
from command_api.publisher import EventPublisher
from schemas.events import (
    Producer, SolveOptions, TaskCancellationRequested, TaskSubmitted, format_consistency_token, make_event,
)
from schemas.tables import tasks

log = logging.getLogger(__name__)

FINISHED_STATUSES = ("completed", "failed", "cancelled")


@dataclass
class CommandContext:
    """Dependencies of every command: the database, the publisher, the problem store and the producer identity."""

    engine: AsyncEngine
    publisher: EventPublisher
    problems: ProblemStore
    producer: Producer
    query_api_public_url: str
    idempotency_stale_s: float


async def submit_task(ctx: CommandContext, user_id: uuid.UUID, method: str, options: SolveOptions,
                      prepare: Callable[[], PreparedProblem], *, request_hash: str, idempotency_key: str | None,
                      correlation_id: str | None) -> dict:
    """Record a TaskSubmitted event and return the 202 body; a replayed key returns the stored body.

    `prepare` validates the input and writes its blobs; it runs in a thread because parsing is CPU-bound.
    On any failure after that, the reservation and the blobs this request created are removed.
    """
    reservation = await idempotency.reserve(ctx.engine, user_id, idempotency_key, request_hash,
                                            ctx.idempotency_stale_s)
    if reservation.response is not None:
        return reservation.response
    problem: PreparedProblem | None = None
    try:
        problem = await asyncio.to_thread(prepare)
        payload = TaskSubmitted(method=method, input=problem.input, options=options, rows=problem.rows,
                                cols=problem.cols, nnz=problem.nnz, is_sparse=problem.is_sparse)
        event = make_event(payload, task_id=reservation.task_id, user_id=user_id, attempt=1,
                           producer=ctx.producer, correlation_id=correlation_id)
        topic, partition, offset = await ctx.publisher.publish(event)
    except BaseException:
        await _undo(ctx, user_id, reservation.key, problem)
        raise
    response = {
        "task_id": str(reservation.task_id),
        "status": "queued",
        "task_url": f"{ctx.query_api_public_url}/v1/tasks/{reservation.task_id}",
        "consistency_token": format_consistency_token(topic, partition, offset),
    }
    await idempotency.complete(ctx.engine, user_id, reservation.key, response)
    log.info("task submitted (%s, %d x %d, %s)", method, problem.rows, problem.cols, problem.input.kind,
             extra={"task_id": str(reservation.task_id), "user_id": str(user_id)})
    return response


async def _undo(ctx: CommandContext, user_id: uuid.UUID, key: str, problem: PreparedProblem | None) -> None:
    if problem is not None:
        await asyncio.to_thread(ctx.problems.discard, problem.created_blobs)
    await asyncio.shield(idempotency.release(ctx.engine, user_id, key))


async def cancel_task(ctx: CommandContext, user_id: uuid.UUID, task_id: uuid.UUID,
                      correlation_id: str | None) -> tuple[int, dict]:
    """Request cancellation; return (202, body), or (200, body) for a task that has already finished.

    Raises TaskNotFoundError for an unknown task and for a task of another user.
    """
    owner = await idempotency.owner_of(ctx.engine, task_id)
    if owner != user_id:
        raise TaskNotFoundError(f"task {task_id} was not found among your tasks; check the task id")
    status, attempt = await _read_status(ctx.engine, task_id)
    if status in FINISHED_STATUSES:
        return 200, {"task_id": str(task_id), "status": status,
                     "detail": f"task {task_id} has already finished ({status}); there is nothing to cancel"}
    event = make_event(TaskCancellationRequested(), task_id=task_id, user_id=user_id, attempt=attempt,
                       producer=ctx.producer, correlation_id=correlation_id)
    topic, partition, offset = await ctx.publisher.publish(event)
    log.info("cancellation requested", extra={"task_id": str(task_id), "user_id": str(user_id)})
    return 202, {"task_id": str(task_id), "status": "cancellation_requested",
                 "consistency_token": format_consistency_token(topic, partition, offset)}


async def _read_status(engine: AsyncEngine, task_id: uuid.UUID) -> tuple[str | None, int]:
    """Return the read model's status and attempt; (None, 1) while the projector has not seen the task."""
    async with engine.connect() as connection:
        row = (await connection.execute(select(tasks.c.status, tasks.c.attempt).where(tasks.c.task_id == task_id))).first()
    return (row.status, row.attempt) if row else (None, 1)
