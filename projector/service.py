"""Projector service: a faust-streaming app that builds the PostgreSQL read models.

One faust agent consumes `task-events` and `task-progress` in batches and
hands each batch to `ProjectionStore`, which writes the rows, the audit
copies and the positions in one transaction.

Why positions live in PostgreSQL and not only in faust: faust commits
consumer-group offsets to Kafka on its own timer, outside the database
transaction, and it acknowledges the events of a batch even when the agent
raised on them. So the projector uses faust for consumption only, and
`projector_positions` is the authority: whenever faust seeks its assigned
partitions to the committed group offsets (at every assignment), the
projector moves each partition to the stored position instead
(`seek_to_stored_positions`). A record below the stored position that
arrives anyway (a second delivery) is skipped by `ProjectionStore`.

The faust app runs inside this process's asyncio loop (`app.start()` and
`app.stop()`), not under faust's own worker, so SIGTERM goes to
`common.service.run_service` and the app gets `PROJECTOR_STOP_TIMEOUT_S`
to stop, well inside supervisord's `stopwaitsecs`.

While running, the projector holds a PostgreSQL advisory lock, so that a
second projector or a `rebuild` cannot write the live read models at the
same time. The lock belongs to one database session, which can end without
the projector noticing (a database restart, an administrator's
`pg_terminate_backend`). So every batch transaction first checks that this
session still holds the lock, and the projector stops when it does not:
supervisord or compose restarts it, and the new process waits for the lock
and reloads the stored positions.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time

import faust
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from common.db import create_engine, wait_for_schema
from common.kafka import create_consumer, start_with_retry
from common.service import run_service
from projector.settings import ProjectorSettings
from projector.store import BatchReport, LogRecord, ProjectionStore, positions_behind

log = logging.getLogger(__name__)

# Key of the advisory lock that the live projector and `rebuild` both take.
PROJECTOR_LOCK_KEY = 7_274_003

LAG = Gauge("projector_lag_events", "Records between the projector's stored position and the log end.", ["topic"])
TASKS_BY_STATE = Gauge("tasks_by_state", "Tasks in the read model, by status.", ["status"])
TASK_STATES = ("queued", "running", "completed", "failed", "cancelled")
RECORDS = Counter("projector_records_total", "Records the projector handled, by outcome.", ["outcome"])
BATCH_SECONDS = Histogram("projector_batch_seconds", "Time to apply one batch in PostgreSQL.",
                          buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))


class ProjectorLockedError(RuntimeError):
    """Raised when another projector or a rebuild holds the projection lock."""


def is_transient(error: BaseException) -> bool:
    """Return True for database errors that a retry can fix (connection lost, server restarting)."""
    if isinstance(error, (OperationalError, InterfaceError, OSError)):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


class ProjectionLockLostError(RuntimeError):
    """The session that held the projection lock ended, so this projector may no longer write."""


class BatchWriter:
    """Applies batches with retries on transient errors and keeps the committed positions.

    The positions serve the lag metric and spare each batch a read of `projector_positions`. That is safe
    because the projection lock makes this process the only writer of its positions, and each batch checks
    that the lock is still held by the session `lock_pid` (a PostgreSQL backend process id).
    """

    def __init__(self, engine: AsyncEngine, store: ProjectionStore, lock_pid: int | None = None) -> None:
        self.engine = engine
        self.store = store
        self.lock_pid = lock_pid
        self.positions: dict[tuple[str, int], int] = {}

    async def load(self) -> None:
        async with self.engine.connect() as connection:
            self.positions = await self.store.load_positions(connection)

    async def write(self, records: list[LogRecord]) -> BatchReport:
        delay = 0.2
        while True:
            try:
                started = time.perf_counter()
                async with self.engine.begin() as connection:
                    await self._check_lock(connection)
                    report = await self.store.apply_batch(connection, records, self.positions)
                BATCH_SECONDS.observe(time.perf_counter() - started)
                break
            except Exception as error:
                if not is_transient(error):
                    raise
                log.warning("cannot write a batch of %d records: %s; retrying in %.1f s", len(records), error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        self.positions.update(report.positions)
        for outcome in ("applied", "ignored", "duplicates", "invalid"):
            RECORDS.labels(outcome).inc(getattr(report, outcome))
        return report

    async def _check_lock(self, connection: AsyncConnection) -> None:
        if self.lock_pid is None:
            return
        key = {"pid": self.lock_pid, "classid": PROJECTOR_LOCK_KEY >> 32, "objid": PROJECTOR_LOCK_KEY & 0xFFFFFFFF}
        lock_held = (await connection.execute(_LOCK_HELD, key)).scalar_one()
        if not lock_held:
            raise ProjectionLockLostError(
                f"the projection lock's session (PostgreSQL backend {self.lock_pid}) has ended. Stopping so that "
                "a restarted projector takes the lock again and reloads the stored positions")


# pg_locks shows a bigint advisory key as its high and low 32 bits (classid, objid) with objsubid 1
# (PostgreSQL documentation, "pg_locks").
_LOCK_HELD = text("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = :pid "
                  "AND classid = :classid AND objid = :objid AND objsubid = 1)")


def create_faust_app(settings: ProjectorSettings, writer: BatchWriter, failure: asyncio.Future) -> faust.App:
    """Build the faust app whose single agent feeds batches to `writer`."""
    app = faust.App(
        settings.projector_consumer,
        broker=[f"kafka://{server}" for server in settings.bootstrap_servers],
        store="memory://",
        datadir=settings.projector_data_dir,
        autodiscover=False,
        # No web server: health and metrics come from common.health on PROJECTOR_HEALTH_PORT.
        web_enabled=False,
        # The agent keeps no tables and needs no leader topic; topics are created by infra.topics.
        topic_disable_leader=True,
        topic_allow_declare=False,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=1.0,
    )
    topic = app.topic(settings.topic_task_events, settings.topic_task_progress,
                      key_serializer="raw", value_serializer="raw")
    batch_wait_s = settings.projector_batch_wait_ms / 1000

    @app.agent(topic, name="project", concurrency=1)
    async def project(stream) -> None:
        async for events in stream.take_events(settings.projector_batch_max, within=batch_wait_s):
            records = [LogRecord(event.message.topic, event.message.partition, event.message.offset,
                                 event.message.value) for event in events]
            try:
                report = await writer.write(records)
            except Exception as error:
                log.exception("projecting a batch failed; stopping the projector")
                if not failure.done():
                    failure.set_result(error)
                raise
            log.debug("batch of %d records: %d applied, %d ignored, %d duplicates, %d invalid", len(records),
                      report.applied, report.ignored, report.duplicates, report.invalid)

    seek_to_stored_positions(app, writer)
    return app


def seek_to_stored_positions(app: faust.App, writer: BatchWriter) -> None:
    """Make faust start every assigned partition at the position stored in PostgreSQL.

    faust's consumer calls `seek_to_committed()` after each rebalance and uses
    the returned offsets as its read positions. This replaces the method on the
    app's consumer instance with one that seeks to the stored positions.
    """
    consumer = app.consumer
    seek_to_committed = consumer.seek_to_committed

    async def seek_to_stored() -> dict:
        offsets = dict(await seek_to_committed())
        for tp in consumer.assignment():
            stored = writer.positions.get((tp.topic, tp.partition))
            if stored is not None and stored != offsets.get(tp):
                log.info("seeking to the stored position %d instead of the group offset %s", stored,
                         offsets.get(tp), extra={"topic": tp.topic, "partition": tp.partition})
                await consumer.seek(tp, stored)
                offsets[tp] = stored
        return offsets

    consumer.seek_to_committed = seek_to_stored


async def acquire_projection_lock(engine: AsyncEngine, *, wait: bool) -> AsyncConnection:
    """Open a connection holding the projection lock; raise ProjectorLockedError when taken and not `wait`."""
    connection = await engine.connect()
    logged = False
    while True:
        held = (await connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                         {"key": PROJECTOR_LOCK_KEY})).scalar_one()
        await connection.commit()
        if held:
            return connection
        if not wait:
            await connection.close()
            raise ProjectorLockedError(
                "the projection lock is taken by another projector or rebuild; stop it first, for example "
                "`bin/stack ctl stop apps:projector`")
        if not logged:
            log.info("waiting for the projection lock held by another projector or rebuild")
            logged = True
        await asyncio.sleep(1.0)


async def track_lag(settings: ProjectorSettings, writer: BatchWriter, state: dict) -> None:
    """Update the lag gauge from the log ends and the stored positions until cancelled."""
    topics = (settings.topic_task_events, settings.topic_task_progress)
    consumer = create_consumer(settings, *topics, group_id=None)
    await start_with_retry(consumer, "projector lag reader")
    try:
        while True:
            partitions = [tp for topic in topics for tp in _partitions(consumer, topic)]
            try:
                ends = await consumer.end_offsets(partitions) if partitions else {}
            except Exception as error:  # the gauge keeps its last value; the next reading retries
                log.warning("cannot read the log end offsets: %s", error)
                ends = {}
            by_topic: dict[str, int] = {}
            for tp, end in ends.items():
                by_topic[tp.topic] = by_topic.get(tp.topic, 0) + positions_behind(
                    writer.positions, {(tp.topic, tp.partition): end})
            for topic, lag in by_topic.items():
                LAG.labels(topic).set(lag)
            state["lag"] = by_topic
            await asyncio.sleep(settings.projector_lag_poll_s)
    finally:
        await consumer.stop()


async def track_task_states(engine: AsyncEngine, poll_s: float) -> None:
    """Update the tasks-by-state gauge from the read model until cancelled."""
    query = text("SELECT status, count(*) FROM tasks GROUP BY status")
    while True:
        try:
            async with engine.connect() as connection:
                counts = dict((await connection.execute(query)).all())
            for status in TASK_STATES:
                TASKS_BY_STATE.labels(status).set(counts.get(status, 0))
        except (DBAPIError, OperationalError, InterfaceError, OSError) as error:
            log.warning("cannot count tasks by state: %s", error)
        await asyncio.sleep(poll_s)


def _partitions(consumer, topic: str) -> list:
    from aiokafka import TopicPartition

    return [TopicPartition(topic, partition) for partition in sorted(consumer.partitions_for_topic(topic) or ())]


async def run(settings: ProjectorSettings) -> None:
    state: dict = {"ready": False, "lag": {}}
    # No ping before each batch: a batch that meets a lost connection is retried by BatchWriter anyway.
    engine = create_engine(settings, pool_pre_ping=False)

    async def main(stop: asyncio.Event) -> None:
        await wait_for_schema(engine)
        lock = await acquire_projection_lock(engine, wait=True)
        lock_pid = (await lock.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        await lock.commit()
        log.info("holding the projection lock in PostgreSQL backend %d", lock_pid)
        writer = BatchWriter(engine, ProjectionStore(settings.projector_consumer, settings.topic_task_events),
                             lock_pid)
        await writer.load()
        failure: asyncio.Future = asyncio.get_running_loop().create_future()
        app = create_faust_app(settings, writer, failure)
        lag = asyncio.create_task(track_lag(settings, writer, state), name="projector-lag")
        states = asyncio.create_task(track_task_states(engine, settings.projector_lag_poll_s), name="task-states")
        try:
            await app.start()
            log.info("projector consuming %s and %s from stored positions %s", settings.topic_task_events,
                     settings.topic_task_progress, writer.positions)
            state["ready"] = True
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({stopping, failure}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
        finally:
            state["ready"] = False
            lag.cancel()
            states.cancel()
            await asyncio.gather(lag, states, return_exceptions=True)
            stopped = await _stop_app(app, settings.projector_stop_timeout_s)
            await _release(lock)
            if not stopped:
                _exit_now(1 if failure.done() else 0)
        if failure.done():
            raise RuntimeError("the projection agent failed") from failure.result()

    async def health() -> dict:
        return {"status": "ok" if state["ready"] else "starting", "service": "projector", "lag": state["lag"]}

    try:
        await run_service("projector", settings.instance_id, settings.projector_health_host,
                          settings.projector_health_port, main, health)
    finally:
        await engine.dispose()


async def _release(lock: AsyncConnection) -> None:
    """Close the lock's connection, which ends the lock, even when its session is already gone."""
    try:
        await lock.close()
    except Exception as error:  # usually the session ended first, and PostgreSQL released the lock with it
        log.warning("closing the projection lock's connection failed: %s", error)


async def _stop_app(app: faust.App, timeout_s: float) -> bool:
    """Stop the faust app and return whether it stopped within `timeout_s`.

    On a timeout the stop is left running. `asyncio.wait_for` would cancel it and wait until the cancellation
    finishes. Once, after a batch failed right after a partition assignment, faust's consumer kept waiting
    for the unacknowledged message, the timeout's warning never came, and the process hung for minutes.
    """
    stopping = asyncio.ensure_future(app.stop())
    done, _ = await asyncio.wait({stopping}, timeout=timeout_s)
    if not done:
        log.warning("faust app did not stop within %.0f s", timeout_s)
        return False
    if stopping.exception() is not None:
        log.warning("stopping the faust app failed: %r", stopping.exception())
    else:
        log.info("faust app stopped")
    return True


def _exit_now(status: int) -> None:
    """End the process at once, because the tasks faust left running would block asyncio's shutdown."""
    log.error("exiting with status %d without waiting for the faust app", status)
    logging.shutdown()
    os._exit(status)
