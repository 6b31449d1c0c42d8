"""Live progress over SSE and WebSocket through nginx: snapshot, order, resume, ownership, load."""

from __future__ import annotations

import asyncio
import json
import ssl
import time

import httpx
import pytest
import websockets

from tests.conftest import tls_context
from tests.integration.read_side.factories import (
    EventLog, completed, progressed, sse_messages, wait_for_projection,
)

pytestmark = pytest.mark.stack


async def running_task(producer, settings, engine, user) -> EventLog:
    log = EventLog(producer, settings, user.user_id)
    await wait_for_projection(engine, await log.submit_and_claim())
    return log


async def stream_token(client, user, log) -> str:
    response = await client.post(f"/query/v1/tasks/{log.task_id}/stream-token", headers=user.headers)
    assert response.status_code == 200
    return response.json()["stream_token"]


async def emit_progress_then_complete(log: EventLog, fractions) -> None:
    await asyncio.sleep(0.3)  # the stream is subscribed by now; later messages arrive live
    for fraction in fractions:
        await log.send(progressed(fraction))
    await log.send(completed())


async def collect_sse(client, path, headers=None, stop_after=None) -> list[tuple[str, str, dict]]:
    received = []
    async with client.stream("GET", path, headers=headers or {}) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        async for event, event_id, data in sse_messages(response):
            received.append((event, event_id, json.loads(data)))
            if stop_after is not None and len(received) >= stop_after:
                break
    return received


async def test_sse_snapshot_progress_completion(nginx_client, producer, settings, engine, user):
    log = await running_task(producer, settings, engine, user)
    token = await stream_token(nginx_client, user, log)

    emitter = asyncio.create_task(emit_progress_then_complete(log, [0.1, 0.4, 0.3, 0.8]))
    messages = await asyncio.wait_for(
        collect_sse(nginx_client, f"/query/v1/tasks/{log.task_id}/events?stream_token={token}"), 30)
    await emitter

    kinds = [kind for kind, _, _ in messages if kind != "heartbeat"]
    percents = [data["percent"] for kind, _, data in messages if kind == "progress"]
    assert kinds[0] == "snapshot"
    assert messages[0][2]["status"] == "running"
    assert percents == [10.0, 40.0, 80.0]
    assert kinds[-1] == "status"
    assert messages[-1][2]["status"] == "completed"


async def test_websocket_same_messages(nginx_client, stack, producer, settings, engine, user):
    log = await running_task(producer, settings, engine, user)
    token = await stream_token(nginx_client, user, log)
    url = f"wss://127.0.0.1:{stack.nginx_https.rsplit(':', 1)[1]}/query/v1/tasks/{log.task_id}/ws?stream_token={token}"

    emitter = asyncio.create_task(emit_progress_then_complete(log, [0.2, 0.6]))
    received = []
    async with websockets.connect(url, ssl=tls_context(stack)) as socket:
        async for raw in socket:
            received.append(json.loads(raw))
    await emitter

    kinds = [message["type"] for message in received if message["type"] != "heartbeat"]
    assert kinds == ["snapshot", "progress", "progress", "status"], received
    assert [message["data"]["percent"] for message in received if message["type"] == "progress"] == [20.0, 60.0]
    assert received[-1]["data"]["status"] == "completed"


@pytest.mark.parametrize("resume_by", ["header", "query"])
async def test_sse_resume_has_no_gaps(nginx_client, producer, settings, engine, user, resume_by):
    log = await running_task(producer, settings, engine, user)
    token = await stream_token(nginx_client, user, log)
    path = f"/query/v1/tasks/{log.task_id}/events?stream_token={token}"

    emitter = asyncio.create_task(log.send(progressed(0.1)))
    first = await asyncio.wait_for(collect_sse(nginx_client, path, stop_after=2), 20)
    await emitter
    last_id = first[-1][1]
    for fraction in (0.2, 0.3):
        await log.send(progressed(fraction))
    await log.send(completed())
    if resume_by == "header":
        second = await asyncio.wait_for(collect_sse(nginx_client, path, headers={"Last-Event-ID": last_id}), 20)
    else:
        fresh_token = await stream_token(nginx_client, user, log)
        resumed_path = f"/query/v1/tasks/{log.task_id}/events?stream_token={fresh_token}&last_event_id={last_id}"
        second = await asyncio.wait_for(collect_sse(nginx_client, resumed_path), 20)

    assert [kind for kind, _, _ in first] == ["snapshot", "progress"]
    assert [kind for kind, _, _ in second if kind != "heartbeat"] == ["progress", "progress", "status"]
    assert [data["percent"] for kind, _, data in second if kind == "progress"] == [20.0, 30.0]


async def test_stream_of_finished_task_ends(nginx_client, producer, settings, engine, user):
    log = await running_task(producer, settings, engine, user)
    await wait_for_projection(engine, await log.send(completed()))
    token = await stream_token(nginx_client, user, log)

    messages = await asyncio.wait_for(
        collect_sse(nginx_client, f"/query/v1/tasks/{log.task_id}/events?stream_token={token}"), 10)

    assert [kind for kind, _, _ in messages] == ["snapshot"]
    assert messages[0][2]["status"] == "completed"


async def test_stream_token_bound_to_task(nginx_client, stack, producer, settings, engine, user):
    mine = await running_task(producer, settings, engine, user)
    other = await running_task(producer, settings, engine, user)
    token = await stream_token(nginx_client, user, mine)

    sse = await nginx_client.get(f"/query/v1/tasks/{other.task_id}/events?stream_token={token}")
    port = stack.nginx_https.rsplit(":", 1)[1]
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(f"wss://127.0.0.1:{port}/query/v1/tasks/{other.task_id}/ws?stream_token={token}",
                                 ssl=tls_context(stack))

    assert sse.status_code == 404
    assert refused.value.response.status_code == 404


async def test_stream_rejects_access_token(nginx_client, producer, settings, engine, user):
    log = await running_task(producer, settings, engine, user)

    response = await nginx_client.get(f"/query/v1/tasks/{log.task_id}/events?stream_token={user.access_token}")

    assert response.status_code == 401
    assert "stream" in response.json()["detail"]


async def open_raw_stream(host: str, port: int, path: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode())
    await writer.drain()
    status = await reader.readline()
    assert b" 200 " in status, status
    return reader, writer


async def median_latency(client: httpx.AsyncClient, path: str, headers: dict, count: int = 30) -> float:
    samples = []
    for _ in range(count):
        started_at = time.perf_counter()
        response = await client.get(path, headers=headers)
        samples.append(time.perf_counter() - started_at)
        assert response.status_code == 200
    return sorted(samples)[len(samples) // 2]


async def test_thousand_streams_leave_api_fast(stack, producer, settings, engine, user):
    log = await running_task(producer, settings, engine, user)
    host, port = stack.query_api[0].removeprefix("http://").split(":")
    command = httpx.AsyncClient(base_url=stack.command_api[0], timeout=30)
    async with command, httpx.AsyncClient(base_url=stack.query_api[0], timeout=30) as client:
        before_health = await median_latency(client, "/healthz", {})
        before_history = await median_latency(client, "/v1/tasks", user.headers)
        before_command = await median_latency(command, "/healthz", {})
        token = (await client.post(f"/v1/tasks/{log.task_id}/stream-token", headers=user.headers)).json()
        path = f"/v1/tasks/{log.task_id}/events?stream_token={token['stream_token']}"

        streams = []
        for start in range(0, 1000, 100):
            streams += await asyncio.gather(*(open_raw_stream(host, int(port), path) for _ in range(100)))
        during_health = await median_latency(client, "/healthz", {})
        during_history = await median_latency(client, "/v1/tasks", user.headers)
        during_command = await median_latency(command, "/healthz", {})
        opened = await subscribers(client)

        for _, writer in streams:
            writer.close()
        await asyncio.gather(*(writer.wait_closed() for _, writer in streams), return_exceptions=True)
        deadline = time.monotonic() + 15
        while await subscribers(client) > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        after = await subscribers(client)

    assert opened >= 1000
    assert after == 0
    assert during_health < max(5 * before_health, 0.02)
    assert during_history < max(5 * before_history, 0.05)
    assert during_command < max(5 * before_command, 0.02)


async def subscribers(client: httpx.AsyncClient) -> float:
    metrics = (await client.get("/metrics")).text
    line = next(line for line in metrics.splitlines() if line.startswith("query_live_subscribers "))
    return float(line.split()[1])
