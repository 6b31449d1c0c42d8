"""Measure the running stack: dispatch latency, progress latency to an SSE client, small-solve throughput.

    .venv/bin/python -m benchmarks.stack_latency [--dispatch 200] [--progress-tasks 8] [--solves 2000]

Needs the local stack (`bin/stack up`). It registers a fresh user through
nginx and, in one run, measures:

- broker delivery, the reference for both latencies: a record sent with the
  product's producer settings (acks=all, idempotent) to a scratch topic,
  until a tailing consumer returns it. No product path can beat it, so the
  dispatch figures are also printed as a multiple of it;

- dispatch latency: Kafka record timestamp of TaskSubmitted (the command
  API's producer send) to that of TaskStarted (the worker's claim), one
  small task at a time so a worker is always idle;
- progress latency: a worker's TaskProgressed `occurred_at` to its arrival at
  an SSE client through nginx over TLS, on dense n = 4000 solves; events that
  occurred before the stream opened are replayed, not live, and are skipped;
- submission rate: `--solves` random dense 50 x 50 tasks submitted through
  nginx and both command API instances at `--concurrency`;
- throughput: how fast 1 and then 2 workers (`--workers`) solve those tasks.
  The script stops the stack's workers (`bin/stack ctl`), submits the tasks
  while no worker runs, then starts its own worker processes; the rate counts
  from the first TaskStarted to the last TaskCompleted of the tasks, so it
  measures the workers and not the submissions. Those workers log to
  `.stack/logs/solver_worker-bench-N.log`. The reference is the same solves
  run by the solve process's batch function in this process, with no stack,
  and the throughput is also printed as a fraction of it.

Both latencies use the one machine's clock. Every loop is bounded; the
script's workers are stopped and the stack's workers started again on exit.
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
from datetime import UTC, datetime
from pathlib import Path

import httpx

from common.kafka import create_admin, create_consumer, create_producer
from common.settings import ServiceSettings
from solver_worker.settings import SolverWorkerSettings
from schemas.events import EVENT_TYPE_HEADER

REPO_ROOT = Path(__file__).resolve().parent.parent


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def summary(name: str, samples_ms: list[float]) -> str:
    if not samples_ms:
        return f"{name}: no samples"
    return (f"{name}: n={len(samples_ms)} p50={percentile(samples_ms, 0.5):.2f} ms "
            f"p99={percentile(samples_ms, 0.99):.2f} ms max={max(samples_ms):.2f} ms")


async def measure_broker_delivery(settings: ServiceSettings, count: int) -> list[float]:
    """Return send-to-receive times of `count` records on a scratch topic, which is deleted afterwards."""
    from aiokafka.admin import NewTopic

    topic = f"benchmark-scratch-{uuid.uuid4().hex[:8]}"
    admin = create_admin(settings)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 1, 1)])
    producer = create_producer(settings)
    consumer = create_consumer(settings, topic, group_id=None)
    samples = []
    try:
        await producer.start()
        await consumer.start()
        while not consumer.assignment():
            await asyncio.sleep(0.05)
        for tp in consumer.assignment():
            await consumer.position(tp)
        for _ in range(count):
            began = time.perf_counter()
            received = asyncio.create_task(consumer.getone())
            await producer.send_and_wait(topic, b"x" * 600)
            await asyncio.wait_for(received, 10)
            samples.append((time.perf_counter() - began) * 1000)
            await asyncio.sleep(0.01)
    finally:
        await consumer.stop()
        await producer.stop()
        await admin.delete_topics([topic])
        await admin.close()
    return samples


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
                        # The key and the event_type header suffice, and decoding every event would load the
                        # machine that is being measured.
                        event_type = dict(record.headers or ()).get(EVENT_TYPE_HEADER)
                        if record.key is None or event_type is None:
                            continue
                        self.seen.setdefault((record.key.decode(), event_type.decode()), record.timestamp)
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
            opened = time.time()
            event = None
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event == "progress":
                    received = time.time()
                    occurred = datetime.fromisoformat(json.loads(line.split(":", 1)[1])["occurred_at"]).timestamp()
                    if occurred >= opened:  # earlier ones are replayed from the buffer, not delivered live
                        samples.append((received - occurred) * 1000)
    return samples


async def submit_all(client: httpx.AsyncClient, headers: dict, solves: int, concurrency: int,
                     seed: int) -> tuple[list[str], float]:
    """Submit `solves` random dense 50 x 50 tasks; return their ids and the submissions per second."""
    queue: asyncio.Queue = asyncio.Queue()
    for offset in range(solves):
        queue.put_nowait(seed + offset)
    task_ids: list[str] = []

    async def submitter() -> None:
        while not queue.empty():
            task_ids.append(await submit(client, headers, "random_dense", 50, queue.get_nowait()))

    began = time.monotonic()
    await asyncio.gather(*(submitter() for _ in range(concurrency)))
    return task_ids, solves / (time.monotonic() - began)


async def solve_rate(tail: EventTail, task_ids: list[str]) -> tuple[float, int]:
    """Wait until every task has ended; return (completions per second from first start to last completion, failures)."""
    deadline = time.monotonic() + 600
    for task_id in task_ids:
        await tail.wait_for(task_id, ("TaskCompleted", "TaskFailed", "TaskCancelled"),
                            timeout_s=max(1.0, deadline - time.monotonic()))
    starts = [tail.seen[(task_id, "TaskStarted")] for task_id in task_ids if (task_id, "TaskStarted") in tail.seen]
    ends = [tail.seen[(task_id, "TaskCompleted")] for task_id in task_ids if (task_id, "TaskCompleted") in tail.seen]
    return len(ends) / max((max(ends) - min(starts)) / 1000, 1e-9), len(task_ids) - len(ends)


def stack_ctl(*arguments: str) -> str:
    return subprocess.run([str(REPO_ROOT / "bin" / "stack"), "ctl", *arguments], cwd=REPO_ROOT, text=True,
                          capture_output=True, timeout=120).stdout


def stack_worker_names() -> list[str]:
    names = [line.split()[0] for line in stack_ctl("status").splitlines() if "solver_worker" in line]
    if not names:
        raise RuntimeError("no solver_worker in `bin/stack ctl status`; start the stack with `bin/stack up`")
    return names


def start_worker(number: int, workers: int) -> subprocess.Popen:
    environment = {**os.environ, "INSTANCE_ID": f"solver_worker-bench-{number}", "WORKER_NUMBER": str(number),
                   "SOLVER_WORKERS": str(workers)}
    with open(REPO_ROOT / ".stack" / "logs" / f"solver_worker-bench-{number}.log", "ab") as log_file:
        return subprocess.Popen([sys.executable, "-m", "solver_worker"], cwd=REPO_ROOT, env=environment,
                                stdout=log_file, stderr=subprocess.STDOUT)


def measure_bare_solves(count: int) -> float:
    """Return random dense 50 x 50 solves per second of the solve process's batch function, without the stack."""
    from schemas.events import ProblemInput, TaskSubmitted
    from schemas.problem import GeneratorSpec
    from solver_worker.child import run_batch
    from solver_worker.service import Worker
    from solver_worker.solver import CancelToken
    from solver_worker.taskbook import OpenTask

    worker = Worker(SolverWorkerSettings())  # only builds the jobs, exactly as a worker sends them
    jobs = []
    for seed in range(count):
        payload = TaskSubmitted(method="auto", rows=50, cols=50, input=ProblemInput(
            kind="generated", generator=GeneratorSpec(kind="random_dense", n=50, seed=seed)))
        task = OpenTask(uuid.uuid4(), None, payload, 0, seed, datetime.now(UTC))
        jobs.append(worker._job(task, 1))  # noqa: SLF001
    run_batch(jobs[:50], CancelToken())  # warm-up
    began = time.perf_counter()
    outcomes = run_batch(jobs, CancelToken())
    elapsed = time.perf_counter() - began
    if any(outcome[0] != "completed" for outcome in outcomes):
        raise RuntimeError("a reference solve did not complete")
    return count / elapsed


async def measure_throughput(client, headers, tail: EventTail, settings: SolverWorkerSettings, workers: int,
                             solves: int, concurrency: int, seed: int) -> tuple[float, float, int]:
    """Return (submissions per second, solves per second, tasks not completed) with `workers` of this script's workers."""
    task_ids, submitted = await submit_all(client, headers, solves, concurrency, seed)
    processes = [start_worker(number, workers) for number in range(1, workers + 1)]
    try:
        for number in range(1, workers + 1):
            await wait_healthy(f"http://127.0.0.1:{settings.worker_health_port_base + number}/healthz")
        solved, failed = await solve_rate(tail, task_ids)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=40)
    return submitted, solved, failed


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
    parser.add_argument("--progress-n", type=int, default=4000, help="order of those dense tasks")
    parser.add_argument("--solves", type=int, default=2000, help="small solves per throughput run")
    parser.add_argument("--concurrency", type=int, default=64, help="parallel submissions of the throughput run")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="numbers of workers, one throughput run for each")
    parser.add_argument("--skip-throughput", action="store_true", help="measure only the two latencies")
    arguments = parser.parse_args()

    settings = SolverWorkerSettings()
    tail = EventTail(settings)
    await tail.start()
    verify = ssl.create_default_context(cafile=arguments.cacert)
    limits = httpx.Limits(max_connections=arguments.concurrency + 8)
    async with httpx.AsyncClient(base_url=arguments.url, verify=verify, timeout=60, limits=limits) as client:
        headers = await register(client)
        broker = await measure_broker_delivery(settings, arguments.dispatch)
        print(summary("broker delivery (send -> tailing consumer, scratch topic)", broker), flush=True)
        dispatch = await measure_dispatch(client, headers, tail, arguments.dispatch)
        print(summary("dispatch latency (submit send -> TaskStarted)", dispatch), flush=True)
        if broker and dispatch:
            print(f"dispatch / broker delivery: p50 {percentile(dispatch, 0.5) / percentile(broker, 0.5):.2f}, "
                  f"p99 {percentile(dispatch, 0.99) / percentile(broker, 0.99):.2f}", flush=True)
        progress = await measure_progress(client, headers, arguments.progress_tasks, arguments.progress_n)
        print(summary("progress latency (TaskProgressed -> SSE client via nginx)", progress), flush=True)

        if arguments.skip_throughput:
            await tail.stop()
            return
        bare = measure_bare_solves(2000)
        print(f"reference: {bare:.0f} solves/s by the solve process's batch function alone (one process, "
              "no stack)", flush=True)
        names = stack_worker_names()
        stack_ctl("stop", *names)
        try:
            for run, workers in enumerate(arguments.workers):
                submitted, solved, failed = await measure_throughput(
                    client, headers, tail, settings, workers, arguments.solves, arguments.concurrency,
                    seed=10_000 * (run + 1))
                print(f"throughput with {workers} worker(s): {solved:.0f} solves/s = {solved / bare:.2f} x the "
                      f"reference ({arguments.solves} random dense 50 x 50, {failed} not completed); submissions "
                      f"{submitted:.0f}/s at concurrency {arguments.concurrency}", flush=True)
        finally:
            stack_ctl("start", *names)
    await tail.stop()


if __name__ == "__main__":
    asyncio.run(main())
