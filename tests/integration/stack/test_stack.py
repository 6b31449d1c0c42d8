"""The local stack is real: Kafka, PostgreSQL, migrations, nginx balancing and failover."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections import Counter

import httpx
import pytest
from aiokafka.admin import NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from common.db import head_revision
from common.kafka import create_admin, create_consumer, create_producer
from common.settings import ServiceSettings
from schemas.events import Producer, WorkerHeartbeat, decode, encode, make_event
from tests.conftest import REPO_ROOT, StackEndpoints, free_port, tls_context

pytestmark = pytest.mark.stack


async def test_kafka_event_roundtrip(stack: StackEndpoints):
    settings = ServiceSettings(instance_id="test-roundtrip")
    topic = f"selftest-{uuid.uuid4().hex[:8]}"
    admin = create_admin(settings)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 1, 1)])
    producer = create_producer(settings)
    consumer = create_consumer(settings, topic, group_id=f"selftest-{uuid.uuid4().hex[:8]}",
                               auto_offset_reset="earliest")
    try:
        await producer.start()
        event = make_event(
            WorkerHeartbeat(worker="test", lease_expires_at="2030-01-01T00:00:00Z"),
            task_id=uuid.uuid4(), user_id=None, attempt=1, producer=Producer(service="tests", instance="t"),
        )
        key, value, headers = encode(event)
        await producer.send_and_wait(topic, value, key=key, headers=headers)

        await consumer.start()
        record = await asyncio.wait_for(consumer.getone(), timeout=30)
    finally:
        await producer.stop()
        await consumer.stop()
        await admin.delete_topics([topic])
        await admin.close()

    assert record.key == key
    assert dict(record.headers)["event_type"] == b"WorkerHeartbeat"
    assert decode(record.value) == event


async def test_topics_have_configured_partitions_and_retention(stack: StackEndpoints):
    settings = ServiceSettings(instance_id="test-topics")
    admin = create_admin(settings)
    await admin.start()
    try:
        described = {topic["topic"]: topic for topic in await admin.describe_topics(
            [settings.topic_task_events, settings.topic_task_progress])}
        responses = await admin.describe_configs([
            ConfigResource(ConfigResourceType.TOPIC, settings.topic_task_events),
            ConfigResource(ConfigResourceType.TOPIC, settings.topic_task_progress),
        ])
    finally:
        await admin.close()

    assert len(described[settings.topic_task_events]["partitions"]) == settings.topic_task_events_partitions
    assert len(described[settings.topic_task_progress]["partitions"]) == settings.topic_task_progress_partitions
    retention = {}
    for response in responses:
        for resource in response.resources:
            configs = {entry[0]: entry[1] for entry in resource[4]}
            retention[resource[3]] = configs["retention.ms"]
    assert retention[settings.topic_task_events] == "-1"
    assert retention[settings.topic_task_progress] == str(int(settings.topic_task_progress_retention_hours * 3_600_000))


async def test_migrations_applied_to_head(stack: StackEndpoints):
    engine = create_async_engine(stack.database_url)
    try:
        async with engine.connect() as connection:
            revision = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
            tables = set((await connection.execute(text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"))).scalars())
    finally:
        await engine.dispose()

    assert revision == head_revision()
    assert {"users", "tasks", "results", "task_events", "projector_positions", "idempotency_keys"} <= tables


async def test_run_migrations_honoured_by_one_instance(stack: StackEndpoints):
    async with httpx.AsyncClient(timeout=5) as client:
        first = (await client.get(f"{stack.command_api[0]}/healthz")).json()
        second = (await client.get(f"{stack.command_api[1]}/healthz")).json()

    assert first["migrations"] == "applied"
    assert second["migrations"] == "waited"


async def test_instance_without_run_migrations_waits_for_schema(stack: StackEndpoints, tmp_path):
    database = f"sct_wait_{uuid.uuid4().hex[:8]}"
    admin_url = stack.database_url
    database_url = admin_url.rsplit("/", 1)[0] + f"/{database}"
    admin_engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin_engine.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{database}"'))
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "PORT": str(port), "RUN_MIGRATIONS": "false",
           "INSTANCE_ID": "command_api-waiting"}
    log_path = tmp_path / "command_api.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen([str(REPO_ROOT / ".venv/bin/python"), "-m", "command_api"], env=env,
                                   stdout=log_file, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
    try:
        waiting = await _wait_for_health(f"http://127.0.0.1:{port}/healthz", lambda r: r.status_code == 503)
        assert waiting.json()["migrations"] == "pending"
        await asyncio.sleep(2)  # keep waiting: the instance must not migrate by itself
        assert await _revision(database_url) is None

        await asyncio.to_thread(_alembic_upgrade, database_url)
        ready = await _wait_for_health(f"http://127.0.0.1:{port}/healthz", lambda r: r.status_code == 200)
        assert ready.json()["migrations"] == "waited"
    finally:
        process.terminate()
        process.wait(timeout=20)
        async with admin_engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        await admin_engine.dispose()
    assert "waiting for migrations" in log_path.read_text()


@pytest.mark.parametrize("prefix", ["command", "query"])
async def test_nginx_balances_across_both_instances(nginx_client: httpx.AsyncClient, prefix: str):
    instances = Counter()
    for _ in range(8):
        response = await nginx_client.get(f"/{prefix}/healthz")
        assert response.status_code == 200
        instances[response.headers["x-instance"]] += 1

    assert set(instances) == {f"{prefix}_api-1", f"{prefix}_api-2"}


async def test_nginx_keeps_serving_after_instance_killed(nginx_client: httpx.AsyncClient, stack: StackEndpoints):
    subprocess.run([str(REPO_ROOT / "bin/stack"), "ctl", "signal", "KILL", "apps:query_api_2"],
                   check=True, capture_output=True, timeout=30)
    try:
        statuses = Counter()
        for _ in range(20):
            response = await nginx_client.get("/query/healthz")
            statuses[response.status_code] += 1
        assert statuses == Counter({200: 20})
    finally:
        await _wait_for_health(f"{stack.query_api[1]}/healthz", lambda r: r.status_code == 200, timeout_s=60)


async def test_plain_http_redirects_to_https(stack: StackEndpoints):
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{stack.nginx_http}/query/healthz")

    assert response.status_code == 301
    assert response.headers["location"].startswith("https://")


async def test_frontend_served_over_tls(nginx_client: httpx.AsyncClient):
    response = await nginx_client.get("/history/some/client/route")

    assert response.status_code == 200
    assert "<title>" in response.text


async def test_metrics_internal_only(nginx_client: httpx.AsyncClient, stack: StackEndpoints):
    public = await nginx_client.get("/command/metrics")
    async with httpx.AsyncClient(timeout=5) as client:
        await client.get(f"{stack.command_api[0]}/healthz")
        internal = await client.get(f"{stack.command_api[0]}/metrics")

    assert public.status_code == 404
    assert internal.status_code == 200
    assert "http_request_duration_seconds" in internal.text


async def test_workers_and_projector_healthy(stack: StackEndpoints):
    async with httpx.AsyncClient(timeout=5) as client:
        worker = await client.get(f"{stack.worker_health(1)}/healthz")
        projector = await client.get(f"{stack.projector_health}/healthz")

    assert worker.status_code == 200
    assert projector.status_code == 200


async def test_tls_rejects_untrusted_client_view(stack: StackEndpoints):
    """The certificate is really checked: a client trusting only the system CAs refuses it."""
    async with httpx.AsyncClient(timeout=5) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"{stack.nginx_https}/command/healthz")
    async with httpx.AsyncClient(timeout=5, verify=tls_context(stack)) as client:
        assert (await client.get(f"{stack.nginx_https}/command/healthz")).status_code == 200


async def _wait_for_health(url: str, accept, timeout_s: float = 45) -> httpx.Response:
    deadline = asyncio.get_running_loop().time() + timeout_s
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            try:
                response = await client.get(url)
                if accept(response):
                    return response
            except httpx.TransportError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{url} did not reach the expected state within {timeout_s} s")
            await asyncio.sleep(0.3)


async def _revision(database_url: str) -> str | None:
    from common.db import current_revision

    engine = create_async_engine(database_url)
    try:
        return await current_revision(engine)
    finally:
        await engine.dispose()


def _alembic_upgrade(database_url: str) -> None:
    from alembic import command

    from common.db import alembic_config

    command.upgrade(alembic_config(database_url), "head")


async def test_consumers_expose_lag_and_task_states(stack: StackEndpoints):
    async with httpx.AsyncClient(timeout=5) as client:
        worker = (await client.get(f"{stack.worker_health(1)}/metrics")).text
        projector = (await client.get(f"{stack.projector_health}/metrics")).text

    assert "solver_worker_consumer_lag " in worker
    assert 'projector_lag_events{topic="task-events"}' in projector
    for status in ("queued", "running", "completed", "failed", "cancelled"):
        assert f'tasks_by_state{{status="{status}"}}' in projector
