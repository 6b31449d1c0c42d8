"""Fixtures of the read-side tests: events produced onto the real topics, users, tokens, clients.

The tests write events with `common.kafka.create_producer` exactly as the
command API and the workers do, under fresh random task ids, and then read
what the running projector and query API made of them.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from common.kafka import create_producer
from common.settings import ServiceSettings
from tests.integration.read_side.factories import User, create_user


@pytest.fixture(scope="session")
def settings(stack) -> ServiceSettings:
    return ServiceSettings()


@pytest.fixture(scope="session")
async def engine(settings) -> AsyncEngine:
    engine = create_async_engine(settings.database_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def producer(settings):
    producer = create_producer(settings)
    await producer.start()
    yield producer
    await producer.stop()


@pytest.fixture
async def user(engine, settings) -> User:
    return await create_user(engine, settings)


@pytest.fixture
async def other_user(engine, settings) -> User:
    return await create_user(engine, settings)


@pytest.fixture
async def query_client(stack):
    """A client of one query API instance, without nginx."""
    async with httpx.AsyncClient(base_url=stack.query_api[0], timeout=30) as client:
        yield client
