"""Fixtures shared by every test: where the running stack is and how to reach it.

The integration and end-to-end tests talk to the real local stack that
`bin/stack test` starts (Kafka, PostgreSQL, nginx and the services). A test
that needs it and finds it down fails with the command to run; it never skips.
"""

from __future__ import annotations

import os
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class StackEndpoints:
    """Addresses of the local stack, from the same variables bin/stack reads."""

    nginx_https: str
    nginx_http: str
    command_api: tuple[str, str]
    query_api: tuple[str, str]
    projector_health: str
    worker_health_base: int
    tls_cert: Path
    database_url: str
    kafka_bootstrap: str

    def worker_health(self, number: int) -> str:
        return f"http://127.0.0.1:{self.worker_health_base + number}"


@pytest.fixture(scope="session")
def endpoints() -> StackEndpoints:
    return StackEndpoints(
        nginx_https=f"https://127.0.0.1:{_env('NGINX_HTTPS_PORT', '8443')}",
        nginx_http=f"http://127.0.0.1:{_env('NGINX_HTTP_PORT', '8080')}",
        command_api=(f"http://127.0.0.1:{_env('COMMAND_API_PORT_1', '8101')}",
                     f"http://127.0.0.1:{_env('COMMAND_API_PORT_2', '8102')}"),
        query_api=(f"http://127.0.0.1:{_env('QUERY_API_PORT_1', '8201')}",
                   f"http://127.0.0.1:{_env('QUERY_API_PORT_2', '8202')}"),
        projector_health=f"http://127.0.0.1:{_env('PROJECTOR_HEALTH_PORT', '8401')}",
        worker_health_base=int(_env("WORKER_HEALTH_PORT_BASE", "8300")),
        tls_cert=REPO_ROOT / ".stack" / "tls" / "server.crt",
        database_url=_env("DATABASE_URL", "postgresql+asyncpg://sct:sct@127.0.0.1:15432/sct"),
        kafka_bootstrap=_env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"),
    )


@pytest.fixture(scope="session")
def stack(endpoints: StackEndpoints) -> StackEndpoints:
    """Return the running stack; fail (never skip) when nginx does not respond over TLS."""
    if not endpoints.tls_cert.exists():
        pytest.fail(f"no TLS certificate at {endpoints.tls_cert}: start the stack with `bin/stack up`")
    try:
        httpx.get(f"{endpoints.nginx_https}/command/healthz", verify=tls_context(endpoints), timeout=5)
    except httpx.HTTPError as error:
        pytest.fail(f"the local stack does not respond at {endpoints.nginx_https} ({error}): run `bin/stack up`")
    return endpoints


def free_port() -> int:
    """Return a loopback port that no process listens on now, for a server a test starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tls_context(endpoints: StackEndpoints) -> ssl.SSLContext:
    """Trust exactly the stack's self-signed certificate, so TLS is verified for real."""
    context = ssl.create_default_context(cafile=str(endpoints.tls_cert))
    return context


@pytest.fixture
async def nginx_client(stack: StackEndpoints):
    """An HTTP/1.1 client to nginx over verified TLS."""
    async with httpx.AsyncClient(base_url=stack.nginx_https, verify=tls_context(stack), timeout=30) as client:
        yield client


def pytest_collection_modifyitems(config, items):
    """Run tests marked `disruptive` last, so that a broker restart cannot disturb the others."""
    items.sort(key=lambda item: item.get_closest_marker("disruptive") is not None)
