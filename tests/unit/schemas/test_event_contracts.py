"""Event contracts: encoding, golden version-1 events, upcasting and the generated schema files."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from pydantic import ValidationError

from schemas import events
from schemas.events import (
    EVENT_TYPE_HEADER, PAYLOAD_TYPES, Producer, TaskRequeued, TaskSubmitted, UnknownEventError, decode,
    decode_typed, encode, format_consistency_token, make_event, parse_consistency_token, topic_for,
)
from schemas.generate import drifted_files, typed_envelope_model
from schemas.problem import GeneratorSpec

GOLDEN_V1 = Path(events.__file__).resolve().parent / "golden" / "v1"
PRODUCER = Producer(service="tests", instance="unit")


def golden_files() -> list[Path]:
    return sorted(GOLDEN_V1.glob("*.json"))


@pytest.mark.parametrize("path", golden_files(), ids=lambda path: path.stem)
def test_golden_v1_event_decodes(path: Path):
    envelope, payload = decode_typed(path.read_bytes())

    assert envelope.event_type == path.stem.rsplit("-", 1)[0]
    assert isinstance(payload, PAYLOAD_TYPES[envelope.event_type])
    assert envelope.schema_version == events.CURRENT_SCHEMA_VERSION


def test_golden_v1_covers_every_event_type():
    covered = {path.stem.rsplit("-", 1)[0] for path in golden_files()}

    assert covered == set(PAYLOAD_TYPES)


def test_golden_v1_validates_against_generated_model():
    for path in golden_files():
        raw = json.loads(path.read_text())
        typed_envelope_model(raw["event_type"]).model_validate(raw)


def test_committed_schema_files_match_models():
    assert drifted_files() == []


def test_encode_sets_key_and_headers():
    task_id = uuid.uuid4()
    event = make_event(TaskRequeued(previous_attempt=1, reason="lease expired"), task_id=task_id, user_id=None,
                       attempt=2, producer=PRODUCER)

    key, value, headers = encode(event)

    assert key == str(task_id).encode()
    assert dict(headers)[EVENT_TYPE_HEADER] == b"TaskRequeued"
    assert dict(headers)["schema_version"] == b"1"
    assert decode(value) == event


def test_decode_rejects_unknown_event_type():
    event = make_event(TaskRequeued(previous_attempt=1, reason="x"), task_id=uuid.uuid4(), user_id=None,
                       attempt=2, producer=PRODUCER)
    value = event.model_copy(update={"event_type": "TaskExploded"}).model_dump_json().encode()

    with pytest.raises(UnknownEventError):
        decode_typed(value)


def test_decode_rejects_garbage_and_future_versions():
    with pytest.raises(ValidationError):
        decode(b"not json at all")
    raw = json.loads((GOLDEN_V1 / "TaskStarted-1.json").read_text())
    raw["schema_version"] = events.CURRENT_SCHEMA_VERSION + 1

    with pytest.raises(ValueError, match="newer than this code"):
        decode(json.dumps(raw).encode())


def test_decode_upcasts_old_payload(monkeypatch):
    # A hypothetical version 2 of TaskCancelled renames `reason` to `why`; the v1 golden event must still
    # reach consumers in the new shape.
    raw = json.loads((GOLDEN_V1 / "TaskCancelled-1.json").read_text())
    monkeypatch.setattr(events, "CURRENT_SCHEMA_VERSION", 2)
    monkeypatch.setitem(events.UPCASTERS, ("TaskCancelled", 1),
                        lambda payload: {**{k: v for k, v in payload.items() if k != "reason"}, "why": payload["reason"]})

    envelope = decode(json.dumps(raw).encode())

    assert envelope.schema_version == 2
    assert envelope.payload["why"] == "requested by the owner"
    assert "reason" not in envelope.payload


def test_topic_for_routes_progress_and_events():
    class Topics:
        topic_task_events = "events-x"
        topic_task_progress = "progress-x"

    assert topic_for("TaskProgressed", Topics) == "progress-x"
    assert topic_for("WorkerHeartbeat", Topics) == "progress-x"
    assert topic_for("TaskSubmitted", Topics) == "events-x"
    with pytest.raises(UnknownEventError):
        topic_for("Nope", Topics)


def test_consistency_token_roundtrip():
    token = format_consistency_token("task-events", 3, 1042)

    assert parse_consistency_token(token) == ("task-events", 3, 1042)
    with pytest.raises(ValueError):
        parse_consistency_token("3-1042")


def test_submitted_payload_is_frozen_and_strict():
    payload = TaskSubmitted(method="auto", input={"kind": "generated", "generator": GeneratorSpec(kind="hilbert", n=5)},
                            rows=5, cols=5)

    with pytest.raises(ValidationError):
        payload.rows = 6
    with pytest.raises(ValidationError):
        TaskSubmitted(method="auto", input={"kind": "generated"}, rows=5, cols=5, unknown_field=1)
