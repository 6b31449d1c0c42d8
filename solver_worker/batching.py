"""Which queued tasks a worker claims in one round trip: the oldest big task alone, or a batch of small ones.

A claim costs one produce and one read of the log (a few milliseconds on a
local broker), while a 50 x 50 solve takes well under one. Claiming small tasks
one by one would spend most of a worker's time waiting for the broker, so a
worker claims up to `max_tasks` small tasks with one round trip and solves them
in turn. A big task is still claimed alone, so small tasks never wait behind
its solve. A batch keeps its tasks for only a few tens of milliseconds, so a
big task at the head of the queue waits at most for the batch in progress.

When several workers pick from the same queue at the same moment, their claims
for the same tasks race and all but one are wasted. To make them pick different
tasks, each worker looks at the oldest `2 * max_tasks` small tasks and prefers
those in its own partitions: partitions are ranked by their distance from the
worker's `preferred_partition`. Tasks outside the window are never taken ahead
of it, so queue order is kept to within one window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from solver_worker.taskbook import OpenTask


def preferred_partition(worker_number: int, workers: int, partitions: int) -> int:
    """Return the partition where worker `worker_number` (1-based) starts looking, spread evenly over `partitions`."""
    return ((worker_number - 1) * partitions // max(workers, worker_number, 1)) % max(partitions, 1)


def pick_claims(queued: Sequence[OpenTask], is_small: Callable[[OpenTask], bool], *, max_tasks: int,
                partitions: int, preferred: int) -> list[OpenTask]:
    """Return the tasks to claim next, oldest first, from `queued` (oldest first, as `TaskBook.queued` returns them).

    A big oldest task is claimed alone. Otherwise the pick is up to `max_tasks` small tasks from the window of
    the oldest `2 * max_tasks` consecutive small ones, and partitions close after `preferred` come first.
    """
    if not queued:
        return []
    if max_tasks <= 1 or not is_small(queued[0]):
        return [queued[0]]

    window: list[OpenTask] = []
    for task in queued:
        if len(window) == 2 * max_tasks or not is_small(task):
            break
        window.append(task)
    if len(window) <= max_tasks:
        return window

    def rank(position: int) -> tuple[int, int]:
        return (window[position].partition - preferred) % max(partitions, 1), position

    chosen = sorted(range(len(window)), key=rank)[:max_tasks]
    return [window[position] for position in sorted(chosen)]
