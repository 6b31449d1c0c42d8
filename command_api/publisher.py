"""Publishing events: the broker must acknowledge (acks=all) before a command counts as accepted."""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from command_api.errors import BrokerUnavailableError
from schemas.events import Envelope, encode, topic_for

log = logging.getLogger(__name__)


class EventPublisher:
    """Sends envelopes and returns (topic, partition, offset) once the broker acknowledged them.

    `request_timeout_ms` bounds how long aiokafka keeps an unsent record; the
    outer wait is longer, so when this raises the record has been dropped by
    the producer and cannot appear in the log later.
    """

    def __init__(self, settings, request_timeout_ms: int) -> None:
        self.settings = settings
        self.producer: AIOKafkaProducer | None = None
        self.timeout_s = request_timeout_ms / 1000 * 2 + 5

    async def publish(self, envelope: Envelope) -> tuple[str, int, int]:
        """Raise BrokerUnavailableError when the broker does not acknowledge in time."""
        if self.producer is None:
            raise BrokerUnavailableError("the event broker is not connected yet; retry in a few seconds")
        topic = topic_for(envelope.event_type, self.settings)
        key, value, headers = encode(envelope)
        context = {"task_id": str(envelope.task_id), "event_id": str(envelope.event_id)}
        try:
            metadata = await asyncio.wait_for(
                self.producer.send_and_wait(topic, value, key=key, headers=headers), timeout=self.timeout_s)
        except (KafkaError, asyncio.TimeoutError) as error:
            log.warning("broker did not acknowledge %s: %r", envelope.event_type, error, extra=context)
            raise BrokerUnavailableError(
                "the event broker did not acknowledge the request, so nothing was recorded; retry later, "
                "with the same Idempotency-Key to be safe") from error
        log.info("published %s", envelope.event_type,
                 extra={**context, "topic": topic, "partition": metadata.partition, "offset": metadata.offset})
        return topic, metadata.partition, metadata.offset
