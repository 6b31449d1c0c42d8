"""Process priorities: the settings' bounds and a niceness change the process may not make."""

import logging

import pytest
from pydantic import ValidationError

from common import service
from projector.settings import ProjectorSettings
from query_api.settings import QueryApiSettings
from solver_worker.settings import SolverWorkerSettings


@pytest.mark.parametrize(("settings", "variable", "value"), [
    (SolverWorkerSettings, "WORKER_NICE", "-21"),
    (SolverWorkerSettings, "SOLVE_NICE", "20"),
    (SolverWorkerSettings, "SOLVE_NICE", "-1"),
    (QueryApiSettings, "QUERY_API_NICE", "20"),
    (ProjectorSettings, "PROJECTOR_NICE", "high"),
])
def test_niceness_out_of_range_rejected(monkeypatch, settings, variable, value):
    monkeypatch.setenv(variable, value)

    with pytest.raises(ValidationError, match=variable.lower()):
        settings()


def test_denied_niceness_logs_setting(monkeypatch, caplog):
    def deny(increment):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(service.os, "nice", deny)
    with caplog.at_level(logging.WARNING, logger="common.service"):
        service.change_niceness(-5, "WORKER_NICE")

    assert "could not change the niceness by -5" in caplog.text
    assert "set WORKER_NICE=0" in caplog.text


def test_zero_niceness_changes_nothing(monkeypatch):
    def fail(increment):
        raise AssertionError("os.nice called for an increment of 0")

    monkeypatch.setattr(service.os, "nice", fail)

    service.change_niceness(0, "WORKER_NICE")
