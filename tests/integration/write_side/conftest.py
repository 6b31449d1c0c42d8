"""Fixtures of the write-side tests: users, a tail of the event log, and processes the tests start.

Tests that need full control over which workers exist (starvation, kill -9,
cancellation) run an isolated cluster: their own topics, their own command
API process and their own worker processes, all on the real Kafka and
PostgreSQL of the stack. The stack's own worker does not read those topics.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from aiokafka import TopicPartition
from aiokafka.admin import NewTopic

from common.kafka import create_admin, create_consumer, create_producer
from common.settings import ServiceSettings
from schemas.events import Envelope, decode_typed
from tests.conftest import REPO_ROOT, StackEndpoints, free_port

LOG_DIR = REPO_ROOT / ".stack" / "logs"
# A port that is free now, so that two test runs on one machine cannot collide.
ISOLATED_API_PORT = int(os.environ.get("WRITE_SIDE_TEST_API_PORT") or free_port())
TEST_WORKER_BASE = 10  # worker numbers 10.. serve health on WORKER_HEALTH_PORT_BASE + number
PASSWORD = "correct horse 42"


@dataclass(frozen=True)
class Topics:
    events: str
    progress: str
    dead_letter: str

    def env(self) -> dict[str, str]:
        return {"TOPIC_TASK_EVENTS": self.events, "TOPIC_TASK_PROGRESS": self.progress,
                "TOPIC_DEAD_LETTER": self.dead_letter}


STACK_TOPICS = Topics("task-events", "task-progress", "task-events-dlq")


class EventLog:
    """Every event on the given topics from the moment `start` returns, decoded, in arrival order."""

    def __init__(self, topics: Topics) -> None:
        self.topics = topics
        self.events: list[tuple[Envelope, int, int]] = []
        self.raw_dead_letters: list = []
        self.undecodable: list = []
        self._consumer = None
        self._reader: asyncio.Task | None = None
        self._arrived = asyncio.Event()

    async def start(self) -> None:
        settings = ServiceSettings(instance_id=f"test-eventlog-{uuid.uuid4().hex[:6]}")
        partitions = []
        producer = create_producer(settings)  # its metadata lookup waits for a topic; a consumer's does not
        await producer.start()
        try:
            for topic in (self.topics.events, self.topics.progress, self.topics.dead_letter):
                for partition in sorted(await producer.partitions_for(topic)):
                    partitions.append(TopicPartition(topic, partition))
        finally:
            await producer.stop()
        self._consumer = create_consumer(settings, group_id=None)
        await self._consumer.start()
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end(*partitions)
        for tp in partitions:
            await self._consumer.position(tp)
        self._reader = asyncio.create_task(self._read())

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        if self._consumer is not None:
            await self._consumer.stop()

    async def _read(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=100)
            for tp, records in batches.items():
                for record in records:
                    if tp.topic == self.topics.dead_letter:
                        self.raw_dead_letters.append(record)
                        continue
                    try:
                        envelope, _ = decode_typed(record.value)
                    except ValueError:  # pydantic's ValidationError is a ValueError
                        self.undecodable.append(record)
                        continue
                    self.events.append((envelope, tp.partition, record.offset))
            if batches:
                self._arrived.set()

    def arrival(self, envelope: Envelope) -> int:
        """Return the position of `envelope` in arrival order."""
        return next(index for index, (seen, _, _) in enumerate(self.events) if seen.event_id == envelope.event_id)

    def of(self, task_id, event_type: str | None = None) -> list[Envelope]:
        task_id = uuid.UUID(str(task_id))
        return [envelope for envelope, _, _ in self.events
                if envelope.task_id == task_id and (event_type is None or envelope.event_type == event_type)]

    async def wait_for(self, task_id, event_type: str, timeout: float = 30.0,
                       where: Callable[[Envelope], bool] = lambda envelope: True) -> Envelope:
        """Return the first event of `event_type` for the task that satisfies `where`; fail after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            for envelope in self.of(task_id, event_type):
                if where(envelope):
                    return envelope
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [(e.event_type, e.attempt) for e in self.of(task_id) if e.event_type != "TaskProgressed"]
                raise AssertionError(f"no {event_type} for task {task_id} within {timeout} s; saw {seen}")
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), min(remaining, 0.2))
            except asyncio.TimeoutError:
                pass


@dataclass
class Started:
    name: str
    process: subprocess.Popen
    log_path: Path


@dataclass
class Processes:
    """Processes a test started; `stop_all` ends only those, by their own ids."""

    started: list[Started] = field(default_factory=list)

    def spawn(self, name: str, args: list[str], env: dict[str, str]) -> Started:
        log_path = LOG_DIR / f"test-{name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        handle = log_path.open("ab")
        process = subprocess.Popen(args, cwd=REPO_ROOT, env={**os.environ, **env}, stdout=handle,
                                   stderr=subprocess.STDOUT)
        handle.close()
        item = Started(name, process, log_path)
        self.started.append(item)
        return item

    def stop(self, item: Started, timeout: float = 30) -> int | None:
        if item.process.poll() is None:
            item.process.send_signal(signal.SIGTERM)
            try:
                item.process.wait(timeout)
            except subprocess.TimeoutExpired:
                item.process.kill()
                item.process.wait(5)
        return item.process.returncode

    def stop_all(self) -> None:
        for item in reversed(self.started):
            self.stop(item)


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"process for {url} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} not healthy within {timeout} s")


@dataclass
class IsolatedCluster:
    """A command API and workers on topics of their own."""

    topics: Topics
    api_url: str
    processes: Processes
    endpoints: StackEndpoints
    workers: dict[int, Started] = field(default_factory=dict)

    def start_worker(self, number: int, **settings: str) -> Started:
        env = {**self.topics.env(), "WORKER_NUMBER": str(number), "INSTANCE_ID": f"test-worker-{number}",
               "CONSUMER_GROUP": f"{self.topics.events}-workers", "SOLVER_WORKERS": "2", "LOG_LEVEL": "INFO",
               **{key.upper(): value for key, value in settings.items()}}
        item = self.processes.spawn(f"worker-{number}", [sys.executable, "-m", "solver_worker"], env)
        wait_healthy(f"{self.endpoints.worker_health(number)}/healthz", item.process)
        self.workers[number] = item
        return item


@pytest.fixture(scope="module")
async def isolated(stack: StackEndpoints):
    """Topics, a command API on ISOLATED_API_PORT and a worker factory, removed after the module."""
    suffix = uuid.uuid4().hex[:8]
    topics = Topics(f"test-{suffix}-task-events", f"test-{suffix}-task-progress", f"test-{suffix}-dlq")
    admin = create_admin(ServiceSettings(instance_id="test-admin"))
    await admin.start()
    await admin.create_topics([NewTopic(topics.events, 6, 1), NewTopic(topics.progress, 6, 1),
                               NewTopic(topics.dead_letter, 1, 1)])
    processes = Processes()
    try:
        api = processes.spawn("command-api", [sys.executable, "-m", "command_api"], {
            **topics.env(), "PORT": str(ISOLATED_API_PORT), "INSTANCE_ID": "test-command-api",
            "RUN_MIGRATIONS": "false"})
        api_url = f"http://127.0.0.1:{ISOLATED_API_PORT}"
        await asyncio.to_thread(wait_healthy, f"{api_url}/healthz", api.process)
        yield IsolatedCluster(topics, api_url, processes, stack)
    finally:
        await asyncio.to_thread(processes.stop_all)
        await admin.delete_topics([topics.events, topics.progress, topics.dead_letter])
        await admin.close()


@pytest.fixture
async def isolated_log(isolated: IsolatedCluster):
    log = EventLog(isolated.topics)
    await log.start()
    yield log
    await log.stop()


@pytest.fixture
async def stack_log(stack: StackEndpoints):
    log = EventLog(STACK_TOPICS)
    await log.start()
    yield log
    await log.stop()


async def register(client: httpx.AsyncClient, prefix: str = "") -> dict[str, str]:
    """Register a fresh user and return the Authorization header of its access token."""
    email = f"writer-{uuid.uuid4().hex[:12]}@example.org"
    response = await client.post(f"{prefix}/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    token = await client.post(f"{prefix}/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


@pytest.fixture
async def isolated_client(isolated: IsolatedCluster):
    async with httpx.AsyncClient(base_url=isolated.api_url, timeout=60) as client:
        client.headers.update(await register(client))
        yield client


@pytest.fixture
async def command_client(nginx_client: httpx.AsyncClient):
    """A client of the command API through nginx, logged in as a fresh user."""
    nginx_client.headers.update(await register(nginx_client, "/command"))
    return nginx_client
