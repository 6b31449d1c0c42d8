"""Pieces every FastAPI service shares: instance header, request ids, latency metrics, health.

Every response carries `X-Instance` (which process responded, so tests and
operators can see nginx balancing) and `X-Request-ID` (taken from nginx's
header or generated), and every request is timed into a Prometheus histogram.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest

log = logging.getLogger(__name__)

REQUEST_LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time from request received to response headers sent, by route and status.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

HealthCheck = Callable[[], Awaitable[dict]]


def install_common_routes(app: FastAPI, instance_id: str, health: HealthCheck) -> None:
    """Add the instance and request-id headers, latency metrics, `/healthz` and `/metrics`."""

    @app.middleware("http")
    async def tag_and_time(request: Request, call_next):
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        request.state.request_id = request_id
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        REQUEST_LATENCY.labels(
            request.method, getattr(route, "path", "unmatched"), str(response.status_code)
        ).observe(time.perf_counter() - started)
        response.headers["X-Instance"] = instance_id
        response.headers["X-Request-ID"] = request_id
        return response

    @app.get("/healthz", tags=["operations"], summary="Health check")
    async def healthz(response: Response) -> dict:
        """Report whether this instance is ready to serve; 503 while it is not."""
        report = await health()
        report["instance"] = instance_id
        if report.get("status") != "ok":
            response.status_code = 503
        return report

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
