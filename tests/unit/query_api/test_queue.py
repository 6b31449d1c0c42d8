"""Queue start estimate from running ETAs."""

from query_api.queue import predict_start


def test_idle_worker_starts_next_task_now():
    assert predict_start(0, [], workers=1, mean_duration_s=None) == 0.0


def test_next_task_waits_for_earliest_eta():
    assert predict_start(0, [30.0, 5.0], workers=2, mean_duration_s=10.0) == 5.0


def test_tasks_ahead_take_mean_duration():
    # Worker A is free at 5 s, B at 30 s; two tasks ahead go to A (5..15, 15..25), ours starts at 25 s.
    assert predict_start(2, [30.0, 5.0], workers=2, mean_duration_s=10.0) == 25.0


def test_extra_idle_workers_count():
    assert predict_start(1, [30.0], workers=3, mean_duration_s=10.0) == 0.0


def test_unknown_eta_gives_no_estimate():
    assert predict_start(0, [None], workers=1, mean_duration_s=10.0) is None


def test_tasks_ahead_without_mean_duration():
    assert predict_start(3, [], workers=1, mean_duration_s=None) is None
