"""Queue position and predicted start, computed by PostgreSQL over a scratch copy of the tasks table.

Live workers start every queued task within moments, so the queue is built
in a schema of its own, where the rows stay as the test wrote them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, text

from query_api.reads import estimate_queue
from schemas.tables import metadata, tasks

pytestmark = pytest.mark.stack


def task_row(status: str, submitted_at: datetime, **columns) -> dict:
    return {"task_id": uuid.uuid4(), "user_id": uuid.uuid4(), "status": status, "method_requested": "auto",
            "input_kind": "generated", "input": {"kind": "generated"}, "submitted_at": submitted_at, **columns}


@pytest.fixture
async def scratch(engine):
    schema = f"queue_test_{uuid.uuid4().hex[:8]}"
    async with engine.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        bound = await connection.execution_options(schema_translate_map={None: schema})
        await bound.run_sync(lambda sync: metadata.create_all(sync, tables=[tasks]))
    try:
        async with engine.connect() as connection:
            yield await connection.execution_options(schema_translate_map={None: schema})
    finally:
        async with engine.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


async def test_queue_position_and_start(scratch):
    now = datetime.now(UTC)
    queued = [task_row("queued", now - timedelta(seconds=30 - i)) for i in range(3)]
    rows = [
        task_row("running", now - timedelta(minutes=2), worker="w1", eta_s=10.0),
        task_row("running", now - timedelta(minutes=2), worker="w2", eta_s=20.0),
        task_row("completed", now - timedelta(minutes=3), worker="w1", elapsed_s=4.0, finished_at=now),
        *queued,
    ]
    for row in rows:
        await scratch.execute(insert(tasks).values(row))

    estimate = await estimate_queue(scratch, queued[2])

    assert estimate["position"] == 3
    assert estimate["tasks_ahead"] == 2
    assert estimate["workers_estimate"] == 2
    # w1 frees at 10 s and takes both tasks ahead (4 s each): ours starts at 18 s, before w2 frees at 20 s.
    assert estimate["predicted_start_in_s"] == pytest.approx(18.0)


async def test_first_in_queue_waits_for_earliest_eta(scratch):
    now = datetime.now(UTC)
    queued = task_row("queued", now)
    await scratch.execute(insert(tasks).values(task_row("running", now - timedelta(minutes=1), worker="w1", eta_s=7.5)))
    await scratch.execute(insert(tasks).values(queued))

    estimate = await estimate_queue(scratch, queued)

    assert estimate["position"] == 1
    assert estimate["predicted_start_in_s"] == pytest.approx(7.5)
