"""HTTP routes of the read side: the caller, the history, one task, its result, its events."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Query, Request, Response

from common.auth import issue_token
from common.blobs import BlobCorruptError, BlobNotFoundError, BlobStore
from query_api import reads
from query_api.deps import ConnectionDep, ConsistentDep, SettingsDep, UserIdDep
from query_api.errors import NotAuthenticatedError, ResultNotReadyError, ResultUnavailableError
from query_api.models import ErrorBody, Me, StreamToken, TaskDetail, TaskHistory, TaskPage, TaskStatus
from query_api.results import MEDIA_TYPES, ResultFormat, load_vector, render

log = logging.getLogger(__name__)

ERRORS = {401: {"model": ErrorBody, "description": "Missing, invalid or expired access token."}}
NOT_FOUND = {404: {"model": ErrorBody, "description": "No such task, or the task belongs to another user."}}

router = APIRouter(prefix="/v1", responses=ERRORS)


@router.get("/me", response_model=Me, tags=["account"])
async def read_me(user_id: UserIdDep, connection: ConnectionDep) -> dict:
    """Return the signed-in user."""
    user = await reads.read_user(connection, user_id)
    if user is None:
        raise NotAuthenticatedError("the user of this token no longer exists; register or sign in again")
    return user


@router.get("/tasks", response_model=TaskPage, tags=["tasks"], dependencies=[ConsistentDep])
async def list_tasks(
        user_id: UserIdDep, settings: SettingsDep, connection: ConnectionDep,
        status: Annotated[TaskStatus | None, Query(description="Only tasks in this status.")] = None,
        method: Annotated[str | None, Query(description="Requested or resolved method, e.g. lu or cg.")] = None,
        submitted_after: Annotated[datetime | None, Query(description="ISO 8601, inclusive.")] = None,
        submitted_before: Annotated[datetime | None, Query(description="ISO 8601, exclusive.")] = None,
        cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
        limit: Annotated[int, Query(ge=1, description="Tasks per page; at most HISTORY_PAGE_MAX.")] = 50,
) -> dict:
    """List the caller's tasks, newest first, one page at a time."""
    limit = min(limit, settings.history_page_max)
    items, next_cursor = await reads.list_tasks(
        connection, user_id, status=status, method=method, submitted_after=submitted_after,
        submitted_before=submitted_before, cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/tasks/{task_id}", response_model=TaskDetail, tags=["tasks"], responses=NOT_FOUND,
            dependencies=[ConsistentDep])
async def read_task(task_id: uuid.UUID, user_id: UserIdDep, connection: ConnectionDep) -> dict:
    """Return everything known about one task: status, progress, ETA, queue estimate, figures, error."""
    return await reads.read_task(connection, user_id, task_id)


@router.get("/tasks/{task_id}/history", response_model=TaskHistory, tags=["tasks"], responses=NOT_FOUND,
            dependencies=[ConsistentDep])
async def read_history(task_id: uuid.UUID, user_id: UserIdDep, connection: ConnectionDep) -> dict:
    """Return the task's events in log order, as the audit table stores them."""
    return {"task_id": task_id, "events": await reads.read_history(connection, user_id, task_id)}


@router.get("/tasks/{task_id}/result", tags=["tasks"], dependencies=[ConsistentDep],
            responses={**NOT_FOUND, 409: {"model": ErrorBody, "description": "The task has not completed."},
                       200: {"content": {media: {} for media in MEDIA_TYPES.values()},
                             "description": "The solution x in the requested format."}})
async def read_result(task_id: uuid.UUID, user_id: UserIdDep, settings: SettingsDep, connection: ConnectionDep,
                      format: Annotated[ResultFormat, Query(description="json, csv, npy or mtx.")] = "json",
                      ) -> Response:
    """Download the solution x of a completed task."""
    status, row = await reads.read_result(connection, user_id, task_id)
    if row is None:
        if status in ("failed", "cancelled"):
            raise ResultNotReadyError(f"task {task_id} is {status} and has no result; only a completed task has "
                                      "one, so submit the problem again to get a solution")
        raise ResultNotReadyError(f"task {task_id} is {status}; a result exists only once it has completed")
    await connection.close()  # the blob read below needs no database connection
    x = await _solution_vector(settings, task_id, row)
    body = await asyncio.to_thread(render, x, format, task_id)
    disposition = f'attachment; filename="x-{task_id}.{format}"'
    return Response(body, media_type=MEDIA_TYPES[format], headers={"Content-Disposition": disposition})


@router.post("/tasks/{task_id}/stream-token", response_model=StreamToken, tags=["live progress"],
             responses=NOT_FOUND, dependencies=[ConsistentDep])
async def create_stream_token(task_id: uuid.UUID, user_id: UserIdDep, settings: SettingsDep,
                              connection: ConnectionDep, request: Request) -> dict:
    """Issue a short-lived token that opens the SSE or WebSocket stream of this task only.

    Browsers cannot send headers on EventSource or WebSocket, so the stream URL
    carries this token instead of the access token.
    """
    await reads.require_owner(connection, user_id, task_id)
    token, lifetime = issue_token(settings, user_id, "stream", task_id=task_id)
    return {"stream_token": token, "expires_in": lifetime,
            "events_url": f"/v1/tasks/{task_id}/events?stream_token={token}",
            "ws_url": f"/v1/tasks/{task_id}/ws?stream_token={token}"}


async def _solution_vector(settings: SettingsDep, task_id: uuid.UUID, row: dict) -> np.ndarray:
    if row["solution"] is not None:
        return np.asarray(row["solution"], dtype=np.float64)
    store = BlobStore(settings.blob_dir)
    try:
        data = await asyncio.to_thread(store.get, row["blob_sha256"])
    except (BlobNotFoundError, BlobCorruptError) as error:
        log.error("result blob of task %s is unreadable: %s", task_id, error, extra={"task_id": task_id})
        raise ResultUnavailableError(
            f"the result of task {task_id} is recorded but its file cannot be read; try again later or "
            "contact the operator") from error
    return await asyncio.to_thread(load_vector, data, row["blob_format"])
