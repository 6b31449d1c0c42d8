"""Read-your-writes: wait until the projector has applied the event behind a consistency token.

The command API returns, for each write, the token `topic:partition:offset` of
the event it produced. The projector stores, per partition, the next offset
it will apply, so the event is visible once that position is past `offset`.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from query_api.errors import InvalidConsistencyTokenError
from schemas.events import parse_consistency_token
from schemas.tables import projector_positions

log = logging.getLogger(__name__)


def parse_token(token: str, events_topic: str) -> tuple[int, int]:
    """Return (partition, offset) of a token for `events_topic`; raise InvalidConsistencyTokenError."""
    try:
        topic, partition, offset = parse_consistency_token(token)
    except ValueError as error:
        raise InvalidConsistencyTokenError(
            f"X-Consistency-Token {token!r} is invalid: pass the `consistency_token` of the command API's "
            "response unchanged") from error
    if topic != events_topic:
        raise InvalidConsistencyTokenError(
            f"X-Consistency-Token {token!r} names topic {topic!r}; expected a token for {events_topic!r}")
    return partition, offset


async def wait_for_position(engine: AsyncEngine, consumer: str, topic: str, partition: int, offset: int,
                            *, timeout_s: float, poll_s: float) -> bool:
    """Return True once the projector applied `offset`, or False after `timeout_s`.

    Each check borrows a pooled connection for one query and returns it, so a
    waiting request keeps no connection between checks.
    """
    query = select(projector_positions.c.next_offset).where(
        projector_positions.c.consumer == consumer, projector_positions.c.topic == topic,
        projector_positions.c.partition == partition)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        async with engine.connect() as connection:
            position = (await connection.execute(query)).scalar_one_or_none()
        if position is not None and position > offset:
            return True
        if loop.time() >= deadline:
            log.warning("projector did not reach %s:%d:%d within %.1f s (at %s)", topic, partition, offset,
                        timeout_s, position)
            return False
        await asyncio.sleep(poll_s)
