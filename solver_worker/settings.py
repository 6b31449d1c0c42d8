"""Settings of a solver worker process."""

from __future__ import annotations

import os

from pydantic import Field

from common.settings import ServiceSettings


class SolverWorkerSettings(ServiceSettings):
    worker_number: int = Field(1, ge=1, description="1-based number of this worker on its machine.")
    worker_health_host: str = "127.0.0.1"
    worker_health_port_base: int = Field(8300, description="Worker N serves /healthz on base + N.")
    consumer_group: str = Field("solver-workers", description="Group whose committed offsets all workers share.")

    worker_nice: int = Field(
        -5, ge=-20, le=19, description="Niceness added to the worker process. Below 0, claims and heartbeats run "
        "ahead of background services on a shared machine; that needs root or CAP_SYS_NICE.")
    solver_workers: int = Field(1, ge=1, description="Worker processes on this machine; divides the BLAS threads.")
    blas_threads: int = Field(
        0, ge=0, description="BLAS threads of one solve; 0 means CPU cores / SOLVER_WORKERS, at least 1.")
    lease_s: float = Field(30.0, gt=1, description="A claimed task is requeued this long after the last heartbeat.")
    heartbeat_interval_s: float = Field(5.0, gt=0, description="How often a busy worker renews its lease.")
    progress_interval_s: float = Field(0.5, gt=0, description="Minimum seconds between two TaskProgressed events.")
    cancel_grace_s: float = Field(
        1.0, ge=0, description="After a cancel, the solve process is killed if it has not stopped by then.")
    solve_nice: int = Field(
        10, ge=0, le=19, description="Niceness of the solve process, at least the worker's: above 0, a busy solve "
        "yields the CPU to the event loops, so heartbeats, claims and progress stay prompt on a machine with few "
        "cores.")
    jobs_per_solve_process: int = Field(
        50, ge=1, description="Tasks one solve process runs before a fresh one replaces it.")
    batch_max_tasks: int = Field(
        64, ge=1, description="Most small tasks claimed with one round trip to the broker and solved as one batch; "
        "1 claims every task alone.")
    batch_max_entries: int = Field(
        40_000, ge=1, description="A dense A with at most this many entries (200 x 200) is a small task that may "
        "share a batch; sparse tasks and iterative methods are never batched.")
    max_attempts: int = Field(3, ge=1, description="A task whose lease expires this often fails as worker_lost.")
    shutdown_finish_s: float = Field(
        10.0, ge=0, description="On SIGTERM, a solve whose ETA is shorter is finished; longer ones are handed back.")
    inline_solution_max_values: int = Field(
        4096, ge=0, description="Longer solutions go to the blob store instead of the TaskCompleted event.")
    max_rows: int = Field(5_000_000, ge=1, description="Largest number of rows (and unknowns) of A.")
    max_nnz: int = Field(20_000_000, ge=1, description="Most stored entries of a sparse A.")
    max_dense_bytes: int = Field(20_000 * 20_000 * 8, ge=1, description="Largest dense A in bytes (float64).")

    @property
    def health_port(self) -> int:
        return self.worker_health_port_base + self.worker_number

    @property
    def effective_blas_threads(self) -> int:
        if self.blas_threads > 0:
            return self.blas_threads
        return max(1, (os.cpu_count() or 1) // self.solver_workers)
