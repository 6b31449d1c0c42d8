"""Kafka client factories with the delivery settings the architecture promises.

Producers acknowledge only after every in-sync replica has the record
(`acks="all"`) and are idempotent, so a retried send never duplicates an event.
Consumers never auto-commit: callers commit after the outcome is durable.
"""

from __future__ import annotations

import asyncio
import logging
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError

from common.settings import ServiceSettings

log = logging.getLogger(__name__)


def create_producer(settings: ServiceSettings, **overrides) -> AIOKafkaProducer:
    """Build an idempotent producer that waits for every in-sync replica."""
    options = {
        "bootstrap_servers": settings.bootstrap_servers,
        "client_id": settings.instance_id,
        "acks": "all",
        "enable_idempotence": True,
        # Small batches: events are latency-sensitive, throughput is modest.
        "linger_ms": 0,
        "request_timeout_ms": 10_000,
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)


def create_consumer(settings: ServiceSettings, *topics: str, group_id: str | None, **overrides) -> AIOKafkaConsumer:
    """Build a consumer with auto-commit off; `group_id=None` tails without a group."""
    options = {
        "bootstrap_servers": settings.bootstrap_servers,
        "client_id": settings.instance_id,
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest" if group_id else "latest",
        "isolation_level": "read_committed",
    }
    options.update(overrides)
    return AIOKafkaConsumer(*topics, **options)


def create_admin(settings: ServiceSettings) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id=settings.instance_id)


async def start_with_retry(client, what: str, *, attempts: int = 60, delay_s: float = 1.0) -> None:
    """Start an aiokafka client, retrying while the broker is not reachable yet.

    Raises the last `KafkaConnectionError` after `attempts` failures.
    """
    for attempt in range(1, attempts + 1):
        try:
            await client.start()
            log.info("%s connected to Kafka", what)
            return
        except KafkaConnectionError as error:
            if attempt == attempts:
                raise
            log.warning("%s cannot reach Kafka (attempt %d of %d): %s; retrying in %.1f s",
                        what, attempt, attempts, error, delay_s)
            await asyncio.sleep(delay_s)
