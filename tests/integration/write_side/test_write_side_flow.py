"""Write side through nginx: accounts, submit to completion, idempotency, cancel of a finished task, bad inputs."""

from __future__ import annotations

import asyncio
import io
import uuid

import httpx
import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from schemas.events import parse_consistency_token
from tests.conftest import tls_context
from tests.integration.write_side.conftest import PASSWORD, EventLog, register
from tests.unit.solver.bad_inputs import BAD_INPUT_CASES

pytestmark = pytest.mark.stack

VALID_B = {"csv": b"1\n2\n", "json": b"[1, 2]", "mtx": b"%%MatrixMarket matrix array real general\n2 1\n1\n2\n"}


async def test_register_rejects_weak_password_and_taken_email(nginx_client: httpx.AsyncClient):
    email = f"taken-{uuid.uuid4().hex[:8]}@example.org"

    weak = await nginx_client.post("/command/v1/auth/register", json={"email": email, "password": "abc"})
    first = await nginx_client.post("/command/v1/auth/register", json={"email": email, "password": PASSWORD})
    again = await nginx_client.post("/command/v1/auth/register", json={"email": email.upper(), "password": PASSWORD})

    assert weak.status_code == 422
    assert weak.json()["code"] == "weak_password"
    assert "at least 10" in weak.json()["detail"]
    assert first.status_code == 201
    assert again.status_code == 409
    assert email in again.json()["detail"]


async def test_register_rejects_malformed_email(nginx_client: httpx.AsyncClient):
    response = await nginx_client.post("/command/v1/auth/register",
                                       json={"email": "ada.example.org", "password": PASSWORD})

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"
    assert "email: 'ada.example.org' is not an e-mail address; use the form name@example.org" in \
        response.json()["detail"]


async def test_login_refresh_and_throttling(nginx_client: httpx.AsyncClient):
    email = f"login-{uuid.uuid4().hex[:8]}@example.org"
    await nginx_client.post("/command/v1/auth/register", json={"email": email, "password": PASSWORD})

    good = await nginx_client.post("/command/v1/auth/token", data={"username": email, "password": PASSWORD})
    refreshed = await nginx_client.post("/command/v1/auth/refresh", json={"refresh_token": good.json()["refresh_token"]})
    access_as_refresh = await nginx_client.post("/command/v1/auth/refresh",
                                                json={"refresh_token": good.json()["access_token"]})
    failures = [await nginx_client.post("/command/v1/auth/token", data={"username": email, "password": "wrong pass 1"})
                for _ in range(6)]
    locked = await nginx_client.post("/command/v1/auth/token", data={"username": email, "password": PASSWORD})

    assert good.status_code == 200
    assert good.json()["token_type"] == "bearer"
    assert refreshed.status_code == 200
    assert refreshed.json()["access_token"]
    assert access_as_refresh.status_code == 401
    assert [r.status_code for r in failures[:5]] == [401] * 5
    assert failures[5].status_code == 429
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) >= 1


async def test_submit_requires_token(nginx_client: httpx.AsyncClient):
    response = await nginx_client.post("/command/v1/tasks", json={"a": [[1]], "b": [1]})

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


async def test_submit_start_progress_complete(command_client: httpx.AsyncClient, stack_log: EventLog):
    inline = await command_client.post("/command/v1/tasks", json={"a": [[4, 1], [1, 3]], "b": [1, 2]})
    generated = await command_client.post("/command/v1/tasks", json={
        "method": "lu", "generator": {"kind": "random_dense", "n": 4500, "seed": 5}})

    assert inline.status_code == 202, inline.text
    assert generated.status_code == 202, generated.text
    body = inline.json()
    assert body["status"] == "queued"
    assert body["task_url"] == f"/query/v1/tasks/{body['task_id']}"
    assert parse_consistency_token(body["consistency_token"])[0] == "task-events"

    done = await stack_log.wait_for(body["task_id"], "TaskCompleted", timeout=180)
    assert np.allclose(done.payload["solution"]["values"], np.linalg.solve([[4, 1], [1, 3]], [1, 2]))

    task_id = generated.json()["task_id"]
    started = await stack_log.wait_for(task_id, "TaskStarted", timeout=180)
    completed = await stack_log.wait_for(task_id, "TaskCompleted", timeout=180)
    progress = stack_log.of(task_id, "TaskProgressed")
    summary = completed.payload["summary"]
    assert started.payload["worker"]
    assert progress, "no TaskProgressed before the completion"
    assert all(0 <= p.payload["fraction"] <= 1 for p in progress)
    assert any(p.payload["eta_s"] is not None and p.payload["rate_flops_per_s"] for p in progress)
    assert summary["method"] == "lu"
    assert summary["relative_residual"] < 1e-12
    assert summary["gflops"] > 0
    assert summary["flops"] > 2 / 3 * 4500**3 * 0.9
    assert summary["peak_memory_bytes"] > 0
    assert summary["timings"]["total_s"] > 0
    assert completed.payload["solution"]["format"] == "npy"  # 4500 values exceed INLINE_SOLUTION_MAX_VALUES
    assert completed.attempt == 1


async def test_large_input_goes_to_blob_store(command_client: httpx.AsyncClient, stack_log: EventLog):
    rng = np.random.default_rng(1)
    a = (rng.standard_normal((120, 120)) + 120 * np.eye(120))
    b = rng.standard_normal(120)
    buffer = io.BytesIO()
    np.save(buffer, a)

    response = await command_client.post("/command/v1/tasks/upload", files={
        "a": ("a.npy", buffer.getvalue()), "b": ("b.csv", "\n".join(map(str, b.tolist())).encode())}, data={"method": "lu"})

    assert response.status_code == 202, response.text
    task_id = response.json()["task_id"]
    submitted = await stack_log.wait_for(task_id, "TaskSubmitted", timeout=10)
    assert submitted.payload["input"]["kind"] == "blob"
    assert submitted.payload["input"]["a"]["format"] == "npy"
    completed = await stack_log.wait_for(task_id, "TaskCompleted", timeout=180)
    assert np.allclose(completed.payload["solution"]["values"], np.linalg.solve(a, b))


async def test_same_idempotency_key_returns_same_task(command_client: httpx.AsyncClient, stack_log: EventLog):
    key = str(uuid.uuid4())
    body = {"method": "auto", "a": [[2, 0], [0, 2]], "b": [2, 4]}

    first = await command_client.post("/command/v1/tasks", json=body, headers={"Idempotency-Key": key})
    second = await command_client.post("/command/v1/tasks", json=body, headers={"Idempotency-Key": key})
    different = await command_client.post("/command/v1/tasks", json={**body, "b": [2, 5]},
                                          headers={"Idempotency-Key": key})

    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert different.status_code == 422
    assert different.json()["code"] == "idempotency_key_reused"
    task_id = first.json()["task_id"]
    await stack_log.wait_for(task_id, "TaskCompleted", timeout=180)
    assert len(stack_log.of(task_id, "TaskSubmitted")) == 1


async def test_cancel_of_finished_task_is_noop(command_client: httpx.AsyncClient, stack_log: EventLog,
                                               stack):
    submitted = await command_client.post("/command/v1/tasks", json={"a": [[1, 0], [0, 1]], "b": [1, 1]})
    task_id = submitted.json()["task_id"]
    await stack_log.wait_for(task_id, "TaskCompleted", timeout=180)
    await _wait_for_read_model(stack.database_url, task_id, "completed")

    response = await command_client.post(f"/command/v1/tasks/{task_id}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "completed"
    assert "already finished" in response.json()["detail"]
    assert stack_log.of(task_id, "TaskCancellationRequested") == []


async def test_cancel_of_other_users_task_is_404(command_client: httpx.AsyncClient, stack):
    submitted = await command_client.post("/command/v1/tasks", json={"a": [[1]], "b": [1]})
    async with httpx.AsyncClient(base_url=stack.nginx_https, verify=tls_context(stack), timeout=30) as other:
        other.headers.update(await register(other, "/command"))
        response = await other.post(f"/command/v1/tasks/{submitted.json()['task_id']}/cancel")

    assert response.status_code == 404
    assert response.json()["code"] == "task_not_found"


@pytest.mark.parametrize("description, fmt, data, fragment", BAD_INPUT_CASES, ids=[c[0] for c in BAD_INPUT_CASES])
async def test_bad_input_rejected_over_http(command_client: httpx.AsyncClient, description, fmt, data, fragment):
    response = await command_client.post("/command/v1/tasks/upload", files={
        "a": (f"a.{fmt}", data), "b": ("b.csv", VALID_B["csv"])}, data={"method": "auto"})

    assert response.status_code in (413, 422), response.text
    assert response.json()["code"] in ("invalid_input", "problem_too_large")
    assert fragment in response.json()["detail"]


async def test_bad_json_body_names_value(command_client: httpx.AsyncClient):
    cases = [
        ({"a": [[1, 2], [3]], "b": [1, 2]}, 422, "A[1] has 1 entries but row 0 has 2"),
        ({"a": [[1, 2], [3, 4]], "b": [1, 2, 3]}, 422, "A has 2 rows but b has 3 entries"),
        ({"a": [[1, 2, 3], [3, 4, 5]], "b": [1, 2], "method": "lu"}, 422, "needs a square matrix"),
        ({"generator": {"kind": "random_dense", "n": 100000}}, 413, "100000 x 100000"),
        ({"a": [[1]], "b": [1], "method": "lu", "options": {"preconditioner": "ilu"}}, 422, "applies only to"),
        ({"a": [[1]]}, 422, "b is missing"),
        ({"a": [[1]], "b": [1], "method": "magic"}, 422, "method"),
    ]
    for body, status, fragment in cases:
        response = await command_client.post("/command/v1/tasks", json=body)
        assert response.status_code == status, (body, response.text)
        assert fragment in response.json()["detail"], (body, response.text)


async def test_openapi_has_examples_for_every_route(nginx_client: httpx.AsyncClient):
    document = (await nginx_client.get("/command/openapi.json")).json()

    for path in ("/v1/auth/register", "/v1/auth/token", "/v1/auth/refresh", "/v1/tasks", "/v1/tasks/upload",
                 "/v1/tasks/{task_id}/cancel"):
        operation = document["paths"][path]["post"]
        assert operation.get("description"), path
        assert any("example" in str(response) for response in operation["responses"].values()), path


async def _wait_for_read_model(database_url: str, task_id: str, status: str, timeout: float = 30) -> None:
    engine = create_async_engine(database_url)
    try:
        for _ in range(int(timeout * 10)):
            async with engine.connect() as connection:
                row = (await connection.execute(text("SELECT status FROM tasks WHERE task_id = :id"),
                                                {"id": task_id})).first()
            if row is not None and row.status == status:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"the projector did not show task {task_id} as {status} within {timeout} s")
    finally:
        await engine.dispose()
