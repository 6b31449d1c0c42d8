"""FastAPI application of the command API: validates requests and records them as events."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from command_api.errors import install_error_handlers
from command_api.problems import ProblemStore
from command_api.publisher import EventPublisher
from command_api.routes import auth, tasks
from command_api.settings import CommandApiSettings
from command_api.tasks import CommandContext
from common.blobs import BlobStore
from common.db import create_engine, prepare_schema
from common.http import install_common_routes
from common.kafka import create_producer
from schemas.events import Producer

log = logging.getLogger(__name__)

DESCRIPTION = """Write side of Solve Complex Task: register, log in, submit linear systems A x = b and cancel them.

Every accepted command is an event on the log; a 202 means the broker has
acknowledged it. Read your tasks through the query API at the returned
`task_url`, passing `consistency_token` as `X-Consistency-Token`.
Errors are `{"detail": ..., "code": ...}` and `detail` names the value and the fix."""


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("command_api could not start: migrations or broker connection failed",
                  exc_info=task.exception())


def create_app(settings: CommandApiSettings) -> FastAPI:
    state: dict = {"schema": "pending"}
    publisher = EventPublisher(
        settings, lambda: create_producer(settings, request_timeout_ms=settings.kafka_request_timeout_ms),
        timeout_s=settings.kafka_request_timeout_ms / 1000)

    async def prepare() -> None:
        state["schema"] = await prepare_schema(app.state.engine, settings, settings.run_migrations)
        await publisher.connect()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        log.info("command_api starting (run_migrations=%s)", settings.run_migrations)
        app.state.settings = settings
        app.state.engine = create_engine(settings)
        app.state.context = CommandContext(
            engine=app.state.engine, publisher=publisher,
            problems=ProblemStore(BlobStore(settings.blob_dir), settings.inline_max_bytes),
            producer=Producer(service="command_api", instance=settings.instance_id),
            query_api_public_url=settings.query_api_public_url.rstrip("/"),
            idempotency_stale_s=settings.idempotency_stale_s)
        preparing = asyncio.create_task(prepare())
        preparing.add_done_callback(_log_failure)
        try:
            yield
        finally:
            preparing.cancel()
            await asyncio.gather(preparing, return_exceptions=True)
            await publisher.close()
            await app.state.engine.dispose()
            log.info("command_api stopped")

    async def health() -> dict:
        ready = state["schema"] in ("applied", "waited") and publisher.producer is not None
        return {"status": "ok" if ready else "starting", "service": "command_api", "migrations": state["schema"],
                "broker": "connected" if publisher.producer is not None else "reconnecting"}

    app = FastAPI(title="Solve Complex Task — command API", version="1.0.0", lifespan=lifespan,
                  description=DESCRIPTION)
    max_body = settings.max_upload_mb * 1024 * 1024

    @app.middleware("http")
    async def reject_large_bodies(request: Request, call_next):
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > max_body:
            return JSONResponse({"detail": f"request body has {length} bytes, more than the limit of "
                                           f"{settings.max_upload_mb} MiB; send a sparse .mtx file or a "
                                           "generator spec instead", "code": "payload_too_large"}, status_code=413)
        return await call_next(request)

    install_error_handlers(app)
    install_common_routes(app, settings.instance_id, health)
    app.include_router(auth.router)
    app.include_router(tasks.router)
    return app
