"""Generate the JSON Schema files and the AsyncAPI document from the event models.

`python -m schemas.generate` rewrites `schemas/jsonschema/*.json` and
`schemas/asyncapi.yaml`. `python -m schemas.generate --check` writes nothing
and exits 1 when a committed file differs from what the models give. Teams
that integrate other systems rely on those files without reading Python.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, create_model

from common.settings import ServiceSettings
from schemas.events import (
    CURRENT_SCHEMA_VERSION, EVENT_TYPE_HEADER, PAYLOAD_TYPES, SCHEMA_VERSION_HEADER, Envelope, Frozen,
)

SCHEMAS_DIR = Path(__file__).resolve().parent
JSONSCHEMA_DIR = SCHEMAS_DIR / "jsonschema"
ASYNCAPI_PATH = SCHEMAS_DIR / "asyncapi.yaml"
SCHEMA_ID_BASE = "https://solve-complex-task.invalid/schemas/"


def typed_envelope_model(event_type: str) -> type[BaseModel]:
    """Build the envelope model whose `payload` is the model of `event_type`."""
    payload_model = PAYLOAD_TYPES[event_type]
    fields: dict[str, Any] = {}
    for name, info in Envelope.model_fields.items():
        fields[name] = (info.annotation, info)
    fields["event_type"] = (Literal[event_type], Field(description="Also sent as the Kafka header event_type."))
    fields["schema_version"] = (int, Field(CURRENT_SCHEMA_VERSION, ge=1, le=CURRENT_SCHEMA_VERSION))
    fields["payload"] = (payload_model, ...)
    return create_model(f"{event_type}Event", __base__=Frozen, __doc__=payload_model.__doc__ or None, **fields)


def event_schema(event_type: str) -> dict:
    schema = typed_envelope_model(event_type).model_json_schema(mode="serialization")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "$id": f"{SCHEMA_ID_BASE}{event_type}.json", **schema}
    return schema


def json_schema_files() -> dict[str, str]:
    """Return file name -> content of every JSON Schema file."""
    files = {}
    for event_type in sorted(PAYLOAD_TYPES):
        files[f"{event_type}.json"] = json.dumps(event_schema(event_type), indent=2, sort_keys=True) + "\n"
    return files


def default_topics() -> dict[str, str]:
    """Return the default topic names, ignoring the environment, so the output is reproducible."""
    fields = ServiceSettings.model_fields
    return {name: fields[name].default for name in ("topic_task_events", "topic_task_progress", "topic_dead_letter")}


def asyncapi_document(topics: dict[str, str]) -> dict:
    """Build the AsyncAPI 3.0 document of the topics, keys, headers and payloads."""
    headers = {
        "type": "object",
        "required": [EVENT_TYPE_HEADER, SCHEMA_VERSION_HEADER],
        "properties": {
            EVENT_TYPE_HEADER: {"type": "string", "enum": sorted(PAYLOAD_TYPES),
                                "description": "Lets a consumer skip a record without decoding it."},
            SCHEMA_VERSION_HEADER: {"type": "string", "description": "Payload schema version, decimal."},
        },
    }
    messages = {}
    for event_type in sorted(PAYLOAD_TYPES):
        messages[event_type] = {
            "name": event_type,
            "title": event_type,
            "summary": (PAYLOAD_TYPES[event_type].__doc__ or event_type).strip().splitlines()[0],
            "contentType": "application/json",
            "headers": headers,
            "payload": {"$ref": f"./jsonschema/{event_type}.json"},
            "bindings": {"kafka": {"key": {"type": "string", "format": "uuid",
                                           "description": "task_id: every event of a task is in one partition."}}},
        }
    messages["DeadLetter"] = {
        "name": "DeadLetter",
        "title": "DeadLetter",
        "summary": "A task-events record that could not be decoded, copied byte for byte.",
        "contentType": "application/octet-stream",
        "headers": {"type": "object", "properties": {
            "dlq_topic": {"type": "string"}, "dlq_partition": {"type": "string"},
            "dlq_offset": {"type": "string"}, "dlq_error": {"type": "string"},
            "dlq_worker": {"type": "string"}}},
        "payload": {"type": "string", "description": "The original record value."},
        "bindings": {"kafka": {"key": {"type": "string", "description": "The original key, if any."}}},
    }

    def refs(names):
        return {name: {"$ref": f"#/components/messages/{name}"} for name in names}

    events = [name for name, model in sorted(PAYLOAD_TYPES.items()) if model.topic_kind == "events"]
    progress = [name for name, model in sorted(PAYLOAD_TYPES.items()) if model.topic_kind == "progress"]
    channels = {
        "taskEvents": {
            "address": topics["topic_task_events"],
            "description": "Every fact about a task, keyed by task_id, kept forever; replaying it from "
                           "offset 0 rebuilds every read model. Events of an attempt lower than the task's "
                           "latest attempt (raised by TaskRequeued) are superseded and must be ignored.",
            "messages": refs(events),
        },
        "taskProgress": {
            "address": topics["topic_task_progress"],
            "description": "Progress telemetry and worker heartbeats, keyed by task_id, kept for hours.",
            "messages": refs(progress),
        },
        "deadLetter": {
            "address": topics["topic_dead_letter"],
            "description": "task-events records that a worker could not decode.",
            "messages": refs(["DeadLetter"]),
        },
    }
    operations = {
        "receiveTaskEvents": {"action": "receive", "channel": {"$ref": "#/channels/taskEvents"}},
        "receiveTaskProgress": {"action": "receive", "channel": {"$ref": "#/channels/taskProgress"}},
        "receiveDeadLetters": {"action": "receive", "channel": {"$ref": "#/channels/deadLetter"}},
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Solve Complex Task events",
            "version": f"{CURRENT_SCHEMA_VERSION}.0.0",
            "description": "Records are UTF-8 JSON envelopes. Topic names are the defaults; deployments "
                           "may rename them through TOPIC_TASK_EVENTS, TOPIC_TASK_PROGRESS and "
                           "TOPIC_DEAD_LETTER.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def asyncapi_text() -> str:
    header = "# Generated by `python -m schemas.generate` from schemas/events.py; do not edit by hand.\n"
    return header + yaml.safe_dump(asyncapi_document(default_topics()), sort_keys=False, width=100, allow_unicode=True)


def expected_files() -> dict[Path, str]:
    """Return path -> content of every generated file."""
    files = {JSONSCHEMA_DIR / name: text for name, text in json_schema_files().items()}
    files[ASYNCAPI_PATH] = asyncapi_text()
    return files


def drifted_files() -> list[str]:
    """Return the generated files that are missing, stale or unexpected on disk."""
    expected = expected_files()
    drifted = [str(path) for path, text in expected.items() if not path.exists() or path.read_text() != text]
    drifted += [str(path) for path in JSONSCHEMA_DIR.glob("*.json") if path not in expected]
    return sorted(drifted)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed file differs; write nothing")
    args = parser.parse_args()
    if args.check:
        drifted = drifted_files()
        for path in drifted:
            print(f"out of date: {path}; run `python -m schemas.generate`", file=sys.stderr)
        return 1 if drifted else 0
    JSONSCHEMA_DIR.mkdir(exist_ok=True)
    for path in JSONSCHEMA_DIR.glob("*.json"):
        path.unlink()
    for path, text in expected_files().items():
        path.write_text(text)
        print(f"wrote {path.relative_to(SCHEMAS_DIR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
