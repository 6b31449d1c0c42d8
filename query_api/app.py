"""FastAPI application of the query API: history, task details, results and live progress."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI

from common.db import create_engine, wait_for_schema
from common.http import install_common_routes
from query_api import routes, streams
from query_api.errors import install_error_handlers
from query_api.live import LiveHub
from query_api.settings import QueryApiSettings

log = logging.getLogger(__name__)

DESCRIPTION = """Reads of Solve Complex Task: the signed-in user, the history of their tasks, one task with
its progress, ETA, queue estimate and complexity figures, the result in four formats, the task's event
history, and live progress over Server-Sent Events or WebSocket.

Every route except the streams needs `Authorization: Bearer <access token>` from the command API. Streams
take a `stream_token` query parameter from `POST /v1/tasks/{task_id}/stream-token`, valid for about a minute
and for one task. A task of another user is a 404 everywhere. After a write, pass the command API's
`consistency_token` as `X-Consistency-Token` to wait briefly until the write is visible."""


def create_app(settings: QueryApiSettings) -> FastAPI:
    state: dict = {"schema": "pending"}

    async def prepare() -> None:
        await wait_for_schema(app.state.engine)
        state["schema"] = "waited"

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        log.info("query_api starting")
        app.state.settings = settings
        app.state.engine = create_engine(settings)
        app.state.hub = LiveHub(settings)
        await app.state.hub.start()
        preparing = asyncio.create_task(prepare())
        try:
            yield
        finally:
            preparing.cancel()
            await asyncio.gather(preparing, return_exceptions=True)
            await app.state.hub.stop()
            await app.state.engine.dispose()
            log.info("query_api stopped")

    async def health() -> dict:
        live = app.state.hub.ready.is_set()
        ready = state["schema"] == "waited" and live
        return {"status": "ok" if ready else "starting", "service": "query_api", "migrations": state["schema"],
                "live_tail": "ready" if live else "starting"}

    app = FastAPI(title="Solve Complex Task — query API", version="1.0.0", description=DESCRIPTION,
                  lifespan=lifespan)
    install_common_routes(app, settings.instance_id, health)
    install_error_handlers(app)
    app.include_router(routes.router)
    app.include_router(streams.router)
    return app
