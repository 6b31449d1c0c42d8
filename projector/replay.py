"""Replay `task-events` from offset 0: `rebuild` the live read models, or `verify` them.

`rebuild` needs the live projector stopped (it takes the same advisory
lock), empties tasks, results, task_events and the `task-events` positions,
and replays the topic up to its end with the projector's own rules. The
projector resumes from the rebuilt positions when it starts again.

`verify` leaves the live tables alone: it replays into a scratch schema up
to the live projector's positions, then compares every table. Telemetry
columns, which only `task-progress` writes, are left out, and so are tasks
that the live projector changed while `verify` ran.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from common.db import create_engine, wait_for_schema
from common.kafka import create_consumer, start_with_retry
from projector.reducer import TELEMETRY_COLUMNS
from projector.service import acquire_projection_lock
from projector.settings import ProjectorSettings
from projector.store import BatchReport, LogRecord, ProjectionStore
from schemas.tables import metadata, projector_positions, results, task_events, tasks

log = logging.getLogger(__name__)

READ_MODEL_TABLES = [tasks, results, task_events, projector_positions]
# Most differences `verify` prints one by one; the summary counts all of them.
PRINTED_DIFFERENCES = 20
# Maximum rows per table that `compare` describes. It counts the others.
LISTED_DIFFERENCES = 1000


async def replay(settings: ProjectorSettings, engine: AsyncEngine, store: ProjectionStore,
                 stop_at: dict[int, int] | None, say: Callable[[str], None]) -> BatchReport:
    """Apply `task-events` from offset 0 up to `stop_at` (partition -> offset), or up to the current end."""
    # Without a group, a subscribed consumer is assigned every partition of the topic.
    consumer = create_consumer(settings, settings.topic_task_events, group_id=None, auto_offset_reset="earliest")
    await start_with_retry(consumer, "replay reader")
    total = BatchReport()
    try:
        while not consumer.assignment():
            await asyncio.sleep(0.05)
        partitions = sorted(consumer.assignment())
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        if stop_at is not None:
            ends = {tp: min(end, stop_at.get(tp.partition, 0)) for tp, end in ends.items()}
        goal = sum(ends.values())
        say(f"replaying {goal} records of {settings.topic_task_events} from offset 0")
        done, started = 0, time.monotonic()
        last_report = started
        pending = {tp for tp, end in ends.items() if end > 0}
        while pending:
            batches = await consumer.getmany(*pending, timeout_ms=1000, max_records=settings.projector_batch_max)
            records = []
            for tp, messages in batches.items():
                for message in messages:
                    if message.offset < ends[tp]:
                        records.append(LogRecord(tp.topic, tp.partition, message.offset, message.value))
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
            if records:
                async with engine.begin() as connection:
                    total.add(await store.apply_batch(connection, records))
                done += len(records)
            if time.monotonic() - last_report > 1.0:
                say(f"  {done} of {goal} records ({100 * done / max(goal, 1):.0f} %)")
                last_report = time.monotonic()
    finally:
        await consumer.stop()
    elapsed = time.monotonic() - started
    say(f"replayed {done} records in {elapsed:.1f} s ({done / max(elapsed, 1e-9):.0f} records/s): "
        f"{total.applied} applied, {total.ignored} ignored, {total.duplicates} duplicates, {total.invalid} invalid")
    return total


async def rebuild(settings: ProjectorSettings, say: Callable[[str], None] = print) -> BatchReport:
    """Empty the live read models and replay `task-events` into them; raise ProjectorLockedError if busy."""
    engine = create_engine(settings)
    try:
        await wait_for_schema(engine, timeout_s=30)
        lock = await acquire_projection_lock(engine, wait=False)
        try:
            started = time.monotonic()
            async with engine.begin() as connection:
                await connection.execute(text("TRUNCATE results, tasks, task_events"))
                await connection.execute(delete(projector_positions).where(
                    projector_positions.c.consumer == settings.projector_consumer,
                    projector_positions.c.topic == settings.topic_task_events))
            say("emptied tasks, results, task_events and the task-events positions")
            store = ProjectionStore(settings.projector_consumer, settings.topic_task_events)
            report = await replay(settings, engine, store, None, say)
            say(f"rebuild finished in {time.monotonic() - started:.1f} s")
            return report
        finally:
            await lock.close()
    finally:
        await engine.dispose()


async def verify(settings: ProjectorSettings, *, keep_schema: bool = False,
                 say: Callable[[str], None] = print) -> list[str]:
    """Replay into a scratch schema, compare it with the live tables and return the listed differences."""
    engine = create_engine(settings)
    schema = f"verify_{datetime.now(UTC):%Y%m%d%H%M%S}_{int(time.time() * 1000) % 1000:03d}"
    try:
        await wait_for_schema(engine, timeout_s=30)
        async with engine.begin() as connection:
            live_positions = await _live_positions(connection, settings)
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            scratch = await connection.execution_options(schema_translate_map={None: schema})
            await scratch.run_sync(lambda sync: metadata.create_all(sync, tables=READ_MODEL_TABLES))
        positions = ", ".join(f"partition {partition} at {offset}"
                              for partition, offset in sorted(live_positions.items()))
        say(f"replaying into scratch schema {schema} up to the live projector's next offsets: {positions or 'none'}")
        store = ProjectionStore(settings.projector_consumer, settings.topic_task_events, schema=schema)
        await replay(settings, engine, store, live_positions, say)
        async with engine.connect() as connection:
            differences, total = await compare(connection, schema, settings.topic_task_events, live_positions, say)
        for line in differences[:PRINTED_DIFFERENCES]:
            say(f"  difference: {line}")
        if total:
            say(f"verify found {total} {'difference' if total == 1 else 'differences'}")
        else:
            say("verify found no differences")
        return differences
    finally:
        if not keep_schema:
            async with engine.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()


async def _live_positions(connection: AsyncConnection, settings: ProjectorSettings) -> dict[int, int]:
    rows = await connection.execute(
        select(projector_positions.c.partition, projector_positions.c.next_offset).where(
            projector_positions.c.consumer == settings.projector_consumer,
            projector_positions.c.topic == settings.topic_task_events))
    return {partition: offset for partition, offset in rows}


async def compare(connection: AsyncConnection, schema: str, events_topic: str, positions: dict[int, int],
                  say: Callable[[str], None]) -> tuple[list[str], int]:
    """Return a line per row that differs between the live tables and `schema`, and the count of such rows.

    PostgreSQL joins the two copies of each table, so this process's memory does not grow with the log.
    Only the first LISTED_DIFFERENCES rows of each table get a line.
    """
    live_schema = (await connection.execute(text("SELECT current_schema()"))).scalar_one()
    parameters = {"topic": events_topic, "partitions": list(positions), "offsets": list(positions.values())}
    counts = (await connection.execute(text(_COUNTS.format(live=live_schema, scratch=schema)), parameters)).one()
    say(f"comparing {counts.tasks} tasks, {counts.results} results, {counts.events} events; "
        f"{counts.changed} tasks changed during verify are left out")

    differences, total = [], 0
    for kind, query in (("task", _DIFFERENT_TASKS), ("result", _DIFFERENT_RESULTS), ("event", _DIFFERENT_EVENTS)):
        sql = text(query.format(live=live_schema, scratch=schema, listed=LISTED_DIFFERENCES))
        rows = (await connection.execute(sql, parameters)).all()
        differences += [_describe(kind, row.key, row.live, row.replayed) for row in rows]
        total += rows[0].total if rows else 0
    return differences, total


def _describe(kind: str, key: Any, live: dict | None, replayed: dict | None) -> str:
    if replayed is None:
        return f"{kind} {key} is live but not replayed"
    if live is None:
        return f"{kind} {key} is replayed but not live"
    columns = [name for name in sorted(live.keys() | replayed.keys()) if live.get(name) != replayed.get(name)]
    changes = ", ".join(f"{name}: live {live.get(name)!r} != replayed {replayed.get(name)!r}" for name in columns[:3])
    return f"{kind} {key} differs in {changes}"


# The SQL below turns rows into jsonb, so one expression compares whole rows whatever their column types.
# `positions` are the live projector's next offsets per partition when verify started. Live events at or after
# them were not replayed, and their tasks are left out of the task and result comparisons.
_CHANGED = """
    positions AS (SELECT * FROM unnest(CAST(:partitions AS integer[]), CAST(:offsets AS bigint[]))
                  AS p(partition, next_offset)),
    changed AS (SELECT DISTINCT e.task_id FROM "{live}".task_events e
                LEFT JOIN positions p ON p.partition = e.partition
                WHERE e.topic = :topic AND e."offset" >= coalesce(p.next_offset, 0))"""
_COUNTS = f"""
    WITH {_CHANGED}
    SELECT (SELECT count(*) FROM "{{scratch}}".tasks) AS tasks, (SELECT count(*) FROM "{{scratch}}".results) AS results,
           (SELECT count(*) FROM "{{scratch}}".task_events) AS events, (SELECT count(*) FROM changed) AS changed"""
_TELEMETRY = "ARRAY[" + ", ".join(f"'{name}'" for name in sorted(TELEMETRY_COLUMNS)) + "]"
_DIFFERENCE = """
    SELECT coalesce(l.key, r.key) AS key, l.row AS live, r.row AS replayed, count(*) OVER () AS total
    FROM live l FULL OUTER JOIN replayed r ON l.key = r.key
    WHERE l.row IS DISTINCT FROM r.row
    ORDER BY 1 LIMIT {listed}"""


def _by_task(table: str, dropped: str = "") -> str:
    """Return the difference query for `table`, keyed by task_id and without the tasks changed during verify."""

    def copy(name: str, schema: str) -> str:
        return (f'{name} AS (SELECT t.task_id AS key, to_jsonb(t){dropped} AS row FROM "{schema}".{table} t '
                "WHERE t.task_id NOT IN (SELECT task_id FROM changed))")

    return f"WITH {_CHANGED},\n    {copy('live', '{live}')},\n    {copy('replayed', '{scratch}')}{_DIFFERENCE}"


_DIFFERENT_TASKS = _by_task("tasks", f" - {_TELEMETRY}::text[]")
_DIFFERENT_RESULTS = _by_task("results")
_DIFFERENT_EVENTS = f"""
    WITH {_CHANGED},
    live AS (SELECT e.event_id AS key, to_jsonb(e) AS row FROM "{{live}}".task_events e
             LEFT JOIN positions p ON p.partition = e.partition
             WHERE e.topic = :topic AND e."offset" < coalesce(p.next_offset, 0)),
    replayed AS (SELECT e.event_id AS key, to_jsonb(e) AS row FROM "{{scratch}}".task_events e)
    {_DIFFERENCE}"""
