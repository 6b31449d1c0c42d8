"""The running projector: duplicates, fencing, restart, lag metric, rebuild and verify."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import httpx
import pytest
from sqlalchemy import delete, func, insert, select, text, update

from projector.service import PROJECTOR_LOCK_KEY
from schemas.tables import results, task_events, tasks
from tests.conftest import REPO_ROOT
from tests.integration.read_side.factories import (
    EventLog, completed, progressed, wait_for_projection,
)

pytestmark = pytest.mark.stack


async def task_row(engine, log: EventLog) -> dict:
    async with engine.connect() as connection:
        row = (await connection.execute(select(tasks).where(tasks.c.task_id == log.task_id))).first()
    return dict(row._mapping)


async def audit_count(engine, log: EventLog) -> int:
    async with engine.connect() as connection:
        return (await connection.execute(
            select(func.count()).select_from(task_events).where(task_events.c.task_id == log.task_id))).scalar_one()


def stack_command(*arguments: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(REPO_ROOT / "bin" / "stack"), *arguments], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=timeout, check=True)


def projector_command(command: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "projector", command], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=timeout)


async def test_duplicate_delivery_changes_nothing(producer, settings, engine, user):
    log = EventLog(producer, settings, user.user_id)
    await log.submit_and_claim()
    completion = log.envelope(completed())
    await wait_for_projection(engine, await log.send_envelope(completion))
    before = await task_row(engine, log)

    await wait_for_projection(engine, await log.send_envelope(completion))
    await wait_for_projection(engine, await log.send(progressed(0.2)))

    assert await task_row(engine, log) == before
    assert await audit_count(engine, log) == 3


async def test_superseded_attempt_is_fenced(producer, settings, engine, user):
    log = EventLog(producer, settings, user.user_id)
    await log.submit_and_claim()
    await log.requeue_and_claim(attempt=2, worker="second-worker")
    await log.send(progressed(0.9), attempt=1)
    await wait_for_projection(engine, await log.send(completed((5.0, 5.0)), attempt=1))

    row = await task_row(engine, log)
    assert row["status"] == "running"
    assert row["attempt"] == 2
    assert row["worker"] == "second-worker"
    assert row["progress"] == 0.0

    await wait_for_projection(engine, await log.send(completed(), attempt=2))
    assert (await task_row(engine, log))["status"] == "completed"


async def test_restart_resumes_without_loss(producer, settings, engine, user, stack):
    first, second = EventLog(producer, settings, user.user_id), EventLog(producer, settings, user.user_id)
    await wait_for_projection(engine, await first.submit_and_claim())

    stack_command("ctl", "stop", "apps:projector")
    supervisor_log = (REPO_ROOT / ".stack" / "logs" / "supervisord.log").read_text().splitlines()
    try:
        await first.send(completed())
        await second.submit_and_claim()
        last = await second.send(completed())
    finally:
        stack_command("ctl", "start", "apps:projector", timeout=120)
    await wait_for_projection(engine, last, timeout_s=60)

    # supervisord writes "terminated by SIGKILL" instead when the projector ignored SIGTERM for stopwaitsecs.
    assert [line for line in supervisor_log if "stopped: projector" in line][-1].endswith("(exit status 0)")
    assert (await task_row(engine, first))["status"] == "completed"
    assert (await task_row(engine, second))["status"] == "completed"
    assert await audit_count(engine, first) == 3
    assert await audit_count(engine, second) == 3


async def lock_holder(engine, timeout_s: float = 60) -> int:
    """Return the PostgreSQL backend that holds the projection lock, waiting while the lock is free."""
    query = text("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 0 "
                 "AND objid = :key AND objsubid = 1")
    deadline = time.monotonic() + timeout_s
    while True:
        async with engine.connect() as connection:
            holder = (await connection.execute(query, {"key": PROJECTOR_LOCK_KEY})).scalar_one_or_none()
        if holder is not None:
            return holder
        if time.monotonic() > deadline:
            raise AssertionError(f"no projector took the projection lock within {timeout_s} s")
        await asyncio.sleep(0.1)


async def test_lost_lock_restarts_projector(producer, settings, engine, user):
    holder = await lock_holder(engine)
    async with engine.connect() as connection:
        await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": holder})

    log = EventLog(producer, settings, user.user_id)
    await wait_for_projection(engine, await log.submit_and_claim(), timeout_s=90)
    await wait_for_projection(engine, await log.send(completed()), timeout_s=30)

    assert (await task_row(engine, log))["status"] == "completed"
    assert await audit_count(engine, log) == 3
    assert await lock_holder(engine) != holder
    projector_log = (REPO_ROOT / ".stack" / "logs" / "projector.log").read_text()
    assert f"the projection lock's session (PostgreSQL backend {holder}) has ended. Stopping" in projector_log


async def test_lag_metric_is_exposed(stack):
    async with httpx.AsyncClient(base_url=stack.projector_health, timeout=10) as client:
        deadline = time.monotonic() + 10
        while True:
            metrics = (await client.get("/metrics")).text
            if 'projector_lag_events{topic="task-events"}' in metrics or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)

    assert 'projector_lag_events{topic="task-events"}' in metrics
    assert "projector_records_total" in metrics


async def test_verify_finds_no_difference(producer, settings, engine, user):
    log = EventLog(producer, settings, user.user_id)
    await log.submit_and_claim()
    await wait_for_projection(engine, await log.send(completed()))

    result = projector_command("verify")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "verify found no differences" in result.stdout
    assert "replaying" in result.stdout


async def test_verify_reports_changed_rows(producer, settings, engine, user):
    log = EventLog(producer, settings, user.user_id)
    await log.submit_and_claim()
    await wait_for_projection(engine, await log.send(completed()))
    original = await task_row(engine, log)
    async with engine.begin() as connection:
        selected = await connection.execute(select(results).where(results.c.task_id == log.task_id))
        result = dict(selected.one()._mapping)
        await connection.execute(update(tasks).where(tasks.c.task_id == log.task_id).values(relative_residual=0.5))
        await connection.execute(delete(results).where(results.c.task_id == log.task_id))
    try:
        verified = projector_command("verify")
    finally:
        async with engine.begin() as connection:
            await connection.execute(update(tasks).where(tasks.c.task_id == log.task_id)
                                     .values(relative_residual=original["relative_residual"]))
            await connection.execute(insert(results).values(result))

    assert verified.returncode == 1, verified.stdout + verified.stderr
    assert f"task {log.task_id} differs in relative_residual: live 0.5 != replayed" in verified.stdout
    assert f"result {log.task_id} is replayed but not live" in verified.stdout
    assert "verify found 2 differences" in verified.stdout


async def test_rebuild_reproduces_read_models(producer, settings, engine, user):
    log = EventLog(producer, settings, user.user_id)
    await log.submit_and_claim()
    await wait_for_projection(engine, await log.send(completed()))
    before = await task_row(engine, log)

    rejected = projector_command("rebuild")
    stack_command("ctl", "stop", "apps:projector")
    try:
        rebuilt = projector_command("rebuild")
    finally:
        stack_command("ctl", "start", "apps:projector", timeout=120)
    after = await task_row(engine, log)
    verified = projector_command("verify")

    assert rejected.returncode != 0
    assert "stop it first" in rejected.stderr
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert "rebuild finished" in rebuilt.stdout
    assert {k: v for k, v in after.items() if k != "updated_at"} == \
        {k: v for k, v in before.items() if k != "updated_at"}
    assert verified.returncode == 0, verified.stdout
