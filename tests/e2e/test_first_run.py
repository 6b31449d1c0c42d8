"""The first real run: a real matrix through nginx over TLS, followed over SSE and WebSocket.

A user registers, uploads 1138_bus (a 1138 x 1138 SPD power-network matrix)
with b = A·1 as a Matrix Market file, follows the live progress on both
streams at once, downloads x and checks the residual; the history shows the
task and another user gets 404 for it.
"""

from __future__ import annotations

import asyncio
import io
import json

import numpy as np
import pytest
import scipy.io
import websockets

from tests.conftest import tls_context
from tests.e2e.conftest import register
from tests.integration.read_side.factories import sse_messages

pytestmark = pytest.mark.stack

MATRIX = "1138_bus.mtx"
# Generated dense problems that keep the workers busy, so the real task waits in the
# queue until both streams are open and its whole run is seen live. They are cancelled then.
BLOCKER = {"method": "auto", "generator": {"kind": "random_dense", "n": 2500, "seed": 1}}
BLOCKERS = 2


def right_hand_side(matrix_path) -> tuple[object, bytes]:
    """Return A and b = A·1 as a Matrix Market array file."""
    a = scipy.io.mmread(matrix_path).tocsr()
    buffer = io.BytesIO()
    scipy.io.mmwrite(buffer, (a @ np.ones(a.shape[1])).reshape(-1, 1), field="real")
    return a, buffer.getvalue()


async def follow_sse(client, task_id, token) -> list[tuple[str, dict]]:
    received = []
    async with client.stream("GET", f"/query/v1/tasks/{task_id}/events", params={"stream_token": token}) as response:
        assert response.status_code == 200
        async for event, _, data in sse_messages(response):
            received.append((event, json.loads(data)))
    return received


async def follow_websocket(stack, task_id, token) -> list[tuple[str, dict]]:
    url = f"wss://127.0.0.1:{stack.nginx_https.rsplit(':', 1)[1]}/query/v1/tasks/{task_id}/ws?stream_token={token}"
    async with websockets.connect(url, ssl=tls_context(stack)) as socket:
        return [(message["type"], message["data"]) for message in map(json.loads, [raw async for raw in socket])]


def check_stream(messages: list[tuple[str, dict]], name: str) -> None:
    kinds = [kind for kind, _ in messages if kind != "heartbeat"]
    percents = [data["percent"] for kind, data in messages if kind == "progress"]
    assert kinds[0] == "snapshot", name
    assert len(percents) >= 1, f"{name}: no progress event in {kinds}"
    assert percents == sorted(percents), f"{name}: percent decreased: {percents}"
    assert kinds[-1] == "status", name
    assert messages[-1][1]["status"] == "completed", f"{name}: {messages[-1]}"


async def test_real_matrix_end_to_end(nginx_client, stack, matrices_dir):
    owner, stranger = await register(nginx_client), await register(nginx_client)
    a, b_file = right_hand_side(matrices_dir / MATRIX)
    blockers = [(await nginx_client.post("/command/v1/tasks", json=BLOCKER, headers=owner.headers)).json()["task_id"]
                for _ in range(BLOCKERS)]

    upload = await nginx_client.post(
        "/command/v1/tasks/upload", headers=owner.headers, data={"method": "auto"},
        files={"a": (MATRIX, (matrices_dir / MATRIX).read_bytes()), "b": ("b.mtx", b_file)})
    assert upload.status_code == 202, upload.text
    task_id, consistency = upload.json()["task_id"], upload.json()["consistency_token"]
    detail = await nginx_client.get(f"/query/v1/tasks/{task_id}",
                                    headers={**owner.headers, "X-Consistency-Token": consistency})
    assert detail.status_code == 200
    assert detail.json()["rows"] == a.shape[0]

    tokens = [(await nginx_client.post(f"/query/v1/tasks/{task_id}/stream-token", headers=owner.headers)).json()
              ["stream_token"] for _ in range(2)]
    sse = asyncio.create_task(follow_sse(nginx_client, task_id, tokens[0]))
    ws = asyncio.create_task(follow_websocket(stack, task_id, tokens[1]))
    await asyncio.sleep(0.5)
    for blocker in blockers:
        await nginx_client.post(f"/command/v1/tasks/{blocker}/cancel", headers=owner.headers)
    sse_messages_, ws_messages = await asyncio.wait_for(asyncio.gather(sse, ws), timeout=120)

    check_stream(sse_messages_, "SSE")
    check_stream(ws_messages, "WebSocket")
    assert sse_messages_[0][1]["status"] == "queued"

    # The live stream can be ahead of the read model, so the read waits for the final message's event.
    result = await nginx_client.get(f"/query/v1/tasks/{task_id}/result", params={"format": "npy"}, headers={
        **owner.headers, "X-Consistency-Token": sse_messages_[-1][1]["consistency_token"]})
    assert result.status_code == 200, result.text
    x = np.load(io.BytesIO(result.content))
    b = a @ np.ones(a.shape[1])
    assert np.linalg.norm(a @ x - b) / np.linalg.norm(b) < 1e-8
    assert np.allclose(x, 1.0, atol=1e-4)

    history = await nginx_client.get("/query/v1/tasks", headers=owner.headers)
    assert task_id in [item["task_id"] for item in history.json()["items"]]
    for path in (f"/query/v1/tasks/{task_id}", f"/query/v1/tasks/{task_id}/result",
                 f"/query/v1/tasks/{task_id}/history"):
        assert (await nginx_client.get(path, headers=stranger.headers)).status_code == 404, path
    token = await nginx_client.post(f"/query/v1/tasks/{task_id}/stream-token", headers=stranger.headers)
    assert token.status_code == 404
