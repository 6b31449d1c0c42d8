"""Live progress of one task over Server-Sent Events and WebSocket.

A stream authenticates with a stream token (`POST .../stream-token`), sends a
`snapshot` from the read model, then `progress` and `status` messages from
the live hub, and a `heartbeat` whenever it has been quiet for
STREAM_HEARTBEAT_S. It ends after the task's final status.

Each message id is the resume cursor `<events offset>.<progress offset>`:
the last `task-events` and `task-progress` offsets this stream has sent. A
client that reconnects with it (SSE `Last-Event-ID`, WebSocket
`last_event_id`) gets every later message from the hub's buffer, or, if the
buffer does not reach back that far, a fresh snapshot.

The only database use is a short query for the snapshot and, on a quiet
stream, every STREAM_RECHECK_S; between them the stream waits on its queue.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sse_starlette.sse import EventSourceResponse

from common.auth import InvalidTokenError, verify_token
from query_api import reads
from query_api.errors import NotAuthenticatedError, TaskNotFoundError
from query_api.live import EVENTS, PROGRESS, TERMINAL_STATUSES, LiveHub, LiveMessage
from query_api.models import ErrorBody
from query_api.settings import QueryApiSettings

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", tags=["live progress"])

# Seconds a stream waits after a final status for earlier progress from the other topic.
FINAL_GRACE_S = 0.05

STREAM_ERRORS = {401: {"model": ErrorBody, "description": "Missing, invalid or expired stream token."},
                 404: {"model": ErrorBody, "description": "No such task, or the task belongs to another user."}}


@dataclass
class StreamState:
    """Per-stream bookkeeping: the resume cursor, the attempt followed and the highest progress sent."""

    cursor: dict[str, int] = field(default_factory=lambda: {EVENTS: -1, PROGRESS: -1})
    attempt: int = 1
    fraction: float = -1.0
    finished: bool = False

    @property
    def event_id(self) -> str:
        return f"{self.cursor[EVENTS]}.{self.cursor[PROGRESS]}"

    def accept(self, message: LiveMessage) -> bool:
        """Return True when `message` is news for this stream, and record it as sent."""
        if message.offset <= self.cursor[message.stream]:
            return False
        self.cursor[message.stream] = message.offset
        if message.attempt < self.attempt:
            return False
        if message.type == "progress":
            if message.attempt != self.attempt or message.data["fraction"] < self.fraction:
                return False
            self.fraction = message.data["fraction"]
            return True
        status = message.data.get("status")
        if message.attempt > self.attempt:
            self.attempt, self.fraction = message.attempt, -1.0
        self.finished = status in TERMINAL_STATUSES
        return True


def parse_cursor(last_event_id: str | None) -> dict[str, int] | None:
    """Return the cursor of a `Last-Event-ID`, or None when absent or malformed."""
    if not last_event_id:
        return None
    events, _, progress = last_event_id.partition(".")
    try:
        return {EVENTS: int(events), PROGRESS: int(progress)}
    except ValueError:
        return None


def authorize_stream(settings: QueryApiSettings, token: str | None, task_id: uuid.UUID) -> uuid.UUID:
    """Return the user id of a stream token for `task_id`; raise NotAuthenticatedError or TaskNotFoundError."""
    if not token:
        raise NotAuthenticatedError("missing stream_token: get one from POST /v1/tasks/{task_id}/stream-token")
    try:
        claims = verify_token(settings, token, "stream")
    except InvalidTokenError as error:
        raise NotAuthenticatedError(f"{error}; get a new one from POST /v1/tasks/{{task_id}}/stream-token") \
            from error
    if claims.get("task") != str(task_id):
        raise TaskNotFoundError(task_id)
    return claims["user_id"]


async def read_snapshot(request_app, user_id: uuid.UUID, task_id: uuid.UUID) -> tuple[dict[str, Any], int]:
    """Return the task detail and its latest audited event offset, using one short-lived connection."""
    async with request_app.state.engine.connect() as connection:
        task = await reads.read_task(connection, user_id, task_id)
        offset = await reads.latest_event_offset(connection, task_id)
    return jsonable_encoder(task), offset


async def task_messages(app, user_id: uuid.UUID, task_id: uuid.UUID,
                        resume: dict[str, int] | None) -> AsyncIterator[tuple[str, str | None, dict]]:
    """Yield (type, id, data) messages of one task until its final status; heartbeats have no id.

    Raises TaskNotFoundError before the first message when the caller does not own the task.
    """
    settings: QueryApiSettings = app.state.settings
    hub: LiveHub = app.state.hub
    subscription = hub.subscribe(task_id)
    try:
        state = StreamState()
        if resume is not None and hub.covers(task_id, resume):
            snapshot, _ = await read_snapshot(app, user_id, task_id)  # ownership check, not sent
            # The read model may already be past the messages this client still needs.
            # So only the attempt comes from it, and progress starts from the buffered messages.
            state.cursor = dict(resume)
            state.attempt = snapshot["attempt"]
        else:
            snapshot, offset = await read_snapshot(app, user_id, task_id)
            state.cursor[EVENTS] = offset
            state.attempt, state.fraction = snapshot["attempt"], snapshot["progress"]
            state.finished = snapshot["status"] in TERMINAL_STATUSES
            yield "snapshot", state.event_id, snapshot | {"resumed": resume is not None}
            if state.finished:
                return
        for message in hub.buffered(task_id):
            if state.accept(message):
                yield message.type, state.event_id, message.data
                if state.finished:
                    return
        async for item in _live(app, settings, subscription, state, user_id, task_id):
            yield item
    finally:
        hub.unsubscribe(subscription)


async def _live(app, settings: QueryApiSettings, subscription, state: StreamState, user_id: uuid.UUID,
                task_id: uuid.UUID) -> AsyncIterator[tuple[str, str | None, dict]]:
    loop = asyncio.get_running_loop()
    # Jitter spreads the read-model checks of many streams opened at the same moment.
    next_check = loop.time() + settings.stream_recheck_s * random.uniform(0.5, 1.0)
    while not subscription.closed.is_set():
        try:
            message = await asyncio.wait_for(subscription.queue.get(), timeout=settings.stream_heartbeat_s)
        except TimeoutError:
            yield "heartbeat", None, {"time": datetime.now(UTC).isoformat()}
            if loop.time() >= next_check:
                next_check = loop.time() + settings.stream_recheck_s
                snapshot, _ = await read_snapshot(app, user_id, task_id)
                if snapshot["status"] in TERMINAL_STATUSES:
                    yield "snapshot", state.event_id, snapshot | {"resumed": False}
                    return
            continue
        if message.type == "status" and message.data.get("status") in TERMINAL_STATUSES:
            for earlier in await _earlier_messages(subscription, message):
                if state.accept(earlier):
                    yield earlier.type, state.event_id, earlier.data
        if state.accept(message):
            yield message.type, state.event_id, message.data
            if state.finished:
                return
    log.info("stream closed because its client reads too slowly", extra={"task_id": task_id})


async def _earlier_messages(subscription, final: LiveMessage) -> list[LiveMessage]:
    """Return queued messages produced before `final`, waiting FINAL_GRACE_S for progress still in flight.

    Progress and the final status travel on different topics, so the last
    progress can arrive a moment after the status that follows it.
    """
    await asyncio.sleep(FINAL_GRACE_S)
    pending = []
    while not subscription.queue.empty():
        pending.append(subscription.queue.get_nowait())
    return sorted((message for message in pending if message.timestamp_ms <= final.timestamp_ms),
                  key=lambda message: message.timestamp_ms)


@router.get("/tasks/{task_id}/events", responses=STREAM_ERRORS,
            response_class=EventSourceResponse,
            summary="Live progress as Server-Sent Events")
async def stream_events(
        task_id: uuid.UUID, request: Request,
        stream_token: Annotated[str | None, Query(description="Token from POST .../stream-token.")] = None,
        last_event_id: Annotated[str | None, Header(alias="Last-Event-ID",
                                                    description="Resume after this message id.")] = None,
        resume_after: Annotated[str | None, Query(
            alias="last_event_id", description="Resume after this message id; for a new EventSource, which "
                                               "cannot set the Last-Event-ID header.")] = None,
):
    """Stream `snapshot`, then `progress` and `status` events and `heartbeat`s, until the task finishes.

    Reconnect with `Last-Event-ID` (browsers do it on their own) to resume without gaps.
    """
    user_id = authorize_stream(request.app.state.settings, stream_token, task_id)
    messages = task_messages(request.app, user_id, task_id, parse_cursor(last_event_id or resume_after))
    first = await _first_message(messages)
    log.info("SSE stream opened", extra={"task_id": task_id, "user_id": user_id})
    return EventSourceResponse(_sse_events(first, messages, task_id), ping=3600, send_timeout=30,
                               headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _first_message(messages: AsyncIterator) -> tuple | None:
    """Run the stream up to its first message, so that a 404 or 401 is still an HTTP status."""
    try:
        return await anext(messages)
    except StopAsyncIteration:
        return None
    except BaseException:
        await messages.aclose()
        raise


async def _sse_events(first: tuple | None, messages: AsyncIterator, task_id: uuid.UUID) -> AsyncIterator[dict]:
    try:
        if first is None:
            return
        yield _sse(*first)
        async for item in messages:
            yield _sse(*item)
    finally:
        await messages.aclose()
        log.info("SSE stream closed", extra={"task_id": task_id})


def _sse(kind: str, event_id: str | None, data: dict) -> dict:
    event = {"event": kind, "data": _json(data)}
    if event_id is not None:
        event["id"] = event_id
    if kind == "snapshot":
        event["retry"] = 1000
    return event


def _json(data: dict) -> str:
    return json.dumps(data, separators=(",", ":"))


@router.websocket("/tasks/{task_id}/ws")
async def stream_websocket(websocket: WebSocket, task_id: uuid.UUID, stream_token: str | None = None,
                           last_event_id: str | None = None) -> None:
    """Send the same messages as the SSE stream as JSON `{type, data, id}`; close code 1000 at the end."""
    app = websocket.app
    try:
        user_id = authorize_stream(app.state.settings, stream_token, task_id)
        messages = task_messages(app, user_id, task_id, parse_cursor(last_event_id))
        first = await _first_message(messages)
    except (NotAuthenticatedError, TaskNotFoundError) as error:
        await websocket.send_denial_response(
            JSONResponse({"detail": error.detail, "code": error.code}, status_code=error.status))
        return
    await websocket.accept()
    log.info("WebSocket stream opened", extra={"task_id": task_id, "user_id": user_id})
    receiver = asyncio.create_task(_drain_client(websocket))
    try:
        if first is not None:
            await _send(websocket, receiver, *first)
            async for item in messages:
                await _send(websocket, receiver, *item)
        await websocket.close(code=1000)
    except (WebSocketDisconnect, ClientGoneError):
        pass
    finally:
        receiver.cancel()
        await asyncio.gather(receiver, return_exceptions=True)
        await messages.aclose()
        log.info("WebSocket stream closed", extra={"task_id": task_id})


class ClientGoneError(Exception):
    """Raised when the WebSocket client has disconnected."""


async def _send(websocket: WebSocket, receiver: asyncio.Task, kind: str, event_id: str | None, data: dict) -> None:
    if receiver.done():
        raise ClientGoneError
    await websocket.send_json({"type": kind, "data": data, "id": event_id})


async def _drain_client(websocket: WebSocket) -> None:
    """Read and discard client frames until it disconnects, so a closed socket is noticed at once."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
