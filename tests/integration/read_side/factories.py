"""Factories of the read-side tests: users, tokens and events produced onto the real topics."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiokafka.structs import RecordMetadata
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from common.auth import issue_token
from common.settings import ServiceSettings
from schemas.events import (
    Envelope, InlineMatrix, Payload, ProblemInput, Producer, SolutionSummary, TaskCompleted, TaskProgressed,
    TaskRequeued, TaskStarted, TaskSubmitted, encode, format_consistency_token, make_event,
)
from schemas.tables import projector_positions, users

TEST_PRODUCER = Producer(service="tests", instance="read_side")
LEASE = timedelta(minutes=30)


@dataclass(frozen=True)
class User:
    user_id: uuid.UUID
    email: str
    access_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def create_user(engine: AsyncEngine, settings: ServiceSettings) -> User:
    """Insert a user row with a unique e-mail and return it with an access token."""
    user_id = uuid.uuid4()
    email = f"read-side-{user_id.hex[:12]}@example.org"
    async with engine.begin() as connection:
        await connection.execute(insert(users).values(user_id=user_id, email=email, password_hash="unused"))
    token, _ = issue_token(settings, user_id, "access")
    return User(user_id, email, token)


class EventLog:
    """Produces events of one task onto the real topics, as the write side would."""

    def __init__(self, producer, settings: ServiceSettings, user_id: uuid.UUID, task_id: uuid.UUID | None = None):
        self.producer, self.settings, self.user_id = producer, settings, user_id
        self.task_id = task_id or uuid.uuid4()

    def envelope(self, payload: Payload, attempt: int = 1) -> Envelope:
        return make_event(payload, task_id=self.task_id, user_id=self.user_id, attempt=attempt,
                          producer=TEST_PRODUCER)

    async def send(self, payload: Payload, attempt: int = 1) -> RecordMetadata:
        return await self.send_envelope(self.envelope(payload, attempt))

    async def send_envelope(self, envelope: Envelope) -> RecordMetadata:
        key, value, headers = encode(envelope)
        kind = type(envelope.typed_payload()).topic_kind
        topic = self.settings.topic_task_progress if kind == "progress" else self.settings.topic_task_events
        return await self.producer.send_and_wait(topic, value, key=key, headers=headers)

    async def submit_and_claim(self, submitted: TaskSubmitted | None = None) -> RecordMetadata:
        """Send TaskSubmitted and this test's TaskStarted back to back, so the claim lands first.

        The solver workers treat the first TaskStarted of an attempt in the log as
        the claim, so they leave a task claimed this way to the test. Its lease
        (LEASE) outlasts every test.
        """
        return await self.send_back_to_back(self.envelope(submitted or small_problem()), self.envelope(started()))

    async def requeue_and_claim(self, attempt: int, worker: str) -> RecordMetadata:
        """Requeue the task as `attempt` and claim that attempt for `worker`, back to back.

        A requeued task is free for any running solver worker to claim, so the
        claim has to be in the log before a worker can read the requeue.
        """
        requeued = TaskRequeued(previous_attempt=attempt - 1, reason="lease expired")
        return await self.send_back_to_back(self.envelope(requeued, attempt), self.envelope(started(worker), attempt))

    async def send_back_to_back(self, *envelopes: Envelope) -> RecordMetadata:
        """Send `envelopes` to the events topic without waiting between them and return the last one's metadata.

        They usually share one produce request, and a worker needs a fetch and a produce of its own to react to the
        first, so the others are in the log before a worker's claim can be.
        """
        pending = []
        for envelope in envelopes:
            key, value, headers = encode(envelope)
            pending.append(await self.producer.send(self.settings.topic_task_events, value, key=key, headers=headers))
        results = [await future for future in pending]
        return results[-1]

    @staticmethod
    def token(metadata: RecordMetadata) -> str:
        return format_consistency_token(metadata.topic, metadata.partition, metadata.offset)


def small_problem(method: str = "auto") -> TaskSubmitted:
    """A 2 x 2 diagonal system whose solution is [1, 1]."""
    problem = ProblemInput(kind="inline", a=InlineMatrix(shape=(2, 2), values=[[2.0, 0.0], [0.0, 4.0]]),
                           b=InlineMatrix(shape=(2,), values=[2.0, 4.0]))
    return TaskSubmitted(method=method, input=problem, rows=2, cols=2)


def started(worker: str = "tests-worker") -> TaskStarted:
    return TaskStarted(worker=worker, lease_expires_at=datetime.now(UTC) + LEASE)


def progressed(fraction: float, elapsed_s: float = 0.5) -> TaskProgressed:
    return TaskProgressed(fraction=fraction, elapsed_s=elapsed_s, eta_s=max(0.0, 1 - fraction),
                          flops_done=fraction * 16.0, flops_total=16.0, rate_flops_per_s=32.0, phase="solve")


def completed(values=(1.0, 1.0)) -> TaskCompleted:
    summary = SolutionSummary(method="lu", method_reason="dense square system", relative_residual=1e-17,
                              residual_norm=2e-16, condition_estimate=2.0, flops=16.0, elapsed_s=0.001,
                              gflops=0.016, complexity={"n": 2, "flops": 16.0, "formula": "2/3 n^3 + 2 n^2"})
    return TaskCompleted(summary=summary, solution=InlineMatrix(shape=(len(values),), values=list(values)))


async def wait_for_projection(engine: AsyncEngine, metadata: RecordMetadata, consumer: str = "projector",
                              timeout_s: float = 15.0) -> None:
    """Wait until the projector's stored position is past `metadata`'s offset."""
    query = select(projector_positions.c.next_offset).where(
        projector_positions.c.consumer == consumer, projector_positions.c.topic == metadata.topic,
        projector_positions.c.partition == metadata.partition)
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        async with engine.connect() as connection:
            position = (await connection.execute(query)).scalar_one_or_none()
        if position is not None and position > metadata.offset:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"projector stayed at {position}, below offset {metadata.offset} "
                                 f"of {metadata.topic}:{metadata.partition}")
        await asyncio.sleep(0.02)


async def sse_messages(response):
    """Yield (event, id, data) of a Server-Sent Events response; `data` is the raw text."""
    event, event_id, data = "message", None, []
    async for line in response.aiter_lines():
        if line == "":
            if data:
                yield event, event_id, "\n".join(data)
            event, event_id, data = "message", None, []
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                event = value
            elif name == "id":
                event_id = value
            elif name == "data":
                data.append(value)
