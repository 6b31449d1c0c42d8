"""The solve process: loads a task's input, solves it and reports over a pipe, one task after another.

It runs in a spawned child, so the worker's event loop keeps heartbeating
through an hour-long solve. A cancel can kill the child when a single LAPACK
or SuperLU call does not return, and the memory of one solve is freed when
the child exits.
Messages to the parent are tuples: ("progress", dict), ("completed", summary,
solution), ("failed", code, message, details), ("cancelled", elapsed_s).

A batch of small jobs arrives as ("batch", [job, ...]) and is answered with one
("batch", [outcome, ...]) message: each job is solved in turn and reports no
progress, so a 50 x 50 solve costs one pipe round trip per batch rather than
several per task.
"""

from __future__ import annotations

import ctypes
import io
import logging
import os
import signal
import time
from multiprocessing.connection import Connection

import numpy as np
import scipy.sparse
from threadpoolctl import threadpool_limits

from common.blobs import BlobNotFoundError, BlobStore
from schemas.events import BlobRef, InlineMatrix, ProblemInput, TaskSubmitted
from solver_worker.solver import (
    CancelToken, ConvergenceError, InputError, Limits, ProblemTooLargeError, Progress, SingularMatrixError,
    SolveCancelledError, generate, parse_matrix, parse_vector, solve,
)
from solver_worker.solver.errors import NotPositiveDefiniteError

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>


def serve(connection: Connection, cancel_event, blas_threads: int, nice: int = 0) -> None:
    """Child entry point: run the jobs that arrive on `connection` one by one until it sends None."""
    from common.log import configure_logging

    _die_with_parent()
    if nice > os.getpriority(os.PRIO_PROCESS, 0):
        os.setpriority(os.PRIO_PROCESS, 0, nice)  # raising the niceness needs no privilege
    connection.send(("ready",))  # NumPy and SciPy are imported by now
    configured = False
    while (job := connection.recv()) is not None:
        batch = job[1] if isinstance(job, tuple) and job[0] == "batch" else None
        if not configured:
            first = batch[0] if batch else job
            configure_logging(first["instance_id"], first["log_level"])
            configured = True
        if batch is not None:
            connection.send(("batch", run_batch(batch, CancelToken(cancel_event))))
            continue
        context = {"task_id": job["task_id"], "attempt": job["attempt"]}
        log.info("solve started with %d BLAS threads", blas_threads, extra=context)
        with threadpool_limits(limits=blas_threads):
            message = run_job(job, CancelToken(cancel_event),
                              lambda report: connection.send(("progress", _progress(report))))
        connection.send(message)
    connection.close()


def run_batch(jobs: list[dict], cancel: CancelToken) -> list[tuple]:
    """Run small jobs one after another on one BLAS thread and return their outcomes.

    One thread, because a small solve finishes sooner than a second BLAS thread starts helping.
    """
    started = time.perf_counter()
    results = []
    with threadpool_limits(limits=1):
        for job in jobs:
            outcome = run_job(job, cancel, None)
            results.append(outcome)
            log.debug("batch job ended: %s", outcome[0], extra={"task_id": job["task_id"], "attempt": job["attempt"]})
    log.info("solved a batch of %d small tasks in %.1f ms", len(jobs), (time.perf_counter() - started) * 1000)
    return results


def _die_with_parent() -> None:
    """Ask Linux to kill this process when the worker dies, so a kill -9 of the worker stops its solve too."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        log.warning("cannot set the parent-death signal; a solve may outlive a killed worker")


def run_job(job: dict, cancel: CancelToken, on_progress) -> tuple:
    """Run one job and return the outcome message; an error while loading or solving becomes ("failed", ...)."""
    started = time.perf_counter()
    submitted = TaskSubmitted.model_validate(job["payload"])
    limits = Limits(**job["limits"])
    store = BlobStore(job["blob_dir"])
    try:
        matrix, rhs = load_problem(submitted.input, store, limits)
        loaded = time.perf_counter()
        options = submitted.options
        result = solve(matrix, rhs, submitted.method, progress=on_progress, cancel=cancel, tol=options.tol,
                       max_iter=options.max_iter, preconditioner=options.preconditioner, limits=limits)
        solved = time.perf_counter()
        solution = store_solution(result.x, store, job["inline_solution_max_values"])
    except SolveCancelledError:
        return ("cancelled", time.perf_counter() - started)
    except Exception as error:  # noqa: BLE001 - every error becomes a TaskFailed the user can read
        code, message, details = describe_failure(error)
        if code == "worker_error":
            log.exception("solve failed unexpectedly", extra={"task_id": job["task_id"]})
        return ("failed", code, message, details)
    finished = time.perf_counter()
    summary = result.to_dict()
    summary["complexity"] = {"summary": summary.pop("complexity"), **summary.pop("complexity_detail")}
    summary["timings"] = {"load_s": loaded - started, "solve_s": solved - loaded, "store_s": finished - solved,
                          "total_s": finished - started}
    summary["residual_history"] = _thin(summary.get("residual_history") or [])
    summary = {key: summary[key] for key in SUMMARY_FIELDS if key in summary}
    return ("completed", summary, solution.model_dump(mode="json"))


MAX_HISTORY = 500
SUMMARY_FIELDS = ("method", "method_reason", "relative_residual", "residual_norm", "condition_estimate", "rank",
                  "iterations", "residual_history", "warnings", "flops", "elapsed_s", "gflops",
                  "peak_memory_bytes", "complexity", "timings")


def load_problem(problem: ProblemInput, store: BlobStore, limits: Limits):
    """Return (A, b) from inline values, blobs or a generator spec."""
    if problem.kind == "generated":
        return generate(problem.generator, limits=limits)
    matrix = _load_part(problem.a, store, limits, name="A", vector=False)
    rhs = _load_part(problem.b, store, limits, name="b", vector=True)
    return matrix, rhs


def _load_part(part: InlineMatrix | BlobRef, store: BlobStore, limits: Limits, *, name: str, vector: bool):
    if isinstance(part, BlobRef):
        data = store.get(part.sha256)
        return (parse_vector if vector else parse_matrix)(data, part.format, name=name, limits=limits)
    if part.format == "coo":
        return scipy.sparse.csr_array((np.asarray(part.values, dtype=np.float64), (part.rows, part.cols)),
                                      shape=part.shape)
    return np.asarray(part.values, dtype=np.float64)


def store_solution(x: np.ndarray, store: BlobStore, inline_max_values: int) -> InlineMatrix | BlobRef:
    if x.size <= inline_max_values:
        return InlineMatrix(format="dense", shape=(int(x.size),), values=x.tolist())
    buffer = io.BytesIO()
    np.save(buffer, x, allow_pickle=False)
    stored = store.put(buffer.getvalue())
    return BlobRef(sha256=stored.sha256, size=stored.size, format="npy")


def _with_advice(message: str, advice: str) -> str:
    """Append `advice` unless the solver's message already names a method to use."""
    return message if "method" in message else f"{message}; {advice}"


def describe_failure(error: Exception) -> tuple[str, str, dict]:
    """Return (code, message a user can act on, details) for an error of the solve."""
    if isinstance(error, ProblemTooLargeError):
        return "problem_too_large", error.message, error.to_dict()
    if isinstance(error, NotPositiveDefiniteError):
        return ("not_positive_definite", _with_advice(error.message, "use method 'lu' or 'auto' for a matrix that "
                "is not symmetric positive definite"), error.to_dict())
    if isinstance(error, InputError):
        return "invalid_input", error.message, error.to_dict()
    if isinstance(error, SingularMatrixError):
        return ("singular_matrix", _with_advice(error.message, "check A for dependent rows or columns, or use "
                "method 'lstsq' for a least-squares solution"), {"pivot": error.pivot, "rcond": error.rcond})
    if isinstance(error, ConvergenceError):
        return ("not_converged", _with_advice(error.message, "raise max_iter, loosen tol, add a preconditioner or "
                "use a direct method"), {"iterations": error.iterations, "residual": error.residual, "tol": error.tol})
    if isinstance(error, MemoryError):
        return ("out_of_memory", "the worker ran out of memory for this problem; submit a smaller system or a "
                "sparse format", {})
    if isinstance(error, BlobNotFoundError):
        return "input_missing", f"{error}; submit the task again", {}
    return ("worker_error", f"the solver failed unexpectedly ({type(error).__name__}: {error}); submit again, and "
            "report it if it repeats", {"type": type(error).__name__})


def _thin(history: list[float], keep: int = MAX_HISTORY) -> list[float]:
    """Keep at most about `keep` residuals, evenly spaced, always with the last, so the event stays small."""
    if len(history) <= keep:
        return list(history)
    step = -(-len(history) // keep)
    return list(history[::step]) + ([history[-1]] if (len(history) - 1) % step else [])


def _progress(report: Progress) -> dict:
    return {"fraction": report.fraction, "flops_done": report.flops_done, "flops_total": report.flops_total,
            "elapsed_s": report.elapsed_s, "eta_s": report.eta_s, "rate_flops_per_s": report.rate_flops_per_s,
            "iteration": report.iteration, "residual": report.residual, "phase": report.stage}
