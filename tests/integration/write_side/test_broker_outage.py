"""Broker stopped during a submit: 503, and neither a blob nor an event nor a reservation is left behind."""

from __future__ import annotations

import asyncio
import hashlib
import io
import subprocess
import uuid

import httpx
import numpy as np
import pytest
from aiokafka import TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from common.blobs import BlobStore
from common.kafka import create_consumer
from common.settings import ServiceSettings
from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.stack, pytest.mark.disruptive]


def stack_ctl(*args: str) -> None:
    subprocess.run(["timeout", "-k", "5", "90", str(REPO_ROOT / "bin" / "stack"), "ctl", *args], check=True,
                   cwd=REPO_ROOT, capture_output=True)


def broker_answers() -> bool:
    result = subprocess.run(["timeout", "-k", "5", "15", str(REPO_ROOT / ".venv" / "bin" / "python"), "-m",
                             "infra.topics", "--check"], cwd=REPO_ROOT, capture_output=True)
    return result.returncode == 0


async def wait_for_broker(timeout: float = 90) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await asyncio.to_thread(broker_answers):
        if loop.time() > deadline:
            raise AssertionError(f"the broker did not come back within {timeout} s")
        await asyncio.sleep(1)


async def log_offsets(settings: ServiceSettings) -> tuple[dict, object]:
    consumer = create_consumer(settings, group_id=None)
    await consumer.start()
    partitions = [TopicPartition(settings.topic_task_events, p) for p in range(settings.topic_task_events_partitions)]
    return await consumer.end_offsets(partitions), consumer


async def records_since(consumer, offsets: dict) -> list[bytes]:
    ends = await consumer.end_offsets(list(offsets))
    consumer.assign(list(offsets))
    for tp, offset in offsets.items():
        consumer.seek(tp, offset)
    values = []
    for _ in range(120):
        positions = {tp: await consumer.position(tp) for tp in offsets}
        if all(positions[tp] >= ends[tp] for tp in offsets):
            break
        for records in (await consumer.getmany(timeout_ms=500)).values():
            values.extend(record.value for record in records)
    return values


async def test_submit_during_outage_leaves_nothing(command_client: httpx.AsyncClient, stack):
    settings = ServiceSettings(instance_id="test-outage")
    matrix = np.random.default_rng(uuid.uuid4().int % 2**32).standard_normal((150, 150)) + 150 * np.eye(150)
    buffer = io.BytesIO()
    np.save(buffer, matrix)
    data = buffer.getvalue()
    sha256 = hashlib.sha256(data).hexdigest()
    key = f"outage-{uuid.uuid4()}"
    files = {"a": ("a.npy", data), "b": ("b.csv", b"1\n" * 150)}
    offsets, consumer = await log_offsets(settings)

    try:
        await asyncio.to_thread(stack_ctl, "stop", "infra:kafka")
        response = await command_client.post("/command/v1/tasks/upload", files=files,
                                             headers={"Idempotency-Key": key}, timeout=60)
    finally:
        await asyncio.to_thread(stack_ctl, "start", "infra:kafka")
        await wait_for_broker()

    try:
        assert response.status_code == 503, response.text
        assert response.json()["code"] == "broker_unavailable"
        assert "nothing was recorded" in response.json()["detail"]
        assert not BlobStore(REPO_ROOT / settings.blob_dir).exists(sha256)
        assert await idempotency_rows(stack.database_url, key) == 0

        retried = await retry_until_accepted(command_client, files, key)
        assert retried.status_code == 202, retried.text
        values = await records_since(consumer, offsets)
        submits = [value for value in values if sha256.encode() in value and b'"TaskSubmitted"' in value]
        assert len(submits) == 1, f"expected exactly the retried submit, found {submits}"
    finally:
        await consumer.stop()


async def retry_until_accepted(client: httpx.AsyncClient, files: dict, key: str) -> httpx.Response:
    """Retry the submit while the command API's producer reconnects; return the first response that is not 503."""
    for _ in range(30):
        response = await client.post("/command/v1/tasks/upload", files=files, headers={"Idempotency-Key": key},
                                     timeout=60)
        if response.status_code != 503:
            return response
        await asyncio.sleep(1)
    return response


async def idempotency_rows(database_url: str, key: str) -> int:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(text("SELECT count(*) FROM idempotency_keys WHERE key = :key"),
                                              {"key": key})
            return result.scalar_one()
    finally:
        await engine.dispose()
