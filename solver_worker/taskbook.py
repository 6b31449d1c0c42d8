"""The worker's view of every open task, rebuilt from `task-events` (and heartbeats from `task-progress`).

Every worker applies the same log in the same per-partition order, so every
worker reaches the same decisions about who owns which attempt of a task:

- the first `TaskStarted` of an attempt in the log wins the claim; later
  claims of the same attempt lost the race and are ignored;
- `TaskRequeued` raises the attempt and puts the task back in the queue;
  events of an older attempt are superseded and ignored (fencing by attempt);
- the first terminal event (`TaskCompleted`, `TaskFailed`, `TaskCancelled`)
  of the current attempt closes the task; anything after it is ignored.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from schemas.events import (
    Envelope, Payload, TaskCancellationRequested, TaskCancelled, TaskCompleted, TaskFailed, TaskRequeued,
    TaskStarted, TaskSubmitted, WorkerHeartbeat,
)

log = logging.getLogger(__name__)

TERMINAL = (TaskCompleted, TaskFailed, TaskCancelled)
TERMINAL_TYPES = frozenset(event.event_type for event in TERMINAL)
# Event types whose payload the book never reads, so a reader may pass None for it and skip validating it.
PAYLOAD_NOT_READ = TERMINAL_TYPES | {TaskCancellationRequested.event_type}


@dataclass
class OpenTask:
    """A task that has not finished: queued, or running under a claimed attempt."""

    task_id: uuid.UUID
    user_id: uuid.UUID | None
    submitted: TaskSubmitted
    partition: int
    first_offset: int
    queued_at: datetime
    attempt: int = 1
    status: str = "queued"  # queued or running
    claim_event_id: uuid.UUID | None = None
    worker: str | None = None
    lease_expires_at: datetime | None = None
    cancel_requested: bool = False
    cancel_seen_at: datetime | None = None


@dataclass
class TaskBook:
    """Open tasks by id, the ids of finished ones, and how far each partition has been applied."""

    lease_floor: datetime = field(default_factory=lambda: datetime.now(UTC))
    open: dict[uuid.UUID, OpenTask] = field(default_factory=dict)
    finished: set[uuid.UUID] = field(default_factory=set)
    positions: dict[int, int] = field(default_factory=dict)

    def apply(self, envelope: Envelope, payload: Payload | None, partition: int, offset: int) -> OpenTask | None:
        """Apply one task-events record; return the task it changed, or None when it changed nothing.

        `payload` may be None for the event types in `PAYLOAD_NOT_READ`.
        """
        self.positions[partition] = offset + 1
        task_id = envelope.task_id
        if task_id in self.finished:
            return None
        if isinstance(payload, TaskSubmitted):
            if task_id in self.open:
                return None  # a resend of the same submit after an ambiguous broker acknowledgement
            task = OpenTask(task_id, envelope.user_id, payload, partition, offset, envelope.occurred_at)
            self.open[task_id] = task
            return task
        task = self.open.get(task_id)
        if task is None:
            if envelope.event_type in TERMINAL_TYPES:
                self.finished.add(task_id)  # its submit lies before the committed position
            return None
        if isinstance(payload, TaskRequeued):
            return self._requeue(task, envelope, payload)
        return self._apply_to(task, envelope, payload)

    def _apply_to(self, task: OpenTask, envelope: Envelope, payload: Payload | None) -> OpenTask | None:
        if envelope.event_type == TaskCancellationRequested.event_type:
            if not task.cancel_requested:
                task.cancel_requested = True
                task.cancel_seen_at = datetime.now(UTC)
                return task
            return None
        if envelope.attempt != task.attempt:
            log.debug("ignoring %s of superseded attempt %d (current %d)", envelope.event_type, envelope.attempt,
                      task.attempt, extra={"task_id": str(task.task_id), "event_id": str(envelope.event_id)})
            return None
        if isinstance(payload, TaskStarted):
            if task.status != "queued":
                return None  # a claim that lost the race
            task.status, task.claim_event_id, task.worker = "running", envelope.event_id, payload.worker
            task.lease_expires_at = max(payload.lease_expires_at, self.lease_floor)
            return task
        if envelope.event_type in TERMINAL_TYPES:
            del self.open[task.task_id]
            self.finished.add(task.task_id)
            return task
        return None

    @staticmethod
    def _requeue(task: OpenTask, envelope: Envelope, payload: TaskRequeued) -> OpenTask | None:
        """Apply a TaskRequeued: its envelope carries the new attempt, `previous_attempt` the superseded one."""
        if payload.previous_attempt != task.attempt or envelope.attempt != task.attempt + 1:
            return None  # a duplicate requeue of an attempt that was already superseded
        task.attempt = envelope.attempt
        task.status, task.claim_event_id, task.worker, task.lease_expires_at = "queued", None, None, None
        task.queued_at = envelope.occurred_at
        return task

    def apply_heartbeat(self, envelope: Envelope, payload: WorkerHeartbeat) -> None:
        task = self.open.get(envelope.task_id)
        if task is None or task.status != "running" or envelope.attempt != task.attempt or task.worker != payload.worker:
            return
        if task.lease_expires_at is None or payload.lease_expires_at > task.lease_expires_at:
            task.lease_expires_at = payload.lease_expires_at

    def queued(self) -> list[OpenTask]:
        """Queued tasks without a cancel request, oldest first."""
        waiting = [task for task in self.open.values() if task.status == "queued" and not task.cancel_requested]
        return sorted(waiting, key=lambda task: (task.queued_at, str(task.task_id)))

    def cancelled_while_queued(self, now: datetime, delay: timedelta) -> list[OpenTask]:
        """Queued tasks whose cancel request is at least `delay` old."""
        return [task for task in self.open.values() if task.status == "queued" and task.cancel_requested
                and task.cancel_seen_at is not None and now - task.cancel_seen_at >= delay]

    def expired(self, now: datetime, grace: timedelta) -> list[OpenTask]:
        """Running tasks whose lease ended more than `grace` ago."""
        return [task for task in self.open.values() if task.status == "running"
                and task.lease_expires_at is not None and task.lease_expires_at + grace < now]

    def commit_offsets(self) -> dict[int, int]:
        """Return, per applied partition, the offset to commit: the first event of its oldest open task.

        Replaying from there rebuilds every open task; everything before it belongs to finished tasks.
        """
        offsets = dict(self.positions)
        for task in self.open.values():
            if task.partition in offsets:
                offsets[task.partition] = min(offsets[task.partition], task.first_offset)
        return offsets
