"""One row per submitted task in `idempotency_keys`: the client's key, or `auto:<task_id>` without one.

A retry with the same key and the same body gets the stored 202 response and
writes no second event. The row is reserved before the event is published and
completed with the response after the broker acknowledged. A reservation whose
request died (no response after `idempotency_stale_s`) is taken over with its
task_id, so a retry never creates a second task.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from command_api.errors import IdempotencyConflictError, IdempotencyInFlightError, InvalidTaskError
from schemas.tables import idempotency_keys

log = logging.getLogger(__name__)

AUTO_PREFIX = "auto:"


@dataclass(frozen=True)
class Reservation:
    """A reserved key: the task_id to use, or the stored response of an earlier identical request."""

    key: str
    task_id: uuid.UUID
    response: dict | None


def check_client_key(key: str) -> None:
    if not (1 <= len(key) <= 200) or not key.isprintable() or key.startswith(AUTO_PREFIX):
        raise InvalidTaskError(f"Idempotency-Key {key[:40]!r} is invalid; send 1 to 200 printable characters "
                               f"not starting with {AUTO_PREFIX!r}, for example a UUID",
                               extra={"field": "Idempotency-Key"})


async def reserve(engine: AsyncEngine, user_id: uuid.UUID, key: str | None, request_hash: str,
                  stale_after_s: float) -> Reservation:
    """Reserve `key` for a new task, or return the earlier outcome of the same request.

    Raises IdempotencyConflictError when the key was used with another body, and
    IdempotencyInFlightError while the first request with this key is still running.
    """
    task_id = uuid.uuid4()
    key = key if key is not None else f"{AUTO_PREFIX}{task_id}"
    async with engine.begin() as connection:
        inserted = await connection.execute(
            insert(idempotency_keys).values(user_id=user_id, key=key, request_hash=request_hash, task_id=task_id)
            .on_conflict_do_nothing().returning(idempotency_keys.c.task_id))
        if inserted.first() is not None:
            return Reservation(key, task_id, None)
        row = (await connection.execute(
            select(idempotency_keys).where(idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key)
            .with_for_update())).mappings().one()
        if row["request_hash"] != request_hash:
            raise IdempotencyConflictError(
                f"Idempotency-Key {key!r} was already used with a different request body; send a new key for a "
                "new task, or repeat the original body to get its result")
        if row["response"] is not None:
            log.info("idempotent replay", extra={"task_id": str(row["task_id"])})
            return Reservation(key, row["task_id"], row["response"])
        if datetime.now(UTC) - row["created_at"] < timedelta(seconds=stale_after_s):
            raise IdempotencyInFlightError(
                f"a request with Idempotency-Key {key!r} is still being processed; retry in a few seconds",
                headers={"Retry-After": "2"})
        await connection.execute(update(idempotency_keys).values(created_at=datetime.now(UTC)).where(
            idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key))
        log.warning("taking over a stale idempotency reservation", extra={"task_id": str(row["task_id"])})
        return Reservation(key, row["task_id"], None)


async def complete(engine: AsyncEngine, user_id: uuid.UUID, key: str, response: dict) -> None:
    async with engine.begin() as connection:
        await connection.execute(update(idempotency_keys).values(response=response).where(
            idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key))


async def release(engine: AsyncEngine, user_id: uuid.UUID, key: str) -> None:
    """Forget a reservation whose event was not written, so a retry starts afresh."""
    async with engine.begin() as connection:
        await connection.execute(delete(idempotency_keys).where(
            idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key,
            idempotency_keys.c.response.is_(None)))


async def owner_of(engine: AsyncEngine, task_id: uuid.UUID) -> uuid.UUID | None:
    """Return the user who submitted `task_id`, or None for an unknown task."""
    async with engine.connect() as connection:
        row = (await connection.execute(select(idempotency_keys.c.user_id).where(
            idempotency_keys.c.task_id == task_id, idempotency_keys.c.response.is_not(None)))).first()
    return row.user_id if row else None
