"""Progress reports and cancellation."""

from __future__ import annotations

import json
import multiprocessing
import threading
import time

import numpy as np
import pytest

from solver_worker.solver import CancelToken, GeneratorSpec, SolveCancelledError, generate, solve
from solver_worker.solver import progress as progress_module


def _dense(n: int) -> tuple[np.ndarray, np.ndarray]:
    return generate(GeneratorSpec(kind="random_dense", n=n, seed=3))


@pytest.fixture
def unthrottled(monkeypatch):
    monkeypatch.setattr(progress_module, "MIN_INTERVAL_S", 0.0)


@pytest.mark.parametrize(
    ("method", "kind", "n"),
    [("lu", "random_dense", 400), ("cholesky", "random_spd", 400), ("splu", "poisson2d", 20),
     ("cg", "poisson2d", 20), ("gmres", "poisson2d", 20), ("bicgstab", "poisson2d", 20),
     ("lstsq", "random_dense", 50)],
)
def test_progress_monotone_zero_to_one(unthrottled, method, kind, n):
    matrix, rhs = generate(GeneratorSpec(kind=kind, n=n, seed=1))
    reports = []
    result = solve(matrix, rhs, method=method, progress=reports.append, block_size=32)
    fractions = [report.fraction for report in reports]

    assert fractions[0] == 0.0
    assert fractions[-1] == 1.0
    assert fractions.count(1.0) == 1
    assert all(later >= earlier for earlier, later in zip(fractions, fractions[1:], strict=False))
    assert reports[-1].flops_done == result.flops
    assert reports[-1].eta_s == 0.0


def test_progress_steps_at_least_one_percent(unthrottled):
    matrix, rhs = _dense(600)
    reports = []
    solve(matrix, rhs, method="lu", progress=reports.append, block_size=8)
    steps = np.diff([report.fraction for report in reports[:-1]])

    assert len(reports) > 10
    assert np.all(steps >= progress_module.MIN_FRACTION_STEP)


def test_progress_throttled_by_time():
    matrix, rhs = _dense(300)
    reports = []
    start = time.perf_counter()
    solve(matrix, rhs, method="lu", progress=reports.append, block_size=4)
    elapsed = time.perf_counter() - start
    assert len(reports) <= 2 + elapsed / progress_module.MIN_INTERVAL_S


def test_progress_lu_flops_front_loaded(unthrottled):
    matrix, rhs = _dense(512)
    reports = []
    solve(matrix, rhs, method="lu", progress=reports.append, block_size=64)
    first_panel = next(report for report in reports if report.fraction > 0)
    assert first_panel.fraction > 1.5 / 8


def test_progress_iterative_reports_residual(unthrottled):
    matrix, rhs = generate(GeneratorSpec(kind="poisson2d", n=20))
    reports = []
    result = solve(matrix, rhs, method="cg", progress=reports.append)
    middle = [report for report in reports if 0 < report.fraction < 1]

    assert middle
    assert all(report.iteration is not None and report.residual is not None for report in middle)
    assert result.residual_history[-1] <= 1e-10
    assert result.iterations == len(result.residual_history)


def test_cancel_before_start_raises():
    matrix, rhs = _dense(50)
    token = CancelToken()
    token.cancel()
    with pytest.raises(SolveCancelledError):
        solve(matrix, rhs, cancel=token)


def test_cancel_from_progress_callback_stops_lu(unthrottled):
    matrix, rhs = _dense(400)
    token = CancelToken()
    reports = []

    def on_progress(report):
        reports.append(report)
        if report.fraction > 0:
            token.cancel()

    with pytest.raises(SolveCancelledError):
        solve(matrix, rhs, method="lu", progress=on_progress, cancel=token, block_size=16)
    assert len(reports) == 2
    assert token.is_cancelled


@pytest.mark.parametrize("method", ["cg", "gmres", "bicgstab"])
def test_cancel_iterative_each_iteration(method):
    matrix, rhs = generate(GeneratorSpec(kind="poisson2d", n=30))
    token = CancelToken()
    seen = []

    def on_progress(report):
        seen.append(report)
        token.cancel()

    with pytest.raises(SolveCancelledError):
        solve(matrix, rhs, method=method, progress=on_progress, cancel=token)
    assert len(seen) == 1


def test_cancel_from_thread_stops_solve():
    """A cancel from another thread stops the factorization between panels.

    How fast it stops is measured by benchmarks/solver_dense_lu.py, not here.
    """
    matrix, rhs = _dense(2000)
    token = CancelToken()
    started = threading.Event()
    outcome = {}

    def run():
        try:
            outcome["result"] = solve(matrix, rhs, method="lu", cancel=token, block_size=256,
                                      progress=lambda report: started.set())
        except SolveCancelledError:
            outcome["cancelled"] = True

    worker = threading.Thread(target=run)
    worker.start()
    assert started.wait(timeout=30)
    token.cancel()
    worker.join(timeout=30)

    assert not worker.is_alive()
    assert outcome == {"cancelled": True}


def _set_after(event, delay_s):
    time.sleep(delay_s)
    event.set()


def test_cancel_token_across_processes():
    context = multiprocessing.get_context("spawn")
    event = context.Event()
    token = CancelToken(event)
    setter = context.Process(target=_set_after, args=(event, 0.0))
    setter.start()
    setter.join(timeout=30)
    matrix, rhs = _dense(50)

    assert token.is_cancelled
    with pytest.raises(SolveCancelledError):
        solve(matrix, rhs, cancel=token)


def test_cancel_accepts_plain_event():
    event = threading.Event()
    event.set()
    matrix, rhs = _dense(20)
    with pytest.raises(SolveCancelledError):
        solve(matrix, rhs, cancel=event)


def test_result_to_dict_is_json_without_x():
    matrix, rhs = _dense(30)
    data = solve(matrix, rhs).to_dict()
    assert "x" not in data
    assert data["complexity"] == "O(n^3)"
    assert data["complexity_detail"]["flops"] == "2/3 n^3 + 2 n^2"
    assert json.loads(json.dumps(data))["method"] == "lu"
