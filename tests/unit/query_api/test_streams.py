"""Stream bookkeeping: resume cursor, fencing and monotonic progress."""

import uuid

from query_api.live import EVENTS, PROGRESS, LiveMessage
from query_api.reads import decode_cursor, encode_cursor
from query_api.streams import StreamState, parse_cursor

TASK_ID = uuid.uuid4()


def progress(offset: int, fraction: float, attempt: int = 1) -> LiveMessage:
    return LiveMessage("progress", TASK_ID, attempt, PROGRESS, offset, {"fraction": fraction})


def status(offset: int, value: str, attempt: int = 1) -> LiveMessage:
    return LiveMessage("status", TASK_ID, attempt, EVENTS, offset, {"status": value})


def test_event_id_round_trips():
    state = StreamState()
    state.accept(status(7, "running"))
    state.accept(progress(41, 0.5))

    assert state.event_id == "7.41"
    assert parse_cursor(state.event_id) == {EVENTS: 7, PROGRESS: 41}


def test_malformed_last_event_id_is_ignored():
    assert parse_cursor("abc") is None
    assert parse_cursor(None) is None


def test_repeated_offset_is_not_resent():
    state = StreamState()

    assert state.accept(progress(5, 0.1)) is True
    assert state.accept(progress(5, 0.1)) is False


def test_lower_progress_is_dropped():
    state = StreamState()
    state.accept(progress(5, 0.5))

    assert state.accept(progress(6, 0.4)) is False
    assert state.accept(progress(7, 0.6)) is True


def test_superseded_attempt_is_dropped():
    state = StreamState(attempt=2)

    assert state.accept(progress(5, 0.9, attempt=1)) is False
    assert state.accept(status(9, "completed", attempt=1)) is False
    assert state.finished is False


def test_new_attempt_resets_progress():
    state = StreamState()
    state.accept(progress(5, 0.8))
    state.accept(status(9, "queued", attempt=2))

    assert state.accept(progress(6, 0.1, attempt=2)) is True


def test_final_status_finishes():
    state = StreamState()
    state.accept(status(9, "completed"))

    assert state.finished is True


def test_history_cursor_round_trips():
    from datetime import UTC, datetime

    submitted_at = datetime(2026, 12, 4, 20, 41, 7, 120000, tzinfo=UTC)

    assert decode_cursor(encode_cursor(submitted_at, TASK_ID)) == (submitted_at, TASK_ID)
