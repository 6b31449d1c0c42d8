"""Create the Kafka topics with partitions and retention from settings, idempotently.

`python -m infra.topics` creates missing topics and aligns the retention of
existing ones; `--check` only tests whether the broker responds (exit 0) or not
(exit 1). Nothing relies on the broker auto-creating topics.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from aiokafka.admin import NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from common.kafka import create_admin
from common.log import configure_logging
from common.settings import ServiceSettings

log = logging.getLogger("infra.topics")

HOUR_MS = 3_600_000


def topic_specs(settings: ServiceSettings) -> list[NewTopic]:
    """Return every topic the product needs, with its partitions and configuration."""
    progress_ms = int(settings.topic_task_progress_retention_hours * HOUR_MS)
    forever = {"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete"}
    return [
        NewTopic(settings.topic_task_events, settings.topic_task_events_partitions, 1, topic_configs=forever),
        NewTopic(settings.topic_task_progress, settings.topic_task_progress_partitions, 1,
                 topic_configs={"retention.ms": str(progress_ms), "cleanup.policy": "delete"}),
        NewTopic(settings.topic_dead_letter, 1, 1, topic_configs=forever),
    ]


async def ensure_topics(settings: ServiceSettings) -> None:
    """Create missing topics and set the configured retention on existing ones."""
    admin = create_admin(settings)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        for spec in topic_specs(settings):
            if spec.name in existing:
                await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, spec.name, spec.topic_configs)])
                log.info("topic %s exists; retention set to %s", spec.name, spec.topic_configs["retention.ms"])
                continue
            try:
                await admin.create_topics([spec])
                log.info("created topic %s with %d partitions", spec.name, spec.num_partitions)
            except TopicAlreadyExistsError:
                log.info("topic %s was created concurrently", spec.name)
    finally:
        await admin.close()


async def broker_answers(settings: ServiceSettings) -> bool:
    admin = create_admin(settings)
    try:
        await asyncio.wait_for(admin.start(), timeout=5)
        await asyncio.wait_for(admin.list_topics(), timeout=5)
        return True
    except (KafkaError, OSError, asyncio.TimeoutError):
        return False
    finally:
        await admin.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only test whether the broker responds")
    args = parser.parse_args()
    settings = ServiceSettings(instance_id="topics")
    configure_logging(settings.instance_id, "WARNING" if args.check else settings.log_level)
    if args.check:
        return 0 if asyncio.run(broker_answers(settings)) else 1
    asyncio.run(ensure_topics(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
