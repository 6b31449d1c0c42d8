"""Solver worker: claims queued tasks from `task-events`, solves one at a time, reports the outcome.

How work is shared, so that an idle worker never waits behind a busy one.
Kafka assigns each partition to one member of a consumer group. A member
busy with an hour-long solve would then keep the tasks queued in its
partitions to itself. Workers therefore do not split the partitions. Every worker
assigns itself *all* partitions of `task-events` and rebuilds the same view
of every open task (`TaskBook`). An idle worker picks the oldest queued task
and claims it by producing `TaskStarted` for the task's current attempt.
Because all events of a task share one partition, the log orders competing
claims: the first `TaskStarted` of an attempt wins, and every worker (the
losers included) sees the same winner once it has read up to its own claim.
A loser moves on to the next queued task after one round trip (milliseconds).

The group `solver-workers` is kept for what it is good at here: committed
positions. Each worker commits, per partition, the offset of the first event
of the oldest task still open (`TaskBook.commit_offsets`), only after its
outcome event was acknowledged. A worker that starts reads from there and so
rebuilds every open task without replaying finished history.

Leases: the winner heartbeats `WorkerHeartbeat` on `task-progress` every
`heartbeat_interval_s`, extending its lease to now + `lease_s`. Every worker
watches the leases; when one has expired, a worker writes `TaskRequeued`
with the attempt raised (or `TaskFailed` `worker_lost` after `max_attempts`).
Duplicate requeues are harmless: only the first one for an attempt counts.
A worker whose running attempt was requeued stops its solve and reports
nothing, so a superseded attempt never produces a result.

Small tasks (a dense A of at most `batch_max_entries` entries, a direct
method, a first attempt) are claimed in batches of up to `batch_max_tasks`
with one round trip and solved one after another in one message to the child
(`solver_worker.batching`). While a batch is being solved, the worker claims
the next one. The outcomes of a batch are queued for delivery as soon as it
ends, and a background task waits for their acknowledgements. A claimed
task whose cancel request was read before its batch starts gets TaskCancelled
instead. A running batch is neither cancelled nor heartbeated, and its tasks
send no TaskProgressed, because it ends within a small part of a second and
TaskCompleted carries the figures. A retried task runs alone, so a task that
kills the solve process cannot take a batch down with it again.

The solve runs in a spawned child (`SolveProcess`), so the event loop keeps
reading, heartbeating and reacting to cancels while BLAS works. A cancel sets
the child's cancel event and kills it after `cancel_grace_s` if it has not
stopped. SIGTERM finishes a solve whose ETA is below `shutdown_finish_s` and
hands a longer one back with `TaskRequeued`.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import RecordMetadata
from prometheus_client import Counter, Gauge
from pydantic import ValidationError

from common.kafka import create_consumer, create_producer, start_with_retry
from common.service import run_service
from schemas.events import (
    EVENT_TYPE_HEADER, Envelope, Payload, Producer, SolutionSummary, TaskCancelled, TaskCompleted, TaskFailed,
    TaskProgressed, TaskRequeued, TaskStarted, UnknownEventError, WorkerHeartbeat, decode, decode_typed, encode,
    make_event, topic_for,
)
from solver_worker.batching import pick_claims, preferred_partition
from solver_worker.runner import SolveProcess
from solver_worker.settings import SolverWorkerSettings
from solver_worker.solver.solve import ITERATIVE_METHODS
from solver_worker.taskbook import PAYLOAD_NOT_READ, OpenTask, TaskBook

log = logging.getLogger(__name__)

OUTCOMES = Counter("solver_worker_outcomes_total", "Tasks this worker finished, by outcome.", ["outcome"])
CLAIMS = Counter("solver_worker_claims_total", "Claims this worker made, by result.", ["result"])
OPEN_TASKS = Gauge("solver_worker_open_tasks", "Queued or running tasks in this worker's view.")
CONSUMER_LAG = Gauge("solver_worker_consumer_lag", "Records of task-events this worker has not read yet.")
DEAD_LETTERS = Counter("solver_worker_dead_letters_total", "Undecodable records sent to the dead-letter topic.")
BATCH_SIZE = Gauge("solver_worker_last_batch_tasks", "Small tasks in the batch this worker claimed last.")


@dataclass
class Running:
    """The task this worker is solving now."""

    task: OpenTask
    attempt: int
    process: SolveProcess
    started: float = field(default_factory=time.monotonic)
    eta_s: float | None = None
    handing_back: bool = False
    superseded: bool = False
    ended: bool = False  # the solve process has reported or died; its outcome is being written
    killed: bool = False


class Worker:
    """One worker process: the view of open tasks, the claim loop and the solve of the current task."""

    def __init__(self, settings: SolverWorkerSettings) -> None:
        self.settings = settings
        self.producer_id = Producer(service="solver_worker", instance=settings.instance_id)
        # Leases read at start are extended by one lease time, so a live owner gets to heartbeat first.
        self.book = TaskBook(lease_floor=datetime.now(UTC) + timedelta(seconds=settings.lease_s))
        self._changed: asyncio.Future | None = None  # done when the reader has applied new records
        self.ready = False
        self.running: Running | None = None
        self.batch: list[tuple[OpenTask, int]] = []  # (task, claimed attempt) of the batch being solved
        self.deliveries: set[asyncio.Task] = set()
        self.warm: SolveProcess | None = None
        self.pending: set[tuple[uuid.UUID, int, str]] = set()
        self.consumer: AIOKafkaConsumer | None = None
        self.producer: AIOKafkaProducer | None = None
        self.event_partitions: list[TopicPartition] = []
        self.last_commit: dict[int, int] = {}
        self.preferred_partition = 0
        # Workers stagger their housekeeping so that one of them usually acts before the others notice.
        self.stagger = timedelta(seconds=(settings.worker_number % 8) * 0.25)

    # ------------------------------------------------------------------ lifecycle

    async def main(self, stop: asyncio.Event) -> None:
        settings = self.settings
        self.consumer = create_consumer(settings, group_id=settings.consumer_group)
        self.producer = create_producer(settings)
        await start_with_retry(self.consumer, "solver_worker consumer")
        await start_with_retry(self.producer, "solver_worker producer")
        try:
            await self._assign_all_partitions()
            self.warm = self._new_process()
            if not await self.warm.wait_ready():
                log.warning("the solve process did not start within 60 s; the first task will wait for it")
            reader = asyncio.create_task(self._read_forever(), name="worker-reader")
            housekeeping = asyncio.create_task(self._housekeep_forever(), name="worker-housekeeping")
            try:
                await self._catch_up()
                await self._dispatch_until(stop)
            finally:
                await asyncio.gather(*self.deliveries, return_exceptions=True)
                for task in (reader, housekeeping):
                    task.cancel()
                await asyncio.gather(reader, housekeeping, return_exceptions=True)
                await self._commit()
        finally:
            if self.warm is not None:
                await self.warm.close()
            await self.consumer.stop()
            await self.producer.stop()

    async def _assign_all_partitions(self) -> None:
        settings = self.settings
        # The producer's metadata lookup waits for the topic; the consumer's only reads its cache.
        events = await self.producer.partitions_for(settings.topic_task_events) or set()
        progress = await self.producer.partitions_for(settings.topic_task_progress) or set()
        if not events:
            raise RuntimeError(f"topic {settings.topic_task_events} has no partitions; run `python -m infra.topics`")
        # NOTE: partitions added to the topic later are picked up only after a restart.
        self.event_partitions = [TopicPartition(settings.topic_task_events, p) for p in sorted(events)]
        self.preferred_partition = preferred_partition(settings.worker_number, settings.solver_workers, len(events))
        progress_partitions = [TopicPartition(settings.topic_task_progress, p) for p in sorted(progress)]
        self.consumer.assign(self.event_partitions + progress_partitions)
        await self.consumer.seek_to_end(*progress_partitions)
        log.info("assigned all %d task-events partitions, reading from committed positions",
                 len(self.event_partitions))

    async def _catch_up(self) -> None:
        """Wait until the view has read every event that was in the log when the worker started."""
        ends = await self.consumer.end_offsets(self.event_partitions)
        started = time.monotonic()
        behind = {tp: end for tp, end in ends.items() if await self.consumer.position(tp) < end}
        while not await self._wait_until(
                lambda: all(self.book.positions.get(tp.partition, -1) >= end for tp, end in behind.items()), 0.5):
            pass
        self.ready = True
        log.info("view caught up in %.2f s: %d open tasks", time.monotonic() - started, len(self.book.open))

    # ------------------------------------------------------------------ reading the log

    async def _read_forever(self) -> None:
        while True:
            try:
                batches = await self.consumer.getmany(timeout_ms=200, max_records=500)
            except KafkaError as error:
                log.warning("reading from Kafka failed, retrying in 1 s: %r", error)
                await asyncio.sleep(1)
                continue
            for tp, records in batches.items():
                for record in records:
                    await self._apply(tp, record)
            if batches:
                OPEN_TASKS.set(len(self.book.open))
                self._notify_changed()
            await self._update_lag()

    async def _update_lag(self) -> None:
        """Set the lag gauge from the highwater marks of the last fetch and the read positions."""
        lag = 0
        for tp in self.event_partitions:
            highwater = self.consumer.highwater(tp)
            if highwater is None:
                continue
            lag += max(0, highwater - await self.consumer.position(tp))
        CONSUMER_LAG.set(lag)

    async def _apply(self, tp: TopicPartition, record) -> None:
        is_events = tp.topic == self.settings.topic_task_events
        if not is_events and _header(record, EVENT_TYPE_HEADER) != WorkerHeartbeat.event_type:
            return  # only heartbeats matter on task-progress; the header spares decoding the rest
        try:
            if is_events and _header(record, EVENT_TYPE_HEADER) in PAYLOAD_NOT_READ:
                # NOTE: the payload is not validated, so a terminal event with an invalid payload closes the task
                # here, while the projector skips that record as invalid.
                envelope, payload = decode(record.value), None
            else:
                envelope, payload = decode_typed(record.value)
        except (ValidationError, UnknownEventError, ValueError) as error:
            if is_events:
                await self._dead_letter(tp, record, error)
                self.book.positions[tp.partition] = record.offset + 1
            else:
                log.debug("skipping undecodable progress record: %s", error,
                          extra={"partition": tp.partition, "offset": record.offset})
            return
        if not is_events:
            if isinstance(payload, WorkerHeartbeat):
                self.book.apply_heartbeat(envelope, payload)
            return
        task = self.book.apply(envelope, payload, tp.partition, record.offset)
        if task is not None:
            log.debug("applied %s", envelope.event_type, extra={
                "task_id": str(envelope.task_id), "event_id": str(envelope.event_id), "attempt": envelope.attempt,
                "partition": tp.partition, "offset": record.offset})

    async def _dead_letter(self, tp: TopicPartition, record, error: Exception) -> None:
        """Copy an undecodable record to the dead-letter topic; the worker goes on either way."""
        # NOTE: every worker reads every partition, so each one dead-letters the same record; the
        # dlq_topic, dlq_partition and dlq_offset headers identify duplicates.
        headers = [("dlq_topic", tp.topic.encode()), ("dlq_partition", str(tp.partition).encode()),
                   ("dlq_offset", str(record.offset).encode()), ("dlq_error", str(error)[:1000].encode()),
                   ("dlq_worker", self.settings.instance_id.encode())]
        context = {"topic": tp.topic, "partition": tp.partition, "offset": record.offset}
        log.error("undecodable record sent to %s: %s", self.settings.topic_dead_letter, str(error)[:300],
                  extra=context)
        DEAD_LETTERS.inc()
        for attempt in range(1, 4):
            try:
                await self.producer.send_and_wait(self.settings.topic_dead_letter, record.value or b"",
                                                  key=record.key, headers=headers)
                return
            except KafkaError as send_error:
                log.warning("dead-letter send failed (attempt %d of 3): %r", attempt, send_error, extra=context)
                await asyncio.sleep(attempt)
        log.error("dead-letter record dropped after 3 failed sends", extra=context)

    def _notify_changed(self) -> None:
        if self._changed is not None and not self._changed.done():
            self._changed.set_result(None)
        self._changed = None

    def _changed_future(self) -> asyncio.Future:
        """Return a future that is done once the reader applies records after this call."""
        if self._changed is None:
            self._changed = asyncio.get_running_loop().create_future()
        return self._changed

    async def _wait_changed(self, changed: asyncio.Future, timeout_s: float) -> None:
        try:
            await asyncio.wait_for(asyncio.shield(changed), timeout_s)
        except TimeoutError:
            pass

    async def _wait_until(self, condition, timeout_s: float) -> bool:
        """Wait until `condition()` is true after applied records; return False after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            changed = self._changed_future()  # taken before the check, so no update is missed
            if condition():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            await self._wait_changed(changed, remaining)

    # ------------------------------------------------------------------ claiming and running

    async def _dispatch_until(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            changed = self._changed_future()
            claimed = await self._claim_next()
            if len(claimed) == 1 and not self._is_small(claimed[0][0]):
                task, attempt = claimed[0]
                runner = asyncio.create_task(self._run(task, attempt), name=f"solve-{task.task_id}")
                await self._wait_running(runner, stop)
            elif claimed:
                await self._run_batches(claimed, stop)
            else:
                await self._wait_changed(changed, 0.5)
        log.info("stopping: no new claims")

    async def _wait_running(self, runner: asyncio.Task, stop: asyncio.Event) -> None:
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if not runner.done():
            self._hand_back_or_finish()
            await runner
        stopper.cancel()
        runner.result()

    def _hand_back_or_finish(self) -> None:
        running = self.running
        if running is None:
            return
        eta = running.eta_s
        if eta is not None and eta <= self.settings.shutdown_finish_s:
            log.info("stopping after the current solve (ETA %.1f s)", eta, extra=_ids(running.task, running.attempt))
            return
        log.info("handing the current task back (ETA %s s)", "unknown" if eta is None else f"{eta:.0f}",
                 extra=_ids(running.task, running.attempt))
        running.handing_back = True
        running.process.kill()

    def _is_small(self, task: OpenTask) -> bool:
        """Return True for a task that may share a batch: a dense A of at most `batch_max_entries` entries.

        Iterative methods are excluded because `max_iter` has no upper bound, so their run time does not follow
        from the size of A.
        """
        submitted = task.submitted
        # A retried task runs alone: if it killed the solve process, it must not take a batch down with it.
        return (task.attempt == 1 and not submitted.is_sparse and submitted.method not in ITERATIVE_METHODS
                and submitted.rows * submitted.cols <= self.settings.batch_max_entries)

    async def _claim_next(self, *, small_only: bool = False) -> list[tuple[OpenTask, int]]:
        """Claim the oldest queued task, or a batch of small ones; return the (task, attempt) pairs this worker won.

        With `small_only`, claim nothing unless the next pick is a batch of small tasks.
        """
        for _ in range(3):  # claims lost to another worker are running in the view now, so the next pick differs
            picked = pick_claims(self.book.queued(), self._is_small, max_tasks=self.settings.batch_max_tasks,
                                 partitions=len(self.event_partitions), preferred=self.preferred_partition)
            if not picked or (small_only and not self._is_small(picked[0])):
                return []
            won = await self._claim(picked)
            if won:
                return won
        return []

    async def _claim(self, tasks: list[OpenTask]) -> list[tuple[OpenTask, int]]:
        """Send a claim for every task at once, read the log up to the claims and return the (task, attempt) pairs won."""
        lease = datetime.now(UTC) + timedelta(seconds=self.settings.lease_s)
        claims = [(task, task.attempt, self._event(TaskStarted(worker=self.settings.instance_id,
                                                                lease_expires_at=lease), task, task.attempt))
                  for task in tasks]
        results = await self._send_all([claim for _, _, claim in claims])
        ends: dict[int, int] = {}
        for (task, attempt, _), result in zip(claims, results):
            if isinstance(result, BaseException):
                log.warning("claim not sent: %r", result, extra=_ids(task, attempt))
            else:
                ends[result.partition] = max(ends.get(result.partition, 0), result.offset + 1)
        if not ends:
            return []
        if not await self._wait_until(
                lambda: all(self.book.positions.get(partition, -1) >= end for partition, end in ends.items()), 10.0):
            log.warning("%d claims were not read back from the log within 10 s; treating them as lost", len(claims))

        won = []
        for task, attempt, claim in claims:
            current = self.book.open.get(task.task_id)
            if current is not None and current.claim_event_id == claim.event_id and current.attempt == attempt:
                won.append((current, attempt))
                log.debug("claimed task", extra=_ids(task, attempt))
            else:
                log.debug("lost the claim race", extra=_ids(task, attempt))
        CLAIMS.labels("won").inc(len(won))
        CLAIMS.labels("lost").inc(len(claims) - len(won))
        if len(claims) == 1:
            task, attempt, _ = claims[0]
            log.info("claimed task" if won else "lost the claim race, trying the next task", extra=_ids(task, attempt))
        else:
            BATCH_SIZE.set(len(won))
            lost = len(claims) - len(won)
            log.info("claimed %d small tasks%s", len(won), f"; {lost} were claimed first by other workers" if lost
                     else "", extra=_ids(*won[0]) if won else {})
        return won

    async def _run_batches(self, claimed: list[tuple[OpenTask, int]], stop: asyncio.Event) -> None:
        """Solve batches of small tasks in the warm process, claiming the next batch while one is being solved."""
        process = await self._take_process()
        message: tuple = ("batch", [])
        try:
            while claimed:
                claimed = self._drop_cancelled(claimed)
                if not claimed:
                    claimed = [] if stop.is_set() else await self._claim_next(small_only=True)
                    continue
                self.batch = claimed
                started = time.monotonic()
                await process.wait_ready()  # a fresh process reads the batch only after its imports
                try:
                    process.start_batch([self._job(task, attempt) for task, attempt in claimed])
                except OSError as error:  # the process died; _outcome_of reports it and the batch is requeued
                    log.error("could not send a batch to the solve process: %r", error, extra=_ids(*claimed[0]))
                solving = asyncio.create_task(self._outcome_of(process), name="solve-batch")
                claiming = None if stop.is_set() else asyncio.create_task(
                    self._claim_next(small_only=True), name="claim-next-batch")
                try:
                    message = await solving
                    # Queued before the next claim is awaited, so the outcomes do not wait for its round trip.
                    self._deliver_batch(claimed, message, started)
                finally:
                    following = await claiming if claiming is not None else []
                if not process.reusable:
                    await process.close(busy=message[0] != "batch")
                    process = self._new_process()
                claimed = following
        finally:
            self.batch = []
            await self._return_process(process, busy=message[0] != "batch")

    def _drop_cancelled(self, claimed: list[tuple[OpenTask, int]]) -> list[tuple[OpenTask, int]]:
        """Return the claimed tasks without a cancel request; queue a TaskCancelled for each of the others."""
        keep, cancelled = [], []
        for task, attempt in claimed:
            current = self.book.open.get(task.task_id)
            if current is not None and current.attempt == attempt and current.cancel_requested:
                cancelled.append(self._event(TaskCancelled(reason="requested by the owner", while_running=False),
                                             task, attempt))
            else:
                keep.append((task, attempt))
        if cancelled:
            log.info("cancelled %d claimed tasks before their batch started", len(cancelled),
                     extra={"task_id": str(cancelled[0].task_id), "attempt": cancelled[0].attempt})
            self._schedule_delivery(cancelled, "claimed tasks cancelled before their batch", time.monotonic())
        return keep

    async def _run(self, task: OpenTask, attempt: int) -> None:
        process = await self._take_process()
        await process.wait_ready()
        self.running = Running(task, attempt, process)
        heartbeat = asyncio.create_task(self._heartbeat(task, attempt), name="worker-heartbeat")
        try:
            try:
                process.start(self._job(task, attempt))
            except OSError as error:  # the process died; _follow reports it and the task fails as worker_error
                log.error("could not send the task to the solve process: %r", error, extra=_ids(task, attempt))
            outcome = await self._follow(self.running)
            self.running.ended = True
            await self._report(self.running, outcome)
        finally:
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)
            self.running = None
            await self._return_process(process, busy=True)
        await self._commit()

    def _new_process(self) -> SolveProcess:
        settings = self.settings
        return SolveProcess(settings.effective_blas_threads, settings.jobs_per_solve_process, settings.solve_nice)

    async def _take_process(self) -> SolveProcess:
        """Return the warm solve process, or a new one when it cannot take another job."""
        process, self.warm = self.warm, None
        if process is not None and process.reusable:
            return process
        if process is not None:
            await process.close()
        return self._new_process()

    async def _return_process(self, process: SolveProcess, *, busy: bool) -> None:
        """Keep `process` warm for the next job, or replace it; `busy` kills it instead of asking it to exit."""
        if process.reusable:
            self.warm = process
            return
        await process.close(busy=busy)
        self.warm = self._new_process()

    @staticmethod
    async def _outcome_of(process: SolveProcess) -> tuple:
        """Return the first message of `process` that is not progress: an outcome, a batch or ("died", code)."""
        async for message in process.messages():
            if message[0] != "progress":
                return message
        return ("died", None)

    def _job(self, task: OpenTask, attempt: int) -> dict:
        settings = self.settings
        return {
            "task_id": str(task.task_id), "attempt": attempt, "payload": task.submitted.model_dump(mode="json"),
            "blob_dir": settings.blob_dir, "inline_solution_max_values": settings.inline_solution_max_values,
            "limits": {"max_rows": settings.max_rows, "max_cols": settings.max_rows, "max_nnz": settings.max_nnz,
                       "max_dense_bytes": settings.max_dense_bytes},
            "instance_id": f"{settings.instance_id}-solve", "log_level": settings.log_level,
        }

    async def _follow(self, running: Running) -> tuple:
        """Forward progress until the solve process reports its outcome or dies."""
        last_sent = 0.0
        async for message in running.process.messages():
            if message[0] != "progress":
                return message
            report = message[1]
            running.eta_s = report["eta_s"]
            now = time.monotonic()
            if now - last_sent >= self.settings.progress_interval_s or report["fraction"] >= 1.0:
                last_sent = now
                await self._send_quietly(self._event(TaskProgressed(**report), running.task, running.attempt))
        return ("died", None)

    async def _report(self, running: Running, outcome: tuple) -> None:
        """Write the outcome event of the attempt, unless the attempt was superseded meanwhile."""
        task, attempt = running.task, running.attempt
        ids = _ids(task, attempt)
        if running.superseded:
            log.warning("attempt was superseded; its outcome %s is dropped", outcome[0], extra=ids)
            OUTCOMES.labels("superseded").inc()
            return
        payload = self._outcome_payload(running, outcome)
        new_attempt = attempt + 1 if isinstance(payload, TaskRequeued) else attempt
        await self._send_until_acknowledged(self._event(payload, task, new_attempt))
        OUTCOMES.labels(payload.event_type).inc()
        log.info("task attempt ended: %s in %.2f s", payload.event_type, time.monotonic() - running.started,
                 extra=ids)

    def _outcome_payload(self, running: Running, outcome: tuple) -> Payload:
        kind = outcome[0]
        elapsed = time.monotonic() - running.started
        if kind in ("completed", "failed"):
            return self._result_payload(outcome)
        if kind == "cancelled" or running.process.cancel_requested_at is not None:
            return TaskCancelled(reason="requested by the owner", while_running=True, elapsed_s=elapsed)
        if running.handing_back:
            return TaskRequeued(previous_attempt=running.attempt,
                                reason=f"worker {self.settings.instance_id} stopped and handed the task back")
        exitcode = outcome[1]
        return TaskFailed(code="worker_error", details={"exitcode": exitcode}, message=(
            f"the solve process ended without a result (exit code {exitcode}); a negative code is the signal "
            "that killed it, often the kernel's out-of-memory killer; submit a smaller or sparse problem"))

    def _deliver_batch(self, claimed: list[tuple[OpenTask, int]], message: tuple, started: float) -> None:
        """Queue the outcome event of every task of a batch for delivery."""
        if message[0] == "batch":
            results = message[1]
        else:
            log.error("the solve process died during a batch of %d tasks (exit code %s); they are requeued",
                      len(claimed), message[1], extra=_ids(*claimed[0]))
            results = [message] * len(claimed)
        envelopes = []
        for (task, attempt), outcome in zip(claimed, results):
            current = self.book.open.get(task.task_id)
            if current is None or current.attempt != attempt:
                log.warning("attempt was superseded; its outcome %s is dropped", outcome[0], extra=_ids(task, attempt))
                OUTCOMES.labels("superseded").inc()
                continue
            payload = self._batch_outcome_payload(outcome, attempt)
            envelopes.append(self._event(payload, task, attempt + 1 if isinstance(payload, TaskRequeued) else attempt))
        self._schedule_delivery(envelopes, f"batch of {len(claimed)} small tasks", started)

    def _schedule_delivery(self, envelopes: list[Envelope], description: str, started: float) -> None:
        delivery = asyncio.create_task(self._deliver(envelopes, description, started), name="deliver-outcomes")
        self.deliveries.add(delivery)
        delivery.add_done_callback(self.deliveries.discard)

    def _batch_outcome_payload(self, outcome: tuple, attempt: int) -> Payload:
        if outcome[0] != "died":
            return self._result_payload(outcome)
        # Which job of the batch killed the process is unknown, so every task gets another attempt.
        if attempt >= self.settings.max_attempts:
            return TaskFailed(code="worker_error", details={"exitcode": outcome[1]}, message=(
                f"the solve process ended without a result {attempt} times (last exit code {outcome[1]}); "
                "submit the task again, and report it if it repeats"))
        return TaskRequeued(previous_attempt=attempt,
                            reason=f"the solve process of worker {self.settings.instance_id} died during a batch")

    async def _deliver(self, envelopes: list[Envelope], description: str, started: float) -> None:
        """Wait for the acknowledgements of queued outcome events, resending each one until it is acknowledged."""
        results = await self._send_all(envelopes)
        outcomes: dict[str, int] = {}
        for envelope, result in zip(envelopes, results):
            if isinstance(result, BaseException):
                await self._send_until_acknowledged(envelope)
            OUTCOMES.labels(envelope.event_type).inc()
            outcomes[envelope.event_type] = outcomes.get(envelope.event_type, 0) + 1
            log.debug("task attempt ended: %s", envelope.event_type,
                      extra={"task_id": str(envelope.task_id), "attempt": envelope.attempt})
        log.info("%s ended in %.1f ms: %s", description, (time.monotonic() - started) * 1000,
                 ", ".join(f"{count} {event_type}" for event_type, count in sorted(outcomes.items())) or "no outcome")

    def _result_payload(self, outcome: tuple) -> TaskCompleted | TaskFailed:
        """Return the event payload of a ("completed", summary, solution) or ("failed", code, message, details)."""
        if outcome[0] == "completed":
            _, summary, solution = outcome
            return TaskCompleted(summary=SolutionSummary.model_validate(summary), solution=solution,
                                 worker=self.settings.instance_id)
        _, code, message, details = outcome
        return TaskFailed(code=code, message=message, details=details)

    async def _heartbeat(self, task: OpenTask, attempt: int) -> None:
        while True:
            lease = datetime.now(UTC) + timedelta(seconds=self.settings.lease_s)
            beat = WorkerHeartbeat(worker=self.settings.instance_id, lease_expires_at=lease)
            await self._send_quietly(self._event(beat, task, attempt))
            await asyncio.sleep(self.settings.heartbeat_interval_s)

    # ------------------------------------------------------------------ housekeeping

    async def _housekeep_forever(self) -> None:
        while True:
            await asyncio.sleep(0.1)
            try:
                self._watch_running()
                if self.ready:
                    await self._cancel_queued()
                    await self._requeue_expired()
                await self._commit()
            except KafkaError as error:
                log.warning("housekeeping failed, retrying: %r", error)
                await asyncio.sleep(1)

    def _watch_running(self) -> None:
        """Forward a cancel to the solve, kill it after the grace time, and stop a superseded attempt."""
        running = self.running
        if running is None or running.ended:
            return
        task = self.book.open.get(running.task.task_id)
        if task is None or task.attempt != running.attempt:
            if not running.superseded and running.process.cancel_requested_at is None:
                log.warning("attempt superseded by the log; stopping its solve", extra=_ids(running.task, running.attempt))
                running.superseded = True
                running.process.kill()
            return
        if task.cancel_requested and running.process.cancel_requested_at is None:
            log.info("cancelling the running solve", extra=_ids(task, running.attempt))
            running.process.cancel()
        requested = running.process.cancel_requested_at
        if requested is not None and not running.killed and time.monotonic() - requested > self.settings.cancel_grace_s:
            running.killed = True
            log.info("solve did not stop within %.1f s of the cancel; killing it", self.settings.cancel_grace_s,
                     extra=_ids(task, running.attempt))
            running.process.kill()

    async def _cancel_queued(self) -> None:
        for task in self.book.cancelled_while_queued(datetime.now(UTC), self.stagger):
            if self._once(task, "cancel"):
                await self._send(self._event(TaskCancelled(reason="requested by the owner", while_running=False),
                                             task, task.attempt))
                OUTCOMES.labels("TaskCancelled").inc()
                log.info("cancelled a queued task", extra=_ids(task, task.attempt))

    async def _requeue_expired(self) -> None:
        for task in self.book.expired(datetime.now(UTC), self.stagger):
            if self.running is not None and self.running.task.task_id == task.task_id:
                continue
            if any(claimed.task_id == task.task_id for claimed, _ in self.batch):
                continue
            if not self._once(task, "expire"):
                continue
            ids = _ids(task, task.attempt)
            if task.cancel_requested:
                event = self._event(TaskCancelled(reason="requested by the owner; its worker was lost",
                                                  while_running=False), task, task.attempt)
            elif task.attempt >= self.settings.max_attempts:
                event = self._event(TaskFailed(code="worker_lost", message=(
                    f"the workers running this task stopped responding {task.attempt} times; it may need more "
                    "memory than a worker has, so submit a smaller or sparse problem")), task, task.attempt)
            else:
                event = self._event(TaskRequeued(previous_attempt=task.attempt,
                                                 reason=f"lease of {task.worker} expired"), task, task.attempt + 1)
            await self._send(event)
            log.warning("lease of %s expired: %s", task.worker, event.event_type, extra=ids)

    def _once(self, task: OpenTask, action: str) -> bool:
        """Return True the first time this worker takes `action` on this attempt of `task`."""
        key = (task.task_id, task.attempt, action)
        if key in self.pending:
            return False
        self.pending.add(key)
        return True

    async def _commit(self) -> None:
        offsets = self.book.commit_offsets()
        if not offsets or offsets == self.last_commit:
            return
        await self.consumer.commit({TopicPartition(self.settings.topic_task_events, partition): offset
                                    for partition, offset in offsets.items()})
        self.last_commit = offsets

    # ------------------------------------------------------------------ producing

    def _event(self, payload: Payload, task: OpenTask, attempt: int) -> Envelope:
        return make_event(payload, task_id=task.task_id, user_id=task.user_id, attempt=attempt,
                          producer=self.producer_id)

    async def _send(self, envelope: Envelope) -> tuple[int, int]:
        topic = topic_for(envelope.event_type, self.settings)
        key, value, headers = encode(envelope)
        metadata = await self.producer.send_and_wait(topic, value, key=key, headers=headers)
        return metadata.partition, metadata.offset

    async def _send_all(self, envelopes: list[Envelope]) -> list[RecordMetadata | BaseException]:
        """Send every envelope before waiting for any acknowledgement; return each one's metadata or error."""
        futures: list[asyncio.Future] = []
        for envelope in envelopes:
            key, value, headers = encode(envelope)
            try:
                futures.append(await self.producer.send(topic_for(envelope.event_type, self.settings), value,
                                                        key=key, headers=headers))
            except KafkaError as error:
                failed = asyncio.get_running_loop().create_future()
                failed.set_exception(error)
                futures.append(failed)
        return await asyncio.gather(*futures, return_exceptions=True)

    async def _send_quietly(self, envelope: Envelope) -> None:
        """Send telemetry; a failure is logged and dropped because the next report replaces it."""
        try:
            await self._send(envelope)
        except KafkaError as error:
            log.warning("could not send %s: %r", envelope.event_type, error,
                        extra={"task_id": str(envelope.task_id), "attempt": envelope.attempt})

    async def _send_until_acknowledged(self, envelope: Envelope) -> None:
        """Send an outcome event, retrying while the broker is unreachable; offsets are committed after it."""
        delay = 0.5
        while True:
            try:
                await self._send(envelope)
                return
            except KafkaError as error:
                log.warning("outcome %s not acknowledged, retrying in %.1f s: %r", envelope.event_type, delay, error,
                            extra={"task_id": str(envelope.task_id), "attempt": envelope.attempt})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    async def health(self) -> dict:
        running = self.running
        return {
            "status": "ok" if self.ready else "starting", "service": "solver_worker",
            "current_task": str(running.task.task_id) if running else None,
            "current_attempt": running.attempt if running else None,
            "current_batch_tasks": len(self.batch),
            "open_tasks": len(self.book.open), "blas_threads": self.settings.effective_blas_threads,
        }


def _header(record, name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name:
            return value.decode(errors="replace")
    return None


def _ids(task: OpenTask, attempt: int) -> dict:
    return {"task_id": str(task.task_id), "attempt": attempt}


async def run(settings: SolverWorkerSettings) -> None:
    worker = Worker(settings)
    await run_service("solver_worker", settings.instance_id, settings.worker_health_host, settings.health_port,
                      worker.main, worker.health)

