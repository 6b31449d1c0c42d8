"""FastAPI application of the query API: history, task details and live progress."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI

from common.db import create_engine, wait_for_schema
from common.http import install_common_routes
from query_api.settings import QueryApiSettings

log = logging.getLogger(__name__)


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
        preparing = asyncio.create_task(prepare())
        try:
            yield
        finally:
            preparing.cancel()
            await asyncio.gather(preparing, return_exceptions=True)
            await app.state.engine.dispose()
            log.info("query_api stopped")

    async def health() -> dict:
        ready = state["schema"] == "waited"
        return {"status": "ok" if ready else "starting", "service": "query_api", "migrations": state["schema"]}

    app = FastAPI(title="Solve Complex Task — query API", version="1.0.0", lifespan=lifespan)
    install_common_routes(app, settings.instance_id, health)
    return app
