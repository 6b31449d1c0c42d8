"""Progress reports, cooperative cancellation and the throttle between them."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import psutil

from .errors import SolveCancelledError

# A report is sent only when both hold since the previous one, so a fast solve
# sends about 100 reports and a slow one about 4 per second.
MIN_FRACTION_STEP = 0.01
MIN_INTERVAL_S = 0.25


@dataclass(frozen=True)
class Progress:
    """One progress report of a running solve.

    ``fraction`` is the share of the method's work done, from 0 to 1, and never
    decreases. Direct methods measure it in flops; iterative methods in the
    logarithm of the residual reduction still needed to reach the tolerance.
    ``residual`` is the relative residual norm ``||b - A x|| / ||b||`` of the
    current iterate (iterative methods only).
    """

    fraction: float
    flops_done: float
    flops_total: float
    elapsed_s: float
    eta_s: float | None
    rate_flops_per_s: float
    iteration: int | None = None
    residual: float | None = None
    stage: str | None = None


class _SupportsIsSet(Protocol):
    def is_set(self) -> bool: ...


class CancelToken:
    """Cooperative cancel flag that a solve checks between steps.

    By default it wraps a ``threading.Event``. Pass any object with
    ``is_set()`` and ``set()``, such as a ``multiprocessing.Event``, to cancel a
    solve running in another process.
    """

    def __init__(self, event: _SupportsIsSet | None = None) -> None:
        self._event = event if event is not None else threading.Event()

    def cancel(self) -> None:
        """Ask the solve to stop at its next check."""
        self._event.set()

    @property
    def is_cancelled(self) -> bool:
        """True once ``cancel()`` was called."""
        return bool(self._event.is_set())

    def is_set(self) -> bool:
        """Return ``is_cancelled``, so a token can stand where an event is expected."""
        return self.is_cancelled


ProgressCallback = Callable[[Progress], None]

_process: psutil.Process | None = None


def _current_process() -> psutil.Process:
    """Return a cached `psutil.Process` of this process; building one reads /proc, which small solves notice."""
    global _process
    if _process is None or _process.pid != os.getpid():
        _process = psutil.Process()
    return _process


class ProgressReporter:
    """Throttles progress reports, checks cancellation and samples memory.

    ``peak_memory_bytes`` is the largest resident set size above the value at
    construction, sampled at each ``update``. NOTE: allocations that live only
    inside one BLAS or SuperLU call are not seen by this sampling.
    """

    def __init__(
        self,
        callback: ProgressCallback | None,
        cancel: _SupportsIsSet | None,
        flops_total: float,
    ) -> None:
        self._callback = callback
        self._cancel = cancel
        self.flops_total = float(flops_total)
        self._process = _current_process()
        self._baseline_rss = self._process.memory_info().rss
        self.peak_memory_bytes = 0
        self._start = time.perf_counter()
        self._last_time = -math.inf
        self._last_fraction = 0.0
        self._fraction = 0.0
        self._last_memory_time = self._start  # the baseline was sampled just now

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self._start

    def check_cancel(self) -> None:
        """Raise ``SolveCancelledError`` if the cancel token is set."""
        if self._cancel is not None and self._cancel.is_set():
            raise SolveCancelledError(
                f"solve cancelled after {self.elapsed_s:.3f} s at {self._fraction:.1%} of the work"
            )

    def sample_memory(self) -> None:
        """Record the current resident set size above the baseline."""
        rss = self._process.memory_info().rss - self._baseline_rss
        self.peak_memory_bytes = max(self.peak_memory_bytes, rss)

    def start(self, stage: str | None = None) -> None:
        """Send the 0 report."""
        self._emit(0.0, 0.0, stage=stage, iteration=None, residual=None)

    def update(
        self,
        fraction: float,
        flops_done: float | None = None,
        *,
        stage: str | None = None,
        iteration: int | None = None,
        residual: float | None = None,
        force: bool = False,
    ) -> None:
        """Check cancellation, then report ``fraction`` if the throttle allows.

        ``fraction`` is clamped below 1 and to the largest value seen so far,
        because only ``finish`` may report 1.0.
        """
        self.check_cancel()
        fraction = min(max(fraction, self._fraction), math.nextafter(1.0, 0.0))
        self._fraction = fraction
        now = time.perf_counter()
        if now - self._last_memory_time >= 0.05:
            self._last_memory_time = now
            self.sample_memory()
        step_ok = fraction - self._last_fraction >= MIN_FRACTION_STEP
        time_ok = now - self._last_time >= MIN_INTERVAL_S
        if not (force or (step_ok and time_ok)):
            return
        if flops_done is None:
            flops_done = fraction * self.flops_total
        self._emit(fraction, flops_done, stage=stage, iteration=iteration, residual=residual)

    def finish(
        self,
        flops_done: float,
        *,
        iteration: int | None = None,
        residual: float | None = None,
    ) -> None:
        """Send the 1.0 report."""
        self.sample_memory()
        self.flops_total = max(self.flops_total, flops_done)
        self._fraction = 1.0
        self._emit(1.0, flops_done, stage="done", iteration=iteration, residual=residual)

    def _emit(
        self,
        fraction: float,
        flops_done: float,
        *,
        stage: str | None,
        iteration: int | None,
        residual: float | None,
    ) -> None:
        now = time.perf_counter()
        self._last_time = now
        self._last_fraction = fraction
        if self._callback is None:
            return
        elapsed = now - self._start
        rate = flops_done / elapsed if elapsed > 0 else 0.0
        eta = None
        if 0.0 < fraction < 1.0:
            eta = elapsed * (1.0 - fraction) / fraction
        elif fraction == 1.0:
            eta = 0.0
        report = Progress(
            fraction=fraction,
            flops_done=float(flops_done),
            flops_total=self.flops_total,
            elapsed_s=elapsed,
            eta_s=eta,
            rate_flops_per_s=rate,
            iteration=iteration,
            residual=residual,
            stage=stage,
        )
        self._callback(report)
