"""Estimate when a queued task starts, from the ETAs of the running tasks."""

from __future__ import annotations

import heapq


def predict_start(ahead: int, running_etas: list[float | None], workers: int,
                  mean_duration_s: float | None) -> float | None:
    """Return the estimated seconds until a task with `ahead` queued tasks before it starts.

    Each worker becomes free when its running task's ETA ends; idle workers are
    free now. Each queued task ahead then occupies the first free worker for
    `mean_duration_s`. Returns None when a needed figure is unknown: a running
    task without an ETA, or tasks ahead and no mean duration yet.
    """
    if any(eta is None for eta in running_etas):
        return None
    free_at = sorted(max(0.0, float(eta)) for eta in running_etas)
    free_at += [0.0] * max(0, workers - len(free_at))
    heapq.heapify(free_at)
    if ahead and mean_duration_s is None:
        return None
    for _ in range(ahead):
        heapq.heappush(free_at, heapq.heappop(free_at) + float(mean_duration_s))
    return free_at[0]
