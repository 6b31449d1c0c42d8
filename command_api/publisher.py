"""Publishing events: the broker must acknowledge (acks=all) before a command counts as accepted."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from command_api.errors import BrokerUnavailableError
from common.kafka import start_with_retry
from schemas.events import Envelope, encode, topic_for

log = logging.getLogger(__name__)


class EventPublisher:
    """Sends envelopes and returns (topic, partition, offset) once the broker acknowledged them.

    aiokafka's idempotent producer keeps retrying a record whose partition
    leader is known but unreachable, and would deliver it once the broker is
    back, long after the client got its 503. So when a send is not
    acknowledged within `timeout_s`, the producer is discarded with every
    record still queued in it, and a fresh one connects in the background.
    Until it has connected, publishing fails at once with BrokerUnavailableError.
    """

    def __init__(self, settings, create_producer: Callable[[], AIOKafkaProducer], timeout_s: float) -> None:
        self.settings = settings
        self.create_producer = create_producer
        self.timeout_s = timeout_s
        self.producer: AIOKafkaProducer | None = None
        self._reconnecting: asyncio.Task | None = None

    async def connect(self) -> None:
        """Start a producer, retrying until the broker accepts the connection."""
        producer = self.create_producer()
        await start_with_retry(producer, "command_api producer", attempts=10**9)
        self.producer = producer

    async def close(self) -> None:
        if self._reconnecting is not None:
            self._reconnecting.cancel()
            await asyncio.gather(self._reconnecting, return_exceptions=True)
        if self.producer is not None:
            await asyncio.wait_for(self.producer.stop(), 10)

    async def publish(self, envelope: Envelope) -> tuple[str, int, int]:
        """Raise BrokerUnavailableError when the broker does not acknowledge in time."""
        producer = self.producer
        if producer is None:
            raise BrokerUnavailableError("the event broker is not reachable, so nothing was recorded; retry in a "
                                         "few seconds")
        topic = topic_for(envelope.event_type, self.settings)
        key, value, headers = encode(envelope)
        context = {"task_id": str(envelope.task_id), "event_id": str(envelope.event_id)}
        try:
            metadata = await asyncio.wait_for(producer.send_and_wait(topic, value, key=key, headers=headers),
                                              timeout=self.timeout_s)
        except (KafkaError, asyncio.TimeoutError) as error:
            log.warning("broker did not acknowledge %s: %r", envelope.event_type, error, extra=context)
            await self._discard(producer)
            raise BrokerUnavailableError(
                "the event broker did not acknowledge the request, so nothing was recorded; retry later, "
                "with the same Idempotency-Key to be safe") from error
        log.info("published %s", envelope.event_type,
                 extra={**context, "topic": topic, "partition": metadata.partition, "offset": metadata.offset})
        return topic, metadata.partition, metadata.offset

    async def _discard(self, producer: AIOKafkaProducer) -> None:
        """Drop `producer` and its queued records, then reconnect in the background."""
        if self.producer is not producer:
            return  # another request discarded it already
        self.producer = None
        # NOTE: aiokafka has no public way to drop queued records. Stopping the sender task first makes
        # stop() close the connections instead of flushing (read in aiokafka 0.14's producer.stop).
        sender_task = producer._sender.sender_task  # noqa: SLF001
        sender_task.cancel()
        await asyncio.gather(sender_task, return_exceptions=True)
        try:
            await asyncio.wait_for(producer.stop(), 5)
        except (KafkaError, asyncio.TimeoutError, OSError) as error:
            log.warning("discarded producer did not stop cleanly: %r", error)
        log.warning("discarded the producer and its unacknowledged records; reconnecting")
        self._reconnecting = asyncio.create_task(self.connect(), name="producer-reconnect")
