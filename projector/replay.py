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


async def replay(settings: ProjectorSettings, engine: AsyncEngine, store: ProjectionStore,
                 stop_at: dict[int, int] | None, say: Callable[[str], None]) -> BatchReport:
    """Apply `task-events` from offset 0 up to `stop_at` (partition -> offset), or up to the current end."""
    # Without a group, a subscribed consumer is assigned every partition of the topic.
    consumer = create_consumer(settings, settings.topic_task_events, group_id=None, auto_offset_reset="earliest")
    await start_with_retry(consumer, "replay reader")
    total, done, started = BatchReport(), 0, time.monotonic()
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
        started = last_report = time.monotonic()
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
    """Replay into a scratch schema, compare it with the live tables and return the differences."""
    engine = create_engine(settings)
    schema = f"verify_{datetime.now(UTC):%Y%m%d%H%M%S}_{int(time.time() * 1000) % 1000:03d}"
    try:
        await wait_for_schema(engine, timeout_s=30)
        async with engine.begin() as connection:
            live_positions = await _live_positions(connection, settings)
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            scratch = await connection.execution_options(schema_translate_map={None: schema})
            await scratch.run_sync(lambda sync: metadata.create_all(sync, tables=READ_MODEL_TABLES))
        say(f"replaying into scratch schema {schema} up to the live positions {live_positions}")
        store = ProjectionStore(settings.projector_consumer, settings.topic_task_events, schema=schema)
        await replay(settings, engine, store, live_positions, say)
        async with engine.connect() as connection:
            differences = await compare(connection, schema, settings.topic_task_events, live_positions, say)
        for line in differences[:PRINTED_DIFFERENCES]:
            say(f"  difference: {line}")
        say(f"verify found {len(differences)} differences" if differences else "verify found no differences")
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
                  say: Callable[[str], None]) -> list[str]:
    """Return one line per row that differs between the live tables and `schema`."""
    scratch = await connection.execution_options(schema_translate_map={None: schema})
    live_tasks = await _rows(connection, tasks, "task_id")
    live_results = await _rows(connection, results, "task_id")
    live_events = await _rows(connection, task_events, "event_id", task_events.c.topic == events_topic)
    changed = await _changed_since(connection, events_topic, positions)
    replayed_tasks = await _rows(scratch, tasks, "task_id")
    replayed_results = await _rows(scratch, results, "task_id")
    replayed_events = await _rows(scratch, task_events, "event_id")
    say(f"comparing {len(replayed_tasks)} tasks, {len(replayed_results)} results, {len(replayed_events)} events; "
        f"{len(changed)} tasks changed during verify are left out")

    live_events = {key: row for key, row in live_events.items()
                   if row["offset"] < positions.get(row["partition"], 0)}
    differences = _diff("task", _without(live_tasks, changed), _without(replayed_tasks, changed),
                        ignore=TELEMETRY_COLUMNS)
    differences += _diff("result", _without(live_results, changed), _without(replayed_results, changed))
    differences += _diff("event", live_events, replayed_events)
    return differences


async def _rows(connection: AsyncConnection, table, key: str, *where) -> dict[Any, dict]:
    rows = await connection.execute(select(table).where(*where))
    return {row._mapping[key]: dict(row._mapping) for row in rows}


async def _changed_since(connection: AsyncConnection, events_topic: str, positions: dict[int, int]) -> set:
    """Return the tasks with live events at or after the replay's stopping point."""
    changed = set()
    rows = await connection.execute(select(task_events.c.task_id, task_events.c.partition, task_events.c.offset)
                                    .where(task_events.c.topic == events_topic))
    for task_id, partition, offset in rows:
        if offset >= positions.get(partition, 0):
            changed.add(task_id)
    return changed


def _without(rows: dict, keys: set) -> dict:
    return {key: row for key, row in rows.items() if key not in keys}


def _diff(kind: str, live: dict, replayed: dict, ignore: frozenset = frozenset()) -> list[str]:
    lines = [f"{kind} {key} is live but not replayed" for key in live.keys() - replayed.keys()]
    lines += [f"{kind} {key} is replayed but not live" for key in replayed.keys() - live.keys()]
    for key in live.keys() & replayed.keys():
        columns = [name for name in live[key] if name not in ignore and live[key][name] != replayed[key][name]]
        if columns:
            column_changes = ", ".join(f"{name}: live {live[key][name]!r} != replayed {replayed[key][name]!r}"
                              for name in columns[:3])
            lines.append(f"{kind} {key} differs in {column_changes}")
    return lines

