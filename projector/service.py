"""Projector service: builds the PostgreSQL read models from the event log.

NOTE: the projection itself is not built yet; this process waits for the
schema, checks the broker and reports health.
"""

from __future__ import annotations

import asyncio
import logging

from common.db import create_engine, wait_for_schema
from common.kafka import create_admin, start_with_retry
from common.service import run_service
from projector.settings import ProjectorSettings

log = logging.getLogger(__name__)


async def run(settings: ProjectorSettings) -> None:
    state = {"ready": False}
    engine = create_engine(settings)

    async def main(stop: asyncio.Event) -> None:
        await wait_for_schema(engine)
        admin = create_admin(settings)
        await start_with_retry(admin, "projector admin client")
        await admin.close()
        state["ready"] = True
        await stop.wait()

    async def health() -> dict:
        return {"status": "ok" if state["ready"] else "starting", "service": "projector"}

    try:
        await run_service("projector", settings.instance_id, settings.projector_health_host,
                          settings.projector_health_port, main, health)
    finally:
        await engine.dispose()
