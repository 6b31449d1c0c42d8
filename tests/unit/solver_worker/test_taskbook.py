"""TaskBook: claims won in log order, fencing by attempt, leases, queued cancels and commit positions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from schemas.events import (
    Producer, TaskCancellationRequested, TaskCancelled, TaskCompleted, TaskRequeued, TaskStarted, TaskSubmitted,
    WorkerHeartbeat, make_event,
)
from schemas.problem import GeneratorSpec
from solver_worker.taskbook import TaskBook

PRODUCER = Producer(service="tests", instance="unit")
NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


class Log:
    """Applies events to a TaskBook with increasing offsets in one partition per task."""

    def __init__(self, book: TaskBook) -> None:
        self.book = book
        self.offsets: dict[int, int] = {}

    def add(self, payload, task_id, attempt=1, partition=0):
        event = make_event(payload, task_id=task_id, user_id=None, attempt=attempt, producer=PRODUCER)
        offset = self.offsets.get(partition, 0)
        self.offsets[partition] = offset + 1
        self.book.apply(event, payload, partition, offset)
        return event


def submitted() -> TaskSubmitted:
    return TaskSubmitted(method="lu", input={"kind": "generated", "generator": GeneratorSpec(kind="hilbert", n=4)},
                         rows=4, cols=4)


def started(worker: str, lease: datetime = NOW + timedelta(seconds=30)) -> TaskStarted:
    return TaskStarted(worker=worker, lease_expires_at=lease)


def test_first_claim_in_log_wins():
    book, task_id = TaskBook(lease_floor=NOW), uuid.uuid4()
    log = Log(book)
    log.add(submitted(), task_id)

    first = log.add(started("w1"), task_id)
    log.add(started("w2"), task_id)

    assert book.open[task_id].claim_event_id == first.event_id
    assert book.open[task_id].worker == "w1"
    assert book.queued() == []


def test_requeue_raises_attempt_and_fences_old_attempt():
    book, task_id = TaskBook(lease_floor=NOW), uuid.uuid4()
    log = Log(book)
    log.add(submitted(), task_id)
    log.add(started("w1"), task_id)

    log.add(TaskRequeued(previous_attempt=1, reason="lease expired"), task_id, attempt=2)
    log.add(TaskRequeued(previous_attempt=1, reason="duplicate"), task_id, attempt=2)
    log.add(TaskCompleted(summary={"method": "lu"}, solution={"format": "dense", "shape": [1], "values": [1.0]}),
            task_id, attempt=1)

    task = book.open[task_id]
    assert task.attempt == 2
    assert task.status == "queued"
    assert task_id not in book.finished
    log.add(started("w2"), task_id, attempt=2)
    log.add(TaskCompleted(summary={"method": "lu"}, solution={"format": "dense", "shape": [1], "values": [1.0]}),
            task_id, attempt=2)
    assert task_id in book.finished
    assert task_id not in book.open


def test_events_after_terminal_are_ignored():
    book, task_id = TaskBook(lease_floor=NOW), uuid.uuid4()
    log = Log(book)
    log.add(submitted(), task_id)
    log.add(TaskCancelled(reason="x", while_running=False), task_id)

    log.add(submitted(), task_id)
    log.add(started("w1"), task_id)

    assert task_id not in book.open
    assert book.queued() == []


def test_heartbeat_extends_only_the_current_owner():
    book, task_id = TaskBook(lease_floor=NOW), uuid.uuid4()
    log = Log(book)
    log.add(submitted(), task_id)
    log.add(started("w1", NOW + timedelta(seconds=5)), task_id)
    later = NOW + timedelta(seconds=60)

    for worker, attempt in (("w2", 1), ("w1", 2)):
        beat = WorkerHeartbeat(worker=worker, lease_expires_at=later)
        book.apply_heartbeat(make_event(beat, task_id=task_id, user_id=None, attempt=attempt, producer=PRODUCER), beat)
    assert book.open[task_id].lease_expires_at == NOW + timedelta(seconds=5)
    assert [t.task_id for t in book.expired(NOW + timedelta(seconds=6), timedelta(0))] == [task_id]

    beat = WorkerHeartbeat(worker="w1", lease_expires_at=later)
    book.apply_heartbeat(make_event(beat, task_id=task_id, user_id=None, attempt=1, producer=PRODUCER), beat)
    assert book.open[task_id].lease_expires_at == later
    assert book.expired(NOW + timedelta(seconds=6), timedelta(0)) == []


def test_lease_floor_protects_claims_read_at_start():
    floor = NOW + timedelta(seconds=30)
    book, task_id = TaskBook(lease_floor=floor), uuid.uuid4()
    log = Log(book)
    log.add(submitted(), task_id)
    log.add(started("w1", NOW - timedelta(hours=1)), task_id)

    assert book.expired(NOW + timedelta(seconds=29), timedelta(0)) == []
    assert len(book.expired(NOW + timedelta(seconds=31), timedelta(0))) == 1


def test_cancel_request_removes_task_from_queue():
    book, task_id = TaskBook(lease_floor=NOW), uuid.uuid4()
    log = Log(book)
    log.add(submitted(), task_id)

    log.add(TaskCancellationRequested(), task_id)

    assert book.queued() == []
    assert book.cancelled_while_queued(datetime.now(UTC) + timedelta(seconds=1), timedelta(0))[0].task_id == task_id


def test_queue_is_oldest_first_across_partitions():
    book = TaskBook(lease_floor=NOW)
    log = Log(book)
    ids = [uuid.uuid4() for _ in range(3)]
    for partition, task_id in zip((2, 0, 1), ids):
        log.add(submitted(), task_id, partition=partition)

    assert [task.task_id for task in book.queued()] == ids


def test_commit_offsets_stop_at_oldest_open_task():
    book = TaskBook(lease_floor=NOW)
    log = Log(book)
    done, open_task, later_done = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    log.add(submitted(), done)                                   # offset 0
    log.add(TaskCancelled(reason="x", while_running=False), done)  # 1
    log.add(submitted(), open_task)                              # 2
    log.add(submitted(), later_done)                             # 3
    log.add(TaskCancelled(reason="x", while_running=False), later_done)  # 4

    assert book.commit_offsets() == {0: 2}
    log.add(TaskCancelled(reason="x", while_running=False), open_task)   # 5
    assert book.commit_offsets() == {0: 6}


def test_terminal_event_of_unknown_task_marks_it_finished():
    book, task_id = TaskBook(lease_floor=NOW), uuid.uuid4()
    log = Log(book)

    log.add(TaskCancelled(reason="x", while_running=False), task_id)
    log.add(submitted(), task_id)

    assert task_id in book.finished
    assert book.open == {}


def test_terminal_without_payload_closes_task():
    book, task_id = TaskBook(lease_floor=NOW), uuid.uuid4()
    log = Log(book)
    log.add(submitted(), task_id)
    log.add(started("w1"), task_id)
    completion = make_event(TaskCompleted(summary={"method": "lu"}, solution={"shape": [4], "values": [0] * 4}),
                            task_id=task_id, user_id=None, attempt=1, producer=PRODUCER)

    book.apply(completion, None, 0, log.offsets[0])

    assert task_id not in book.open
    assert task_id in book.finished
