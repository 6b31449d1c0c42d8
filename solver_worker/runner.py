"""Parent side of the solve process: a warm spawned child, its pipe, cancel and kill."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import time

from solver_worker.child import serve

log = logging.getLogger(__name__)

# Spawn, not fork: the parent runs an event loop and aiokafka's threads, which a fork would copy half-alive.
_CONTEXT = multiprocessing.get_context("spawn")


class SolveProcess:
    """A child process that runs jobs one at a time, up to `max_jobs` before it is replaced.

    It is started before a task is claimed and reused for the next ones, so the
    seconds NumPy and SciPy take to import are not spent on a task's clock. A
    killed process (after a cancel, a hand-back or a superseded attempt) is not reused.
    """

    def __init__(self, blas_threads: int, max_jobs: int = 1, nice: int = 0) -> None:
        self._parent, child = _CONTEXT.Pipe(duplex=True)
        self._cancel = _CONTEXT.Event()
        self._process = _CONTEXT.Process(target=serve, args=(child, self._cancel, blas_threads, nice),
                                         name="solve", daemon=True)
        self._process.start()
        child.close()
        self.max_jobs = max_jobs
        self.jobs_started = 0
        self.killed = False
        self.ready = False
        self.cancel_requested_at: float | None = None

    @property
    def reusable(self) -> bool:
        """True when the process is alive, was never killed and has jobs left."""
        return not self.killed and self.jobs_started < self.max_jobs and self._process.is_alive()

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def start(self, job: dict) -> None:
        self._cancel.clear()
        self.cancel_requested_at = None
        self.jobs_started += 1
        self._parent.send(job)

    def start_batch(self, jobs: list[dict]) -> None:
        """Send small jobs that the child runs in turn; `messages()` then yields one ("batch", results) message.

        Batches do not count towards `max_jobs`: small solves leave little memory behind, and replacing the
        process costs the seconds of a fresh import, which would delay the next claims.
        """
        self._cancel.clear()
        self.cancel_requested_at = None
        self._parent.send(("batch", jobs))

    def cancel(self) -> None:
        """Ask the solve to stop at its next check (within milliseconds for the blocked and iterative solvers)."""
        if self.cancel_requested_at is None:
            self.cancel_requested_at = time.monotonic()
            self._cancel.set()

    def kill(self) -> None:
        self.killed = True
        if self._process.is_alive():
            self._process.kill()

    async def wait_ready(self, timeout_s: float = 60.0) -> bool:
        """Wait until the child has imported its libraries; return False if it died or timed out first."""
        deadline = time.monotonic() + timeout_s
        while not self.ready and time.monotonic() < deadline and self._process.is_alive():
            try:
                if await asyncio.to_thread(self._parent.poll, 0.05):
                    self._receive()
            except (EOFError, OSError):
                break  # the child died while starting; the next job's messages report it
        return self.ready

    def _receive(self):
        """Return the next message of the child that is not its ("ready",) message, or None after that one."""
        message = self._parent.recv()
        if message[0] == "ready":
            self.ready = True
            return None
        return message

    async def messages(self, poll_s: float = 0.05):
        """Yield messages until the outcome; yield ("died", exitcode) if the process ends without one."""
        while True:
            if await asyncio.to_thread(self._parent.poll, poll_s):
                try:
                    message = self._receive()
                except (EOFError, OSError):
                    break  # the child closed its end: it exited or was killed
                if message is None:
                    continue
                yield message
                if message[0] != "progress":
                    return
            elif not self._process.is_alive():
                break
        await asyncio.to_thread(self._process.join, 5)
        yield ("died", self._process.exitcode)

    async def close(self, *, busy: bool = False) -> None:
        """Stop the process: tell an idle one to exit, kill a busy one, and reap it."""
        if self._process.is_alive() and not busy:
            try:
                self._parent.send(None)
            except (BrokenPipeError, OSError):
                pass
            await asyncio.to_thread(self._process.join, 2)
        self.kill()
        await asyncio.to_thread(self._process.join, 5)
        self._parent.close()
