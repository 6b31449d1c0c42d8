"""pick_claims: a big task alone, small tasks in batches, partition preference inside the window."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from schemas.events import TaskSubmitted
from schemas.problem import GeneratorSpec
from solver_worker.batching import pick_claims, preferred_partition
from solver_worker.taskbook import OpenTask

START = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


def queued_task(number: int, *, n: int = 50, partition: int = 0) -> OpenTask:
    payload = TaskSubmitted(method="auto", rows=n, cols=n,
                            input={"kind": "generated", "generator": GeneratorSpec(kind="random_dense", n=n)})
    return OpenTask(uuid.uuid4(), None, payload, partition, number, START + timedelta(milliseconds=number))


def is_small(task: OpenTask) -> bool:
    return task.submitted.rows * task.submitted.cols <= 200 * 200


def test_empty_queue_claims_nothing():
    assert pick_claims([], is_small, max_tasks=8, partitions=6, preferred=0) == []


def test_big_oldest_task_is_claimed_alone():
    queue = [queued_task(0, n=3000), queued_task(1), queued_task(2)]

    assert pick_claims(queue, is_small, max_tasks=8, partitions=6, preferred=0) == [queue[0]]


def test_batch_stops_at_first_big_task():
    queue = [queued_task(0), queued_task(1), queued_task(2, n=3000), queued_task(3)]

    assert pick_claims(queue, is_small, max_tasks=8, partitions=6, preferred=0) == queue[:2]


def test_batch_of_one_when_batching_is_off():
    queue = [queued_task(number) for number in range(5)]

    assert pick_claims(queue, is_small, max_tasks=1, partitions=6, preferred=0) == [queue[0]]


def test_short_queue_is_claimed_whole():
    queue = [queued_task(number, partition=number % 6) for number in range(5)]

    assert pick_claims(queue, is_small, max_tasks=8, partitions=6, preferred=3) == queue


def test_window_prefers_own_partitions_and_keeps_age_order():
    queue = [queued_task(number, partition=number % 6) for number in range(40)]

    picked = pick_claims(queue, is_small, max_tasks=8, partitions=6, preferred=3)

    # The window contains offsets 0-15: all of partitions 3, 4 and 5 (7 tasks), then the oldest of partition 0.
    assert [task.first_offset for task in picked] == [0, 3, 4, 5, 9, 10, 11, 15]


def test_two_workers_pick_disjoint_batches():
    queue = [queued_task(number, partition=number % 6) for number in range(128)]
    first = preferred_partition(1, 2, 6)
    second = preferred_partition(2, 2, 6)

    picked_first = pick_claims(queue, is_small, max_tasks=32, partitions=6, preferred=first)
    picked_second = pick_claims(queue, is_small, max_tasks=32, partitions=6, preferred=second)

    both = {task.task_id for task in picked_first} & {task.task_id for task in picked_second}
    assert len(picked_first) == len(picked_second) == 32
    assert len(both) <= 1, f"{len(both)} tasks picked by both workers"


@pytest.mark.parametrize(("worker", "workers", "expected"), [(1, 1, 0), (1, 2, 0), (2, 2, 3), (3, 3, 4), (2, 1, 3)])
def test_preferred_partition_spreads_workers(worker, workers, expected):
    assert preferred_partition(worker, workers, 6) == expected
