"""Live progress: tail both topics without a consumer group and fan out to subscribers.

Every query_api instance runs one `LiveHub`. It reads `task-events` and
`task-progress` from the log end onwards, turns each record into a
`LiveMessage` and puts it in the queue of every stream subscribed to that
task. It also keeps the last messages of each recently active task, so a
client that reconnects (to this or another instance) can resume from the
offsets it last received without gaps. Offsets are the broker's, so a
resume cursor means the same on every instance.

Streams hold no database connection while they wait: they block on their
own in-memory queue.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner
from prometheus_client import Counter, Gauge
from pydantic import ValidationError

from common.kafka import create_consumer, start_with_retry
from query_api.settings import QueryApiSettings
from schemas.events import (
    Envelope, TaskCancellationRequested, TaskCancelled, TaskCompleted, TaskFailed, TaskProgressed, TaskRequeued,
    TaskStarted, UnknownEventError, decode, format_consistency_token,
)

log = logging.getLogger(__name__)

SUBSCRIBERS = Gauge("query_live_subscribers", "Open SSE and WebSocket streams on this instance.")
DROPPED = Counter("query_live_dropped_streams_total", "Streams closed because their client read too slowly.")

EVENTS, PROGRESS = "events", "progress"

STATUS_OF_EVENT = {
    TaskStarted.event_type: "running",
    TaskRequeued.event_type: "queued",
    TaskCompleted.event_type: "completed",
    TaskFailed.event_type: "failed",
    TaskCancelled.event_type: "cancelled",
}
TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})


@dataclass(frozen=True)
class LiveMessage:
    """One message for stream clients: `progress` or `status`, with the log position it came from."""

    type: str
    task_id: uuid.UUID
    attempt: int
    stream: str
    offset: int
    data: dict[str, Any]
    timestamp_ms: int = 0


@dataclass(eq=False)
class Subscription:
    """A stream's queue of live messages; `closed` is set when the hub dropped it for reading too slowly."""

    task_id: uuid.UUID
    queue: asyncio.Queue
    closed: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class TaskBuffer:
    """The recent messages of one task and the highest offset per stream dropped from it."""

    messages: deque
    evicted: dict[str, int] = field(default_factory=lambda: {EVENTS: -1, PROGRESS: -1})


def message_from(stream: str, offset: int, envelope: Envelope, timestamp_ms: int = 0,
                 consistency_token: str | None = None) -> LiveMessage | None:
    """Return the stream message of an event, or None for events streams do not show.

    A status message carries the event's `consistency_token`, so a client can
    read the task's new state (or its result) at once with X-Consistency-Token.
    """
    payload = envelope.typed_payload()
    base = {"task_id": str(envelope.task_id), "attempt": envelope.attempt,
            "occurred_at": envelope.occurred_at.isoformat(), "event_type": envelope.event_type}
    if consistency_token is not None:
        base["consistency_token"] = consistency_token
    if isinstance(payload, TaskProgressed):
        data = base | payload.model_dump(mode="json") | {"percent": round(payload.fraction * 100, 2)}
        return LiveMessage("progress", envelope.task_id, envelope.attempt, stream, offset, data, timestamp_ms)
    if isinstance(payload, TaskCancellationRequested):
        data = base | {"status": None, "cancel_requested": True, "reason": payload.reason}
        return LiveMessage("status", envelope.task_id, envelope.attempt, stream, offset, data, timestamp_ms)
    status = STATUS_OF_EVENT.get(envelope.event_type)
    if status is None:
        return None
    details = payload.model_dump(mode="json", exclude={"solution"})
    if isinstance(payload, TaskRequeued):
        details["attempt"] = max(envelope.attempt, payload.previous_attempt + 1)
    data = base | details | {"status": status}
    return LiveMessage("status", envelope.task_id, data["attempt"], stream, offset, data, timestamp_ms)


class LiveHub:
    """Tails both topics from the log end and fans messages out to subscribed streams."""

    def __init__(self, settings: QueryApiSettings) -> None:
        self.settings = settings
        self.topics = {settings.topic_task_events: EVENTS, settings.topic_task_progress: PROGRESS}
        self.tail_start: dict[tuple[str, int], int] = {}
        self.partition_counts: dict[str, int] = {}
        self.buffers: OrderedDict[uuid.UUID, TaskBuffer] = OrderedDict()
        # Per (topic, partition): the highest offset of a message whose task buffer was dropped.
        self.dropped_upto: dict[tuple[str, int], int] = {}
        self.subscribers: dict[uuid.UUID, set[Subscription]] = {}
        self.ready = asyncio.Event()
        self._partitioner = DefaultPartitioner()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="live-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for subscriptions in self.subscribers.values():
            for subscription in subscriptions:
                subscription.closed.set()

    def subscribe(self, task_id: uuid.UUID) -> Subscription:
        subscription = Subscription(task_id, asyncio.Queue(maxsize=self.settings.stream_queue_size))
        self.subscribers.setdefault(task_id, set()).add(subscription)
        SUBSCRIBERS.inc()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscriptions = self.subscribers.get(subscription.task_id)
        if subscriptions is None or subscription not in subscriptions:
            return
        subscriptions.discard(subscription)
        if not subscriptions:
            del self.subscribers[subscription.task_id]
        SUBSCRIBERS.dec()

    def buffered(self, task_id: uuid.UUID) -> list[LiveMessage]:
        buffer = self.buffers.get(task_id)
        return list(buffer.messages) if buffer else []

    def covers(self, task_id: uuid.UUID, cursor: dict[str, int]) -> bool:
        """Return True when every message of `task_id` after `cursor` is still buffered here."""
        if not self.ready.is_set():
            return False
        buffer = self.buffers.get(task_id)
        for topic, stream in self.topics.items():
            after = cursor.get(stream, -1)
            partition = self.partition_of(task_id, topic)
            if partition is None or self.tail_start.get((topic, partition), 1 << 62) > after + 1:
                return False
            if buffer is not None and buffer.evicted[stream] > after:
                return False
            if buffer is None and self.dropped_upto.get((topic, partition), -1) > after:
                return False
        return True

    def partition_of(self, task_id: uuid.UUID, topic: str) -> int | None:
        count = self.partition_counts.get(topic)
        if not count:
            return None
        partitions = list(range(count))
        return self._partitioner(str(task_id).encode(), partitions, partitions)

    async def _run(self) -> None:
        while True:
            try:
                await self._tail()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the live progress tail failed; restarting it in 1 s")
                await asyncio.sleep(1.0)

    async def _tail(self) -> None:
        # Without a group, a subscribed consumer is assigned every partition and starts at the log end.
        consumer = create_consumer(self.settings, *self.topics, group_id=None, fetch_max_wait_ms=100)
        await start_with_retry(consumer, "live progress tail")
        try:
            await self._record_tail_start(consumer)
            self.ready.set()
            while True:
                try:
                    batches = await consumer.getmany(timeout_ms=500, max_records=1000)
                except KafkaError as error:
                    log.warning("reading the live topics failed: %s; retrying in 1 s", error)
                    await asyncio.sleep(1.0)
                    continue
                # One fetch mixes both topics; producer timestamps restore the order across them.
                records = [(record.timestamp, tp, record) for tp, batch in batches.items() for record in batch]
                records.sort(key=lambda item: item[0])
                for timestamp, tp, record in records:
                    self._dispatch(tp.topic, tp.partition, record.offset, record.value, timestamp)
        finally:
            self.ready.clear()
            await consumer.stop()

    async def _record_tail_start(self, consumer) -> None:
        while True:
            counts = {topic: len(consumer.partitions_for_topic(topic) or ()) for topic in self.topics}
            assigned = consumer.assignment()
            if all(counts.values()) and len(assigned) == sum(counts.values()):
                break
            await asyncio.sleep(0.05)
        self.partition_counts = counts
        for tp in assigned:
            self.tail_start[(tp.topic, tp.partition)] = await consumer.position(tp)
        log.info("tailing %s from the log end", ", ".join(self.topics))

    def _dispatch(self, topic: str, partition: int, offset: int, value: bytes, timestamp_ms: int) -> None:
        try:
            stream = self.topics[topic]
            token = format_consistency_token(topic, partition, offset) if stream == EVENTS else None
            message = message_from(stream, offset, decode(value), timestamp_ms, token)
        except (ValidationError, UnknownEventError, ValueError) as error:
            log.warning("skipping an invalid record: %s", error,
                        extra={"topic": topic, "partition": partition, "offset": offset})
            return
        if message is None:
            return
        self._remember(message)
        for subscription in list(self.subscribers.get(message.task_id, ())):
            try:
                subscription.queue.put_nowait(message)
            except asyncio.QueueFull:
                DROPPED.inc()
                log.warning("closing a stream that reads too slowly", extra={"task_id": message.task_id})
                subscription.closed.set()
                self.unsubscribe(subscription)

    def _remember(self, message: LiveMessage) -> None:
        buffer = self.buffers.get(message.task_id)
        if buffer is None:
            buffer = self.buffers[message.task_id] = TaskBuffer(deque())
            while len(self.buffers) > self.settings.live_buffer_tasks:
                self._drop_oldest_buffer()
        else:
            self.buffers.move_to_end(message.task_id)
        buffer.messages.append(message)
        if len(buffer.messages) > self.settings.live_buffer_messages:
            evicted = buffer.messages.popleft()
            buffer.evicted[evicted.stream] = max(buffer.evicted[evicted.stream], evicted.offset)

    def _drop_oldest_buffer(self) -> None:
        task_id, buffer = self.buffers.popitem(last=False)
        for topic, stream in self.topics.items():
            partition = self.partition_of(task_id, topic)
            offsets = [message.offset for message in buffer.messages if message.stream == stream]
            highest = max(offsets + [buffer.evicted[stream]])
            key = (topic, partition)
            self.dropped_upto[key] = max(self.dropped_upto.get(key, -1), highest)
