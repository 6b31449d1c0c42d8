"""Measure the running stack: dispatch latency, progress latency to an SSE client, small-solve throughput.

    .venv/bin/python -m benchmarks.stack_latency [--dispatch 200] [--progress-tasks 8] [--solves 2000]

Needs the local stack (`bin/stack up`). It registers a fresh user through
nginx and, in one run, measures:

- dispatch latency: Kafka record timestamp of TaskSubmitted (the command
  API's producer send) to that of TaskStarted (the worker's claim), one
  small task at a time so a worker is always idle;
- progress latency: a worker's TaskProgressed `occurred_at` to its arrival at
  an SSE client through nginx over TLS, on dense n = 3000 solves;
- throughput: `--solves` random dense 50 x 50 solves submitted at once, first
  with the stack's workers and then with one extra worker process that this
  script starts and stops. The rate counts from the first TaskStarted to the
  last TaskCompleted of the batch.

Both latencies use the one machine's clock. Every loop is bounded and the
extra worker is stopped on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

import httpx

from common.kafka import create_consumer
from common.settings import ServiceSettings
from schemas.events import decode

REPO_ROOT = Path(__file__).resolve().parent.parent


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def summary(name: str, samples_ms: list[float]) -> str:
    return (f"{name}: n={len(samples_ms)} p50={percentile(samples_ms, 0.5):.2f} ms "
            f"p99={percentile(samples_ms, 0.99):.2f} ms max={max(samples_ms):.2f} ms")


class EventTail:
    """Record timestamps of task-events records for a set of task ids, read from the log end on."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.seen: dict[tuple[str, str], int] = {}
        self.changed = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        consumer = create_consumer(self.settings, self.settings.topic_task_events, group_id=None)
        await consumer.start()
        while not consumer.assignment():
            await asyncio.sleep(0.05)
        for tp in consumer.assignment():
            await consumer.position(tp)
        self._task = asyncio.create_task(self._run(consumer))

    async def _run(self, consumer) -> None:
        try:
            while True:
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    for record in records:
                        try:
                            envelope = decode(record.value)
                        except ValueError:  # pydantic's ValidationError included: not an event of ours
                            continue
                        self.seen.setdefault((str(envelope.task_id), envelope.event_type), record.timestamp)
                self.changed.set()
        finally:
            await consumer.stop()

    async def wait_for(self, task_id: str, event_types: tuple[str, ...], timeout_s: float = 120) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for event_type in event_types:
                if (task_id, event_type) in self.seen:
                    return event_type
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), timeout=1.0)
            except TimeoutError:
                pass
        raise TimeoutError(f"task {task_id} reached none of {event_types} within {timeout_s} s")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def register(client: httpx.AsyncClient) -> dict[str, str]:
    email, password = f"bench-{uuid.uuid4().hex[:10]}@example.org", uuid.uuid4().hex
    (await client.post("/command/v1/auth/register", json={"email": email, "password": password})).raise_for_status()
    tokens = await client.post("/command/v1/auth/token", data={"username": email, "password": password})
    tokens.raise_for_status()
    return {"Authorization": f"Bearer {tokens.json()['access_token']}"}


async def submit(client: httpx.AsyncClient, headers: dict, kind: str, n: int, seed: int) -> str:
    return (await accept(client, headers, kind, n, seed))["task_id"]


async def accept(client: httpx.AsyncClient, headers: dict, kind: str, n: int, seed: int) -> dict:
    response = await client.post("/command/v1/tasks", headers=headers,
                                 json={"method": "auto", "generator": {"kind": kind, "n": n, "seed": seed}})
    response.raise_for_status()
    return response.json()


async def measure_dispatch(client, headers, tail: EventTail, count: int) -> list[float]:
    samples = []
    for seed in range(count):
        task_id = await submit(client, headers, "random_dense", 50, seed)
        await tail.wait_for(task_id, ("TaskCompleted", "TaskFailed", "TaskCancelled"))
        started = tail.seen.get((task_id, "TaskStarted"))
        if started is not None:
            samples.append(started - tail.seen[(task_id, "TaskSubmitted")])
    return samples


async def measure_progress(client, headers, tasks: int, n: int) -> list[float]:
    samples = []
    for seed in range(tasks):
        accepted = await accept(client, headers, "random_dense", n, 100 + seed)
        task_id = accepted["task_id"]
        token = (await client.post(f"/query/v1/tasks/{task_id}/stream-token", headers={
            **headers, "X-Consistency-Token": accepted["consistency_token"]})).json()
        async with client.stream("GET", f"/query/v1/tasks/{task_id}/events",
                                 params={"stream_token": token["stream_token"]}) as response:
            event = None
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event == "progress":
                    received = time.time()
                    data = json.loads(line.split(":", 1)[1])
                    samples.append((received - datetime.fromisoformat(data["occurred_at"]).timestamp()) * 1000)
    return samples


async def measure_throughput(client, headers, tail: EventTail, solves: int, concurrency: int) -> tuple[float, float]:
    """Return (submissions per second, solves per second from first start to last completion)."""
    queue: asyncio.Queue = asyncio.Queue()
    for seed in range(solves):
        queue.put_nowait(seed)
    task_ids: list[str] = []

    async def submitter() -> None:
        while not queue.empty():
            task_ids.append(await submit(client, headers, "random_dense", 50, 10_000 + queue.get_nowait()))

    began = time.monotonic()
    await asyncio.gather(*(submitter() for _ in range(concurrency)))
    submitted_s = time.monotonic() - began
    deadline = time.monotonic() + 600
    for task_id in task_ids:
        await tail.wait_for(task_id, ("TaskCompleted", "TaskFailed", "TaskCancelled"),
                            timeout_s=max(1.0, deadline - time.monotonic()))
    starts = [tail.seen[(task_id, "TaskStarted")] for task_id in task_ids if (task_id, "TaskStarted") in tail.seen]
    ends = [tail.seen[(task_id, "TaskCompleted")] for task_id in task_ids if (task_id, "TaskCompleted") in tail.seen]
    return solves / submitted_s, len(ends) / max((max(ends) - min(starts)) / 1000, 1e-9)


def start_extra_worker(number: int) -> subprocess.Popen:
    environment = {**os.environ, "INSTANCE_ID": f"solver_worker-bench-{number}", "WORKER_NUMBER": str(number),
                   "SOLVER_WORKERS": str(number)}
    return subprocess.Popen([sys.executable, "-m", "solver_worker"], cwd=REPO_ROOT, env=environment,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def wait_healthy(url: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(url, timeout=2)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
    raise TimeoutError(f"{url} did not become healthy within {timeout_s} s")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="https://127.0.0.1:8443", help="nginx of the local stack")
    parser.add_argument("--cacert", default=str(REPO_ROOT / ".stack" / "tls" / "server.crt"))
    parser.add_argument("--dispatch", type=int, default=200, help="tasks for the dispatch latency")
    parser.add_argument("--progress-tasks", type=int, default=8, help="dense tasks for the progress latency")
    parser.add_argument("--progress-n", type=int, default=3000, help="order of those dense tasks")
    parser.add_argument("--solves", type=int, default=2000, help="small solves per throughput run")
    parser.add_argument("--concurrency", type=int, default=64, help="parallel submissions of the throughput run")
    parser.add_argument("--stack-workers", type=int, default=1, help="workers the stack runs (SOLVER_WORKERS)")
    parser.add_argument("--skip-throughput", action="store_true", help="measure only the two latencies")
    arguments = parser.parse_args()

    settings = ServiceSettings()
    tail = EventTail(settings)
    await tail.start()
    verify = ssl.create_default_context(cafile=arguments.cacert)
    limits = httpx.Limits(max_connections=arguments.concurrency + 8)
    async with httpx.AsyncClient(base_url=arguments.url, verify=verify, timeout=60, limits=limits) as client:
        headers = await register(client)
        dispatch = await measure_dispatch(client, headers, tail, arguments.dispatch)
        print(summary("dispatch latency (submit send -> TaskStarted)", dispatch), flush=True)
        progress = await measure_progress(client, headers, arguments.progress_tasks, arguments.progress_n)
        print(summary("progress latency (TaskProgressed -> SSE client via nginx)", progress), flush=True)

        rates = {}
        if arguments.skip_throughput:
            await tail.stop()
            return
        rates[arguments.stack_workers] = await measure_throughput(client, headers, tail, arguments.solves,
                                                                  arguments.concurrency)
        extra_number = arguments.stack_workers + 1
        extra = start_extra_worker(extra_number)
        try:
            await wait_healthy(f"http://127.0.0.1:{8300 + extra_number}/healthz")
            rates[extra_number] = await measure_throughput(client, headers, tail, arguments.solves,
                                                           arguments.concurrency)
        finally:
            extra.terminate()
            extra.wait(timeout=40)
    await tail.stop()
    for workers, (submitted, solved) in rates.items():
        print(f"throughput with {workers} worker(s): {solved:.0f} solves/s ({arguments.solves} random dense "
              f"50 x 50; submissions {submitted:.0f}/s at concurrency {arguments.concurrency})", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
