"""Query API against the running projector: details, results, history, pagination, ownership."""

from __future__ import annotations

import asyncio
import io
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from schemas.events import TaskCancelled
from tests.integration.read_side.factories import (
    EventLog, completed, progressed, small_problem, wait_for_projection,
)

pytestmark = pytest.mark.stack


async def completed_task(producer, settings, engine, user, values=(1.0, 1.0)) -> EventLog:
    log = EventLog(producer, settings, user.user_id)
    await log.submit_and_claim()
    await wait_for_projection(engine, await log.send(progressed(0.5)))
    await wait_for_projection(engine, await log.send(completed(values)))
    return log


async def test_me_returns_caller(query_client, user):
    response = await query_client.get("/v1/me", headers=user.headers)

    assert response.status_code == 200
    assert response.json() == {"user_id": str(user.user_id), "email": user.email}


async def test_me_without_token_is_401(query_client):
    response = await query_client.get("/v1/me")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert "Authorization" in response.json()["detail"]


async def test_task_detail_after_completion(query_client, producer, settings, engine, user):
    log = await completed_task(producer, settings, engine, user)

    response = await query_client.get(f"/v1/tasks/{log.task_id}", headers=user.headers)

    assert response.status_code == 200
    task = response.json()
    assert task["status"] == "completed"
    assert task["progress"] == 1.0
    assert task["method"] == "lu"
    assert task["condition_estimate"] == 2.0
    assert task["complexity"]["formula"] == "2/3 n^3 + 2 n^2"
    assert task["result"]["available"] is True
    assert task["result"]["length"] == 2
    assert task["queue"] is None
    assert "values" not in task["input"]["a"]


@pytest.mark.parametrize("result_format", ["json", "csv", "npy", "mtx"])
async def test_result_in_every_format(query_client, producer, settings, engine, user, result_format):
    log = await completed_task(producer, settings, engine, user, values=(0.1, -2.5e-300))

    response = await query_client.get(f"/v1/tasks/{log.task_id}/result", params={"format": result_format},
                                      headers=user.headers)

    assert response.status_code == 200
    if result_format == "json":
        x = response.json()["x"]
    elif result_format == "npy":
        x = np.load(io.BytesIO(response.content)).tolist()
    else:
        lines = [line for line in response.text.splitlines() if line and not line.startswith("%")]
        x = [float(line) for line in (lines[1:] if result_format == "mtx" else lines)]
    assert x == [0.1, -2.5e-300]


async def test_result_of_running_task_is_409(query_client, producer, settings, engine, user):
    log = EventLog(producer, settings, user.user_id)
    await wait_for_projection(engine, await log.submit_and_claim())

    response = await query_client.get(f"/v1/tasks/{log.task_id}/result", headers=user.headers)

    assert response.status_code == 409
    assert response.json()["code"] == "result_not_ready"


async def test_result_of_cancelled_task_explains(query_client, producer, settings, engine, user):
    log = EventLog(producer, settings, user.user_id)
    await log.submit_and_claim()
    await wait_for_projection(engine, await log.send(TaskCancelled(reason="requested by the owner",
                                                                   while_running=True)))

    response = await query_client.get(f"/v1/tasks/{log.task_id}/result", headers=user.headers)

    assert response.status_code == 409
    assert response.json()["code"] == "result_not_ready"
    assert "is cancelled and has no result" in response.json()["detail"]
    assert "submit the problem again" in response.json()["detail"]


async def test_history_lists_events_in_log_order(query_client, producer, settings, engine, user):
    log = await completed_task(producer, settings, engine, user)

    response = await query_client.get(f"/v1/tasks/{log.task_id}/history", headers=user.headers)

    events = response.json()["events"]
    assert [event["event_type"] for event in events] == ["TaskSubmitted", "TaskStarted", "TaskCompleted"]
    offsets = [event["offset"] for event in events]
    assert offsets == sorted(offsets)
    assert len({event["partition"] for event in events}) == 1
    assert events[0]["producer"] == {"service": "tests", "instance": "read_side"}


async def test_other_users_task_is_404_everywhere(query_client, producer, settings, engine, user, other_user):
    log = await completed_task(producer, settings, engine, user)
    paths = [f"/v1/tasks/{log.task_id}", f"/v1/tasks/{log.task_id}/result", f"/v1/tasks/{log.task_id}/history"]

    for path in paths:
        response = await query_client.get(path, headers=other_user.headers)
        assert response.status_code == 404, path
        assert response.json()["code"] == "task_not_found"
    token = await query_client.post(f"/v1/tasks/{log.task_id}/stream-token", headers=other_user.headers)
    assert token.status_code == 404
    listing = await query_client.get("/v1/tasks", headers=other_user.headers)
    assert listing.json()["items"] == []


async def test_consistency_token_avoids_404(query_client, producer, settings, user):
    log = EventLog(producer, settings, user.user_id)
    metadata = await log.send(small_problem())

    response = await query_client.get(f"/v1/tasks/{log.task_id}", headers={
        **user.headers, "X-Consistency-Token": EventLog.token(metadata)})

    assert response.status_code == 200
    assert response.json()["task_id"] == str(log.task_id)


async def test_malformed_consistency_token_is_400(query_client, user):
    response = await query_client.get(f"/v1/tasks/{uuid.uuid4()}", headers={
        **user.headers, "X-Consistency-Token": "not-a-token"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_consistency_token"


async def test_history_pages_newest_first(query_client, producer, settings, engine, user):
    logs = []
    for _ in range(5):
        log = EventLog(producer, settings, user.user_id)
        await wait_for_projection(engine, await log.submit_and_claim())
        logs.append(log)
        await asyncio.sleep(0.002)  # distinct submission times
    expected = [str(log.task_id) for log in reversed(logs)]

    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await query_client.get("/v1/tasks", params=params, headers=user.headers)).json()
        seen += [item["task_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == expected


async def test_history_filters(query_client, producer, settings, engine, user):
    done = await completed_task(producer, settings, engine, user)
    running = EventLog(producer, settings, user.user_id)
    await wait_for_projection(engine, await running.submit_and_claim(small_problem(method="cg")))

    by_status = await query_client.get("/v1/tasks", params={"status": "completed"}, headers=user.headers)
    by_method = await query_client.get("/v1/tasks", params={"method": "cg"}, headers=user.headers)
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    by_date = await query_client.get("/v1/tasks", params={"submitted_after": future}, headers=user.headers)

    assert [item["task_id"] for item in by_status.json()["items"]] == [str(done.task_id)]
    assert [item["task_id"] for item in by_method.json()["items"]] == [str(running.task_id)]
    assert by_date.json()["items"] == []


async def test_invalid_filter_names_value(query_client, user):
    response = await query_client.get("/v1/tasks", params={"status": "sleeping"}, headers=user.headers)

    assert response.status_code == 422
    assert "status" in response.json()["detail"]
    assert response.json()["field"] == "status"


async def test_invalid_cursor_is_400(query_client, user):
    response = await query_client.get("/v1/tasks", params={"cursor": "!!"}, headers=user.headers)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"


async def test_openapi_has_examples(query_client):
    document = (await query_client.get("/openapi.json")).json()

    assert "/v1/tasks/{task_id}/events" in document["paths"]
    assert "examples" in document["components"]["schemas"]["TaskDetail"]
