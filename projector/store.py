"""Apply a batch of log records to the read models in one PostgreSQL transaction.

The batch's rows, its audit copies and the stored positions (the next offset
to apply, per topic and partition) commit together. So after a crash the
projector resumes exactly where the committed state ends. A record below the
stored position is skipped, and an `event_id` already in the audit table is
a duplicate delivery and changes nothing.

`schema` selects the PostgreSQL schema of the read models: None is the live
one, `verify` replays into a scratch schema.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Text, bindparam, cast, func, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from projector.reducer import apply_event
from schemas.events import Envelope, UnknownEventError, decode
from schemas.tables import projector_positions, results, task_events, tasks

log = logging.getLogger(__name__)

TASK_COLUMNS = [column.name for column in tasks.columns]
# Columns that only TaskSubmitted sets and that may be large (an inline matrix). The projector neither loads
# them for an existing task nor writes them again.
_SUBMITTED_ONLY = frozenset({"input", "options"})
_LOADED_COLUMNS = [column for column in tasks.columns if column.name not in _SUBMITTED_ONLY]
_UPDATED_COLUMNS = [name for name in TASK_COLUMNS if name not in _SUBMITTED_ONLY | {"task_id", "updated_at"}]


@dataclass(frozen=True)
class LogRecord:
    """One Kafka record: its position and its raw value."""

    topic: str
    partition: int
    offset: int
    value: bytes


@dataclass
class BatchReport:
    """Counts of what one batch did, for logs, metrics and the replay summary."""

    applied: int = 0
    ignored: int = 0
    duplicates: int = 0
    invalid: int = 0
    positions: dict[tuple[str, int], int] = field(default_factory=dict)

    def add(self, other: "BatchReport") -> None:
        self.applied += other.applied
        self.ignored += other.ignored
        self.duplicates += other.duplicates
        self.invalid += other.invalid
        self.positions.update(other.positions)


class ProjectionStore:
    """Writes batches for one named consumer into the read models of one schema."""

    def __init__(self, consumer: str, events_topic: str, schema: str | None = None) -> None:
        self.consumer = consumer
        self.events_topic = events_topic
        self.schema = schema

    async def bind(self, connection: AsyncConnection) -> AsyncConnection:
        if self.schema is None:
            return connection
        return await connection.execution_options(schema_translate_map={None: self.schema})

    async def load_positions(self, connection: AsyncConnection) -> dict[tuple[str, int], int]:
        """Return the next offset to apply per (topic, partition)."""
        rows = await (await self.bind(connection)).execute(
            select(projector_positions.c.topic, projector_positions.c.partition, projector_positions.c.next_offset)
            .where(projector_positions.c.consumer == self.consumer))
        return {(topic, partition): offset for topic, partition, offset in rows}

    async def apply_batch(self, connection: AsyncConnection, records: Sequence[LogRecord],
                          stored: dict[tuple[str, int], int] | None = None) -> BatchReport:
        """Apply `records` (in log order per partition) inside the caller's transaction.

        `stored` is the committed positions when the caller keeps them (it must be the only writer);
        without it they are read from the database.
        """
        connection = await self.bind(connection)
        report = BatchReport()
        if stored is None:
            stored = await self.load_positions(connection)
        fresh = [record for record in records if record.offset >= stored.get((record.topic, record.partition), 0)]
        report.duplicates += len(records) - len(fresh)

        events = self._decode(fresh, report)
        events = await self._audit(connection, events, report)
        await self._project(connection, events, report)

        for record in fresh:
            key = (record.topic, record.partition)
            report.positions[key] = max(report.positions.get(key, 0), record.offset + 1)
        await self._store_positions(connection, report.positions)
        return report

    def _decode(self, records: Iterable[LogRecord], report: BatchReport) -> list[tuple[LogRecord, Envelope, Any]]:
        decoded = []
        for record in records:
            try:
                envelope = decode(record.value)
                decoded.append((record, envelope, envelope.typed_payload()))
            except (ValidationError, UnknownEventError, ValueError) as error:
                # NOTE: an invalid record is skipped and its position still advances, so that one bad
                # producer cannot stop every read model. The log line keeps its position for replay.
                report.invalid += 1
                log.error("skipping an invalid record: %s", error,
                          extra={"topic": record.topic, "partition": record.partition, "offset": record.offset})
        return decoded

    async def _audit(self, connection: AsyncConnection, events: list, report: BatchReport) -> list:
        """Insert the audit copies of `task-events` records; return the events not seen before."""
        audited = [item for item in events if item[0].topic == self.events_topic]
        if not audited:
            return events
        unique: dict[uuid.UUID, tuple] = {}
        for item in audited:
            unique.setdefault(item[1].event_id, item)
        rows = [_audit_row(record, envelope) for record, envelope, _ in unique.values()]
        inserted = set((await connection.execute(_INSERT_AUDIT, rows)).scalars())
        fresh = []
        for item in events:
            record, envelope, _ = item
            if record.topic != self.events_topic:
                fresh.append(item)
            elif envelope.event_id in inserted and unique.get(envelope.event_id) is item:
                fresh.append(item)
            else:
                report.duplicates += 1
                log.debug("duplicate event %s", envelope.event_id, extra={"event_id": envelope.event_id})
        return fresh

    async def _project(self, connection: AsyncConnection, events: list, report: BatchReport) -> None:
        task_ids = list({envelope.task_id for _, envelope, _ in events})
        if not task_ids:
            return
        current = {row["task_id"]: dict(row) for row in (await connection.execute(
            select(*_LOADED_COLUMNS).where(tasks.c.task_id.in_(task_ids)))).mappings()}
        existing = set(current)
        changed: dict[uuid.UUID, dict] = {}
        results_by_task: dict[uuid.UUID, dict] = {}
        for record, envelope, payload in events:
            outcome = apply_event(current.get(envelope.task_id), envelope, payload)
            if outcome.task is None:
                report.ignored += 1
                log.debug("ignored %s: %s", envelope.event_type, outcome.ignored_because,
                          extra={"task_id": envelope.task_id, "event_id": envelope.event_id,
                                 "attempt": envelope.attempt, "offset": record.offset})
                continue
            report.applied += 1
            current[envelope.task_id] = changed[envelope.task_id] = outcome.task
            if outcome.result is not None:
                results_by_task[envelope.task_id] = outcome.result
        await _insert_tasks(connection, [row for task_id, row in changed.items() if task_id not in existing])
        await _update_tasks(connection, [row for task_id, row in changed.items() if task_id in existing])
        await _upsert_results(connection, list(results_by_task.values()))

    async def _store_positions(self, connection: AsyncConnection, positions: dict[tuple[str, int], int]) -> None:
        if not positions:
            return
        rows = [{"consumer": self.consumer, "topic": topic, "partition": partition, "next_offset": offset}
                for (topic, partition), offset in positions.items()]
        await connection.execute(_UPSERT_POSITION, rows)


# The statements are built once and executed with a list of rows (executemany), so SQLAlchemy compiles each
# one once and renders the rows as batched VALUES; a `.values(rows)` statement is compiled anew for every batch.
# The audit copy arrives as JSON text from pydantic's serializer: 3 to 10 times faster than the standard
# library's encoder that SQLAlchemy would run on a dict (measured on TaskSubmitted, generated and 50 x 50 inline).
_INSERT_AUDIT = (insert(task_events).values(envelope=cast(bindparam("envelope_json", type_=Text), JSONB))
                 .on_conflict_do_nothing().returning(task_events.c.event_id))
_POSITION = insert(projector_positions)
_UPSERT_POSITION = _POSITION.on_conflict_do_update(
    index_elements=[projector_positions.c.consumer, projector_positions.c.topic, projector_positions.c.partition],
    set_={"next_offset": _POSITION.excluded.next_offset})
_TASK = insert(tasks)
_UPSERT_TASK = _TASK.on_conflict_do_update(index_elements=[tasks.c.task_id], set_={
    **{name: _TASK.excluded[name] for name in TASK_COLUMNS if name not in ("task_id", "updated_at")},
    "updated_at": _TASK.excluded.updated_at})
_UPDATE_TASK = (update(tasks).where(tasks.c.task_id == bindparam("key_task_id"))
                .values(updated_at=func.now()))


def _audit_row(record: LogRecord, envelope: Envelope) -> dict[str, Any]:
    return {
        "event_id": envelope.event_id, "task_id": envelope.task_id, "user_id": envelope.user_id,
        "event_type": envelope.event_type, "schema_version": envelope.schema_version,
        "attempt": envelope.attempt, "occurred_at": envelope.occurred_at, "topic": record.topic,
        "partition": record.partition, "offset": record.offset, "envelope_json": envelope.model_dump_json(),
    }


async def _insert_tasks(connection: AsyncConnection, rows: list[dict]) -> None:
    """Insert the rows of tasks submitted in this batch, with every column."""
    if not rows:
        return
    values = [{name: row.get(name) for name in TASK_COLUMNS if name != "updated_at"} for row in rows]
    await connection.execute(_UPSERT_TASK, values)


async def _update_tasks(connection: AsyncConnection, rows: list[dict]) -> None:
    """Update the rows of tasks projected before this batch, except the columns only TaskSubmitted sets."""
    if not rows:
        return
    values = [{"key_task_id": row["task_id"], **{name: row[name] for name in _UPDATED_COLUMNS}} for row in rows]
    await connection.execute(_UPDATE_TASK, values)


async def _upsert_results(connection: AsyncConnection, rows: list[dict]) -> None:
    if not rows:
        return
    statement = insert(results)
    await connection.execute(statement.on_conflict_do_update(
        index_elements=[results.c.task_id],
        set_={name: statement.excluded[name] for name in rows[0] if name != "task_id"},
    ), rows)


def positions_behind(positions: dict[tuple[str, int], int], ends: dict[tuple[str, int], int]) -> int:
    """Return how many records lie between the stored positions and the log ends."""
    return sum(max(0, end - positions.get(key, 0)) for key, end in ends.items())
