"""Solver worker service: joins the worker consumer group on `task-events`.

NOTE: the task loop (claim, solve in a child process, report) is not built yet;
this process only keeps its group membership and reports health.
"""

from __future__ import annotations

import asyncio
import logging

from common.kafka import create_consumer, start_with_retry
from common.service import run_service
from solver_worker.settings import SolverWorkerSettings

log = logging.getLogger(__name__)


async def run(settings: SolverWorkerSettings) -> None:
    state = {"connected": False}

    async def main(stop: asyncio.Event) -> None:
        consumer = create_consumer(settings, settings.topic_task_events, group_id=settings.consumer_group)
        await start_with_retry(consumer, "solver_worker consumer")
        state["connected"] = True
        try:
            while not stop.is_set():
                await consumer.getmany(timeout_ms=500)
        finally:
            await consumer.stop()

    async def health() -> dict:
        return {"status": "ok" if state["connected"] else "starting", "service": "solver_worker"}

    await run_service("solver_worker", settings.instance_id, settings.worker_health_host, settings.health_port,
                      main, health)
