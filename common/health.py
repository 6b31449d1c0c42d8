"""A small HTTP server with `/healthz` and `/metrics` for services that have no API.

The solver workers and the projector run it beside their consumer loop, so the
stack script and Prometheus check them the same way as the APIs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

log = logging.getLogger(__name__)


class HealthServer:
    """Serves health and metrics on `host:port` until `stop()`."""

    def __init__(self, host: str, port: int, instance_id: str, health: Callable[[], Awaitable[dict]]) -> None:
        self.host, self.port, self.instance_id, self.health = host, port, instance_id, health
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        log.info("health server listening on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, request: web.Request) -> web.Response:
        report = await self.health()
        report["instance"] = self.instance_id
        return web.json_response(report, status=200 if report.get("status") == "ok" else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})
