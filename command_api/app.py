"""FastAPI application of the command API: validates requests and records them as events."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI

from command_api.settings import CommandApiSettings
from common.db import create_engine, prepare_schema
from common.http import install_common_routes
from common.kafka import create_producer, start_with_retry

log = logging.getLogger(__name__)


def create_app(settings: CommandApiSettings) -> FastAPI:
    state: dict = {"schema": "pending", "producer": None}

    async def prepare() -> None:
        state["schema"] = await prepare_schema(app.state.engine, settings, settings.run_migrations)
        producer = create_producer(settings)
        await start_with_retry(producer, "command_api producer")
        state["producer"] = producer

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        log.info("command_api starting (run_migrations=%s)", settings.run_migrations)
        app.state.settings = settings
        app.state.engine = create_engine(settings)
        preparing = asyncio.create_task(prepare())
        try:
            yield
        finally:
            preparing.cancel()
            await asyncio.gather(preparing, return_exceptions=True)
            if state["producer"] is not None:
                await state["producer"].stop()
            await app.state.engine.dispose()
            log.info("command_api stopped")

    async def health() -> dict:
        ready = state["schema"] in ("applied", "waited") and state["producer"] is not None
        return {"status": "ok" if ready else "starting", "service": "command_api", "migrations": state["schema"]}

    app = FastAPI(title="Solve Complex Task — command API", version="1.0.0", lifespan=lifespan)
    install_common_routes(app, settings.instance_id, health)
    return app
